"""Survivorship: golden records, lineage and crosswalk."""
