"""Prefect settings that must be in the environment before `prefect` is imported."""

from __future__ import annotations

import os
from pathlib import Path

from pipeline.config import apply_offline_env, practice_home

apply_offline_env()
# Keep Prefect's ephemeral database beside our store unless the user points Prefect elsewhere.
os.environ.setdefault("PREFECT_HOME", str((practice_home() / "prefect").resolve()))
# The ephemeral server gives up after 20 s by default; on a loaded 2-core machine its start
# (migrations on a fresh database included) can take longer than that.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
# Prefect creates its home without parents and then cannot open its database: make it here.
Path(os.environ["PREFECT_HOME"]).expanduser().mkdir(parents=True, exist_ok=True)
