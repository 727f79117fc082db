"""omnimdm: master-data management for omnichannel customer records.

Public API::

    import omnimdm
    config = omnimdm.load_config("configs/omnimdm.yaml")
    result = omnimdm.run(config)          # RunResult: run id, counts per stage, timings
    omnimdm.lookup("crm", "0035g00000AbCdEAAV", store=config)   # its golden record
    omnimdm.changes(since_run=result.run_id - 1, store=config)   # Arrow table
    omnimdm.forget(config, omnimdm.ForgetRequest(emails=("ana@example.com",)))  # erasure
"""

from omnimdm.config import Config, load_config
from omnimdm.erase.forget import ForgetResult, forget
from omnimdm.erase.plan import ForgetRequest
from omnimdm.errors import (
    ConfigError,
    ErasureError,
    LockError,
    OmnimdmError,
    SourceError,
    StageError,
    StoreError,
)
from omnimdm.evaluate import Metrics
from omnimdm.pipeline import STAGES, RunResult, TrainResult, run, train
from omnimdm.read import changes, events, golden, lookup, published_run
from omnimdm.store import Store, record_id

__version__ = "0.1.0"

__all__ = [
    "STAGES",
    "Config",
    "ConfigError",
    "ErasureError",
    "ForgetRequest",
    "ForgetResult",
    "LockError",
    "Metrics",
    "OmnimdmError",
    "RunResult",
    "SourceError",
    "StageError",
    "Store",
    "StoreError",
    "TrainResult",
    "__version__",
    "changes",
    "events",
    "forget",
    "golden",
    "load_config",
    "lookup",
    "published_run",
    "record_id",
    "run",
    "train",
]
