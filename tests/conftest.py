"""Shared test set-up: no network for any test, and the path of the real corpus."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

import pipeline.config  # noqa: F401  (sets the offline environment before anything else loads)

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _is_local(address: object) -> bool:
    if isinstance(address, (str, bytes)):  # AF_UNIX path
        return True
    host = str(address[0]) if isinstance(address, tuple) and address else ""
    return host in ("localhost", "::1", "0.0.0.0") or host.startswith("127.")


@pytest.fixture(autouse=True)
def _block_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse every connection that leaves this machine: the product must work offline."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def guarded_connect(self: socket.socket, address: object) -> object:
        if not _is_local(address):
            raise OSError(f"network blocked in tests: connect to {address!r}")
        return real_connect(self, address)

    def guarded_connect_ex(self: socket.socket, address: object) -> object:
        if not _is_local(address):
            raise OSError(f"network blocked in tests: connect to {address!r}")
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_connect_ex)


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The real corpus in ../shared/corpus (read only, never copied into the repo)."""
    if not CORPUS.is_dir():
        pytest.fail(f"the shared corpus is missing at {CORPUS}: integration tests need it")
    return CORPUS


@pytest.fixture(scope="session")
def fixtures() -> Path:
    """Small committed fixture files."""
    return FIXTURES
