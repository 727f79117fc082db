"""Survivorship: golden records, lineage, consent and the customer 360."""
