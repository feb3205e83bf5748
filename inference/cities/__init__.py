"""Coordinates -> country: CSV reading, prediction and the classify-cities CLI."""
