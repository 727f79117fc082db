"""Review of uncertain matches (steward queue and decisions) - see issue #6."""
