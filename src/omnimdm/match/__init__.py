"""Matching: the Splink model definition, training, scoring."""
