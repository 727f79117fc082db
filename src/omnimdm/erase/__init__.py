"""Erasure (GDPR art. 17): ``omnimdm forget``, tombstones and suppression at ingest.

``forget.py`` carries out a request (plan, rebuild, publish, rewrite the file);
``plan.py`` resolves it into what it removes; ``identifiers.py`` normalizes identifiers
as the pipeline does; ``tombstones.py`` keeps what was forgotten as keyed HMACs and
suppresses it at ingest; ``keys.py`` holds the secret key, outside the store.
The public entry points (``omnimdm.forget``, ``omnimdm.ForgetRequest``) are exported by
the package root.
"""
