"""Settings read from the environment, and the offline-by-default switches (DESIGN.md invariant 6)."""

from __future__ import annotations

import os
from pathlib import Path

# Set before any dependency is imported: these libraries phone home or reach for a model hub
# on import or first use, and this product must run with no network at all.
OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "SCARF_NO_ANALYTICS": "true",
    "DO_NOT_TRACK": "true",
    "UNSTRUCTURED_DISABLE_NOTICE": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "TOKENIZERS_PARALLELISM": "false",
    # model loading draws progress bars on stderr; our own bars are the only ones users should see
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
}


def apply_offline_env() -> None:
    """Default the offline switches without overriding what the user set."""
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)


apply_offline_env()


def practice_home() -> Path:
    """Where the store and releases live: $PRACTICE_HOME, default ./.practice."""
    return Path(os.environ.get("PRACTICE_HOME", ".practice"))


def database_path(home: Path | None = None) -> Path:
    """The SQLite file of the store."""
    return (home or practice_home()) / "practice.sqlite3"
