"""The SQL behind artefacts, suggestions, the review log and users, shared by SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pipeline.models import Artefact, Candidate, ReviewEvent, utcnow
from pipeline.store_base import ArtefactConflict, ArtefactRetry, DuplicateUser
from pipeline.store_rows import artefact_values, event_values, row_to_event, user_row
from pipeline.store_sql import SQLBase, chunks, marks, where

# The audit log's filters (`Store.review_event_keys`): ISO 8601 times compare as text.
AUDIT_FILTERS = {
    "actor": "actor = ?", "action": "action = ?", "artefact_id": "artefact_id = ?",
    "at_from": "at >= ?", "at_to": "at < ?",
}  # fmt: skip


class SQLReviewMixin(ArtefactRetry, SQLBase):
    """Artefacts (versioned), possible duplicates, review events (append-only) and users."""

    # The backend's unique-violation exception(s), turned into DuplicateUser.
    _integrity_errors: tuple[type[Exception], ...] = ()

    def unassigned_candidates(self) -> list[Candidate]:
        rows = self._exec(
            "SELECT c.body FROM candidates c LEFT JOIN artefact_members m ON m.candidate_id = c.id "
            "WHERE m.artefact_id IS NULL ORDER BY c.created_at, c.id"
        ).fetchall()
        return [Candidate.model_validate_json(r[0]) for r in rows]

    def artefacts(self, kind: str | None = None, status: str | None = None) -> list[Artefact]:
        clause, args = where((("kind", kind), ("status", status)))
        rows = self._exec(f"SELECT body FROM artefacts {clause} ORDER BY id", args).fetchall()
        return [Artefact.model_validate_json(r[0]) for r in rows]

    def get_artefact(self, artefact_id: str) -> Artefact | None:
        row = self._exec("SELECT body FROM artefacts WHERE id = ?", (artefact_id,)).fetchone()
        return Artefact.model_validate_json(row[0]) if row else None

    def versioned_artefacts(self, ids: Iterable[str] | None = None) -> dict[str, tuple[Artefact, int]]:
        if ids is None:
            rows = self._exec("SELECT body, version FROM artefacts ORDER BY id").fetchall()
        else:
            rows = []
            for chunk in chunks(ids):
                sql = f"SELECT body, version FROM artefacts WHERE id IN ({marks(len(chunk))})"
                rows += self._exec(sql, chunk).fetchall()
        found = ((Artefact.model_validate_json(body), int(version)) for body, version in rows)
        return {a.id: (a, v) for a, v in found}

    def artefact_ids_for_sources(self, source_ids: Iterable[str]) -> list[str]:
        found: set[str] = set()
        for chunk in chunks(source_ids):
            rows = self._exec(
                "SELECT DISTINCT m.artefact_id FROM artefact_members m JOIN candidates c ON c.id = m.candidate_id "
                f"WHERE c.source_id IN ({marks(len(chunk))})",
                chunk,
            ).fetchall()
            found.update(r[0] for r in rows)
        return sorted(found)

    def save_artefacts(self, artefacts: Iterable[Artefact], expected_versions: Mapping[str, int] | None = None) -> list[str]:
        conflicts = []
        with self._transaction():
            for a in artefacts:
                row = artefact_values(a)
                if expected_versions is None:
                    self._exec(
                        "INSERT INTO artefacts (id, kind, status, updated_at, body) VALUES (?, ?, ?, ?, ?) "
                        "ON CONFLICT(id) DO UPDATE SET kind = excluded.kind, status = excluded.status, "
                        "updated_at = excluded.updated_at, body = excluded.body, version = artefacts.version + 1",
                        (a.id, *row),
                    )
                elif not self._compare_and_swap(a.id, row, expected_versions.get(a.id, 0)):
                    conflicts.append(a.id)
                    continue
                self._exec("DELETE FROM artefact_members WHERE artefact_id = ?", (a.id,))
                self._many(
                    "INSERT INTO artefact_members (candidate_id, artefact_id) VALUES (?, ?) "
                    "ON CONFLICT(candidate_id) DO UPDATE SET artefact_id = excluded.artefact_id",
                    [(cid, a.id) for cid in dict.fromkeys(a.candidate_ids)],
                )
        return conflicts

    def _compare_and_swap(self, artefact_id: str, row: tuple[str, str, str, str], expected: int) -> bool:
        """Write one artefact only over the version its writer read (0: only if it does not exist yet)."""
        if expected == 0:
            cur = self._exec(
                "INSERT INTO artefacts (id, kind, status, updated_at, body) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(id) DO NOTHING",
                (artefact_id, *row),
            )
        else:
            cur = self._exec(
                "UPDATE artefacts SET kind = ?, status = ?, updated_at = ?, body = ?, version = version + 1 "
                "WHERE id = ? AND version = ?",
                (*row, artefact_id, expected),
            )
        return bool(cur.rowcount == 1)

    def replace_suggestions(self, pairs: Iterable[tuple[str, str, float]]) -> None:
        with self._transaction():
            self._exec("DELETE FROM suggestions")
            self._many(
                "INSERT INTO suggestions (artefact_a, artefact_b, score) VALUES (?, ?, ?) "
                "ON CONFLICT(artefact_a, artefact_b) DO UPDATE SET score = excluded.score",
                [(min(a, b), max(a, b), s) for a, b, s in pairs],
            )

    def suggestions(self, artefact_id: str | None = None) -> list[tuple[str, str, float]]:
        sql = "SELECT artefact_a, artefact_b, score FROM suggestions"
        if artefact_id is None:
            rows = self._exec(f"{sql} ORDER BY score DESC, artefact_a, artefact_b").fetchall()
        else:
            where = "WHERE artefact_a = ? OR artefact_b = ?"
            rows = self._exec(f"{sql} {where} ORDER BY score DESC, artefact_a, artefact_b", (artefact_id, artefact_id))
            rows = rows.fetchall()
        return [(a, b, float(s)) for a, b, s in rows]

    # -- review log and users -------------------------------------------------------------------

    def save_review(
        self, artefacts: list[Artefact], events: list[ReviewEvent], expected_versions: Mapping[str, int] | None = None
    ) -> None:
        with self._transaction():
            conflicts = self.save_artefacts(artefacts, expected_versions)  # nested: joins this transaction
            if conflicts:
                raise ArtefactConflict(conflicts)  # rolls the whole action back, its events included
            self._many(
                "INSERT INTO review_events (at, actor, action, artefact_id, before, after, note) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [event_values(e) for e in events],
            )

    def review_events(self, artefact_id: str | None = None, limit: int = 200) -> list[ReviewEvent]:
        where, args = ("WHERE artefact_id = ?", [artefact_id]) if artefact_id else ("", [])
        rows = self._exec(f"SELECT * FROM review_events {where} ORDER BY id DESC LIMIT ?", [*args, limit]).fetchall()
        return [row_to_event(r) for r in rows]

    def review_event_keys(self, where: Mapping[str, str]) -> list[tuple[int, str, str]]:
        # only known keys reach the SQL: a column or operator never comes from the caller
        clauses = [AUDIT_FILTERS[key] for key in where]
        sql = "SELECT id, artefact_id, action FROM review_events"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        return [(int(i), a, act) for i, a, act in self._exec(f"{sql} ORDER BY id DESC", list(where.values())).fetchall()]

    def review_events_by_id(self, ids: Sequence[int]) -> list[ReviewEvent]:
        if not ids:
            return []
        sql = f"SELECT * FROM review_events WHERE id IN ({marks(len(ids))}) ORDER BY id DESC"
        return [row_to_event(r) for r in self._exec(sql, list(ids)).fetchall()]

    def add_user(self, name: str, role: str, groups: list[str], token_hash: str) -> None:
        try:
            with self._transaction():
                self._exec(
                    "INSERT INTO users (name, role, groups, token_hash, revoked, created_at) VALUES (?, ?, ?, ?, 0, ?)",
                    (name, role, json.dumps(sorted(set(groups))), token_hash, utcnow().isoformat()),
                )
        except self._integrity_errors as e:
            raise DuplicateUser(f"user {name!r} or its token already exists") from e

    def user_by_token_hash(self, token_hash: str) -> dict[str, Any] | None:
        row = self._exec("SELECT * FROM users WHERE token_hash = ?", (token_hash,)).fetchone()
        return user_row(row) if row else None

    def users(self) -> list[dict[str, Any]]:
        return [user_row(r) for r in self._exec("SELECT * FROM users ORDER BY name").fetchall()]

    def revoke_user(self, name: str) -> bool:
        with self._transaction():
            return bool(self._exec("UPDATE users SET revoked = 1 WHERE name = ?", (name,)).rowcount > 0)
