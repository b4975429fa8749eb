"""The SQL behind both database stores: one implementation of the contract, two connections.

`SQLStore` is written in the SQL SQLite and PostgreSQL share (`ON CONFLICT`, `?` placeholders that
the PostgreSQL store rewrites); a backend supplies the connection, `_exec`, `_many` and the outermost
transaction. Artefacts, review log and users are in `store_sql_review.SQLReviewMixin`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, MutableMapping, Sequence
from typing import Any

import numpy as np

from pipeline.models import Candidate, Passage, Source, SourceStatus, utcnow
from pipeline.store_base import Reentrant
from pipeline.store_rows import (
    PASSAGE_COLUMNS,
    SOURCE_COLUMNS,
    candidate_values,
    passage_to_values,
    row_to_passage,
    row_to_source,
    source_to_row,
)

CHUNK = 500  # ids per IN (...) list: under SQLite's bound-parameter limit


def marks(n: int) -> str:
    """`?, ?, ...` for n parameters."""
    return ", ".join("?" for _ in range(n))


def chunks(ids: Iterable[str]) -> Iterator[list[str]]:
    """Distinct ids, in order, in lists of at most CHUNK."""
    unique = list(dict.fromkeys(ids))
    for i in range(0, len(unique), CHUNK):
        yield unique[i : i + CHUNK]


class SQLBase(Reentrant):
    """What a backend provides: statements, batches and (from `Reentrant`) the outer transaction."""

    def _exec(self, sql: str, args: Sequence[Any] = ()) -> Any:
        """Run one statement; returns a cursor (rows readable by name and by position)."""
        raise NotImplementedError

    def _many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement for each parameter row."""
        raise NotImplementedError


def where(filters: Iterable[tuple[str, Any]]) -> tuple[str, list[Any]]:
    """`WHERE a = ? AND ...` for the filters whose value is not None (empty when none is)."""
    given = [(column, value) for column, value in filters if value is not None]
    clause = " AND ".join(f"{column} = ?" for column, _ in given)
    return (f"WHERE {clause}" if clause else ""), [value for _, value in given]


class SQLStore(SQLBase):
    """Sources, passages, candidates, the key-value cache and embeddings, in portable SQL."""

    # -- sources --------------------------------------------------------------------------

    def get_source(self, uri: str) -> Source | None:
        row = self._exec("SELECT * FROM sources WHERE uri = ?", (uri,)).fetchone()
        return row_to_source(row) if row else None

    def list_sources(self) -> list[Source]:
        return [row_to_source(r) for r in self._exec("SELECT * FROM sources ORDER BY uri").fetchall()]

    def sources_by_id(self, ids: Iterable[str]) -> dict[str, Source]:
        return {s.id: s for s in map(row_to_source, self._rows_by_id("sources", ids))}

    def _rows_by_id(self, table: str, ids: Iterable[str]) -> list[Any]:
        """Every row of `table` whose id is in `ids`, asked in chunks the driver accepts."""
        rows: list[Any] = []
        for chunk in chunks(ids):
            rows += self._exec(f"SELECT * FROM {table} WHERE id IN ({marks(len(chunk))})", chunk).fetchall()
        return rows

    def save_source(self, source: Source, passages: list[Passage] | None = None) -> None:
        with self._transaction():
            values = source_to_row(source)
            cols = ", ".join(SOURCE_COLUMNS)
            updates = ", ".join(f"{c} = excluded.{c}" for c in SOURCE_COLUMNS if c != "id")
            self._exec(
                f"INSERT INTO sources ({cols}) VALUES ({marks(len(SOURCE_COLUMNS))}) "
                f"ON CONFLICT(id) DO UPDATE SET {updates}",
                [values[c] for c in SOURCE_COLUMNS],
            )
            if passages is not None:
                self._exec("DELETE FROM passages WHERE source_id = ?", (source.id,))
                quoted = ", ".join(f'"{c}"' for c in PASSAGE_COLUMNS)
                self._many(
                    f"INSERT INTO passages ({quoted}) VALUES ({marks(len(PASSAGE_COLUMNS))})",
                    [passage_to_values(p) for p in passages],
                )

    def mark_removed(self, source_ids: Iterable[str]) -> int:
        ids = list(dict.fromkeys(source_ids))
        if not ids:
            return 0
        with self._transaction():
            ms = marks(len(ids))
            self._exec(f"DELETE FROM passages WHERE source_id IN ({ms})", ids)
            # Candidates rest on those passages: their evidence goes with the source.
            self._exec(f"DELETE FROM candidates WHERE source_id IN ({ms})", ids)
            self._exec(f"DELETE FROM extraction_state WHERE source_id IN ({ms})", ids)
            cur = self._exec(
                f"UPDATE sources SET status = ?, passage_count = 0 WHERE id IN ({ms})",
                [SourceStatus.removed.value, *ids],
            )
            return int(cur.rowcount)

    # -- passages -------------------------------------------------------------------------

    def passages(self, source_id: str | None = None) -> list[Passage]:
        if source_id is None:
            rows = self._exec(
                "SELECT p.* FROM passages p JOIN sources s ON s.id = p.source_id ORDER BY s.uri, p.seq"
            ).fetchall()
        else:
            rows = self._exec("SELECT * FROM passages WHERE source_id = ? ORDER BY seq", (source_id,)).fetchall()
        return [row_to_passage(r) for r in rows]

    def count_passages(self, source_id: str | None = None) -> int:
        if source_id is not None:
            return int(self._exec("SELECT COUNT(*) FROM passages WHERE source_id = ?", (source_id,)).fetchone()[0])
        return int(self._exec("SELECT COUNT(*) FROM passages").fetchone()[0])

    def passages_in_range(self, source_id: str, first_seq: int, last_seq: int) -> list[Passage]:
        rows = self._exec(
            "SELECT * FROM passages WHERE source_id = ? AND seq BETWEEN ? AND ? ORDER BY seq",
            (source_id, first_seq, last_seq),
        ).fetchall()
        return [row_to_passage(r) for r in rows]

    def thread_passages(self, source_id: str, thread_id: str, limit: int = 400) -> list[Passage]:
        rows = self._exec(
            "SELECT * FROM passages WHERE source_id = ? AND thread_id = ? ORDER BY seq LIMIT ?",
            (source_id, thread_id, limit),
        ).fetchall()
        return [row_to_passage(r) for r in rows]

    def passages_by_id(self, ids: Iterable[str]) -> dict[str, Passage]:
        return {p.id: p for p in map(row_to_passage, self._rows_by_id("passages", ids))}

    # -- candidates ---------------------------------------------------------------------------

    def extracted_hash(self, source_id: str, extractor: str) -> str | None:
        row = self._exec(
            "SELECT content_hash FROM extraction_state WHERE source_id = ? AND extractor = ?", (source_id, extractor)
        ).fetchone()
        return row[0] if row else None

    def replace_candidates(
        self, source_id: str, extractor: str, content_hash: str, candidates: list[Candidate]
    ) -> tuple[int, int]:
        with self._transaction():
            rows = self._exec("SELECT id FROM candidates WHERE source_id = ? AND extractor = ?", (source_id, extractor))
            old = {r[0] for r in rows.fetchall()}
            new = {c.id: c for c in candidates}
            gone = sorted(old - set(new))
            if gone:
                self._exec(f"DELETE FROM candidates WHERE id IN ({marks(len(gone))})", gone)
            # Existing ids are left untouched: same content, same row (and review state kept).
            self._many(
                "INSERT INTO candidates (id, source_id, kind, status, extractor, created_at, body) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING",
                [candidate_values(c, source_id, extractor) for cid, c in new.items() if cid not in old],
            )
            self._exec(
                "INSERT INTO extraction_state (source_id, extractor, content_hash, extracted_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT(source_id, extractor) DO UPDATE SET "
                "content_hash = excluded.content_hash, extracted_at = excluded.extracted_at",
                (source_id, extractor, content_hash, utcnow().isoformat()),
            )
            return len(set(new) - old), len(gone)

    def candidates(
        self,
        kind: str | None = None,
        status: str | None = None,
        source_id: str | None = None,
        extractor: str | None = None,
    ) -> list[Candidate]:
        clause, args = where((("kind", kind), ("status", status), ("source_id", source_id), ("extractor", extractor)))
        rows = self._exec(f"SELECT body FROM candidates {clause} ORDER BY created_at, id", args).fetchall()
        return [Candidate.model_validate_json(r[0]) for r in rows]

    def cache(self, namespace: str) -> MutableMapping[str, str]:
        return _SQLCache(self, namespace)

    # -- embeddings -------------------------------------------------------------------------

    def get_embeddings(self, text_hashes: Iterable[str], model: str, backend: str = "torch") -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        for chunk in chunks(text_hashes):
            rows = self._exec(
                "SELECT text_hash, vector FROM embedding_cache WHERE model = ? AND backend = ? "
                f"AND text_hash IN ({marks(len(chunk))})",
                [model, backend, *chunk],
            ).fetchall()
            for h, blob in rows:
                found[h] = np.frombuffer(bytes(blob), dtype=np.float32)
        return found

    def put_embeddings(self, model: str, vectors: dict[str, np.ndarray], backend: str = "torch") -> None:
        with self._transaction():
            self._many(
                "INSERT INTO embedding_cache (text_hash, model, backend, vector) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(text_hash, model, backend) DO UPDATE SET vector = excluded.vector",
                [(h, model, backend, np.asarray(v, dtype=np.float32).tobytes()) for h, v in vectors.items()],
            )


class _SQLCache(MutableMapping[str, str]):
    """A namespaced key-value table, so an LLM answer survives between runs."""

    def __init__(self, store: SQLBase, namespace: str) -> None:
        self.store, self.prefix = store, f"{namespace}:"

    def __getitem__(self, key: str) -> str:
        row = self.store._exec("SELECT value FROM llm_cache WHERE key = ?", (self.prefix + key,)).fetchone()
        if row is None:
            raise KeyError(key)
        return str(row[0])

    def __setitem__(self, key: str, value: str) -> None:
        with self.store._transaction():
            self.store._exec(
                "INSERT INTO llm_cache (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (self.prefix + key, value),
            )

    def __delitem__(self, key: str) -> None:
        with self.store._transaction():
            if self.store._exec("DELETE FROM llm_cache WHERE key = ?", (self.prefix + key,)).rowcount == 0:
                raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        # LIKE narrows (escaped: a namespace may hold '%' or '_'); startswith decides, because
        # SQLite's LIKE ignores ASCII case and PostgreSQL's does not.
        pattern = self.prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        rows = self.store._exec("SELECT key FROM llm_cache WHERE key LIKE ? ESCAPE '\\' ORDER BY key", (pattern,))
        keys = [r[0] for r in rows.fetchall() if r[0].startswith(self.prefix)]
        return iter([k[len(self.prefix) :] for k in keys])

    def __len__(self) -> int:
        return sum(1 for _ in self)
