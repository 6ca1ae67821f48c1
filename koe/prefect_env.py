"""Prefect settings that koe needs on every machine, applied before Prefect is imported.

- Telemetry off: nothing leaves the machine. PREFECT_SERVER_ANALYTICS_ENABLED=false for the
  server; DO_NOT_TRACK=1 for Prefect's client-side SDK analytics, which Prefect 3.8 checks at
  import time (the `prefect` CLI and a worker's flow runs need it in their environment too: see
  README "Nightly schedule").
- The ephemeral server's first start on a new PREFECT_HOME runs database migrations for ~30 s
  on 2 cores, beyond Prefect's default 20 s startup timeout: allow 180 s.
- Hugging Face libraries stay offline: koe never downloads models at run time.
Values already set in the environment win.
"""

from __future__ import annotations

import os

DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TOKENIZERS_PARALLELISM": "false",
}


def configure_prefect() -> None:
    """Set koe's defaults for Prefect and Hugging Face (environment values win)."""
    for key, value in DEFAULTS.items():
        os.environ.setdefault(key, value)
