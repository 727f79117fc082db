"""Seeded synthetic omnichannel customer data (Spain and Mexico).

One population of persons in households is written as four real vendor exports (Salesforce
Contacts, Shopify customers, Square customers, Zendesk users) plus ``truth.csv``, with
source-specific noise controlled by a YAML noise profile.
"""

from omnimdm.synthetic.generator import (
    GENERATOR_VERSION,
    SOURCE_FILES,
    TRUTH_FILE,
    SynthResult,
    generate,
)
from omnimdm.synthetic.profile import NoiseProfile, load_noise_profile

__all__ = [
    "GENERATOR_VERSION",
    "SOURCE_FILES",
    "TRUTH_FILE",
    "NoiseProfile",
    "SynthResult",
    "generate",
    "load_noise_profile",
]
