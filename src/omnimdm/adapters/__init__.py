"""Source adapters: vendor presets and generic mappings -> text rows with rejects."""
