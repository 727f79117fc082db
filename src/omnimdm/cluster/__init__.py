"""Clustering of scored pairs into entities and golden ids."""
