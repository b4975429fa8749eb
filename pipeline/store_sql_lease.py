"""The leases table in the SQL both databases share: one atomic statement per lease operation.

The writer lease lives in the store (not in a lock file) so that two runs on two machines sharing
one PostgreSQL database see each other.
"""

from __future__ import annotations

from typing import Any

from pipeline.store_base import Lease
from pipeline.store_sql import SQLBase

_COLUMNS = ("name", "holder", "host", "pid", "acquired_at", "expires_at")


def _lease(row: Any) -> Lease:
    return Lease(row["name"], row["holder"], row["host"], int(row["pid"]), float(row["acquired_at"]), float(row["expires_at"]))


def _values(lease: Lease) -> tuple[Any, ...]:
    return (lease.name, lease.holder, lease.host, lease.pid, lease.acquired_at, lease.expires_at)


class SQLLeaseMixin(SQLBase):
    """Acquire, take over, renew and release a named lease."""

    def acquire_lease(self, lease: Lease, now: float) -> Lease:
        updates = ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS if c != "name")
        with self._transaction():
            # One statement: the row is written only if the lease is free, expired or ours, so two
            # runs racing for it cannot both win (the database serialises the conflicting insert).
            self._exec(
                f"INSERT INTO leases ({', '.join(_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?) "
                f"ON CONFLICT(name) DO UPDATE SET {updates} "
                "WHERE leases.expires_at <= ? OR leases.holder = excluded.holder",
                (*_values(lease), now),
            )
            row = self._exec("SELECT * FROM leases WHERE name = ?", (lease.name,)).fetchone()
        return _lease(row)

    def take_over_lease(self, lease: Lease, stale_holder: str) -> bool:
        with self._transaction():
            cur = self._exec(
                "UPDATE leases SET holder = ?, host = ?, pid = ?, acquired_at = ?, expires_at = ? WHERE name = ? AND holder = ?",
                (*_values(lease)[1:], lease.name, stale_holder),
            )
            return bool(cur.rowcount == 1)

    def renew_lease(self, name: str, holder: str, expires_at: float) -> bool:
        with self._transaction():
            cur = self._exec("UPDATE leases SET expires_at = ? WHERE name = ? AND holder = ?", (expires_at, name, holder))
            return bool(cur.rowcount == 1)

    def release_lease(self, name: str, holder: str) -> bool:
        with self._transaction():
            return bool(self._exec("DELETE FROM leases WHERE name = ? AND holder = ?", (name, holder)).rowcount == 1)

    def current_lease(self, name: str) -> Lease | None:
        row = self._exec("SELECT * FROM leases WHERE name = ?", (name,)).fetchone()
        return _lease(row) if row else None
