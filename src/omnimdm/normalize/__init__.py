"""Normalization of names, emails, phones, dates and addresses into canonical records."""
