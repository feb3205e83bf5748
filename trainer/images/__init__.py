"""Trainer for the real vs AI-generated images classifier."""
