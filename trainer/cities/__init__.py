"""Coordinates -> country: data, model, training, study and the train-cities CLI."""
