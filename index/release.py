"""Immutable index releases: vectors + keyword index + payloads + manifest, and an atomic "current".

Layout under a root folder (``$PRACTICE_HOME/releases`` by default)::

    releases/
      CURRENT                      the id of the current release (one line), replaced atomically
      PUBLISHED                    the release the last publish or rollback decided on (one line)
      .lock                        serialises publishers (flock)
      .tmp-<hex>/, .tmp-<hex>.owner  a build in progress and who runs it (see index.release_owner)
      20250101T120000123456Z-1a2b3c4d/
        vectors.faiss              row i of payloads.jsonl has vector id i
        bm25/                      keyword index over the texts, row i = payload i
        payloads.jsonl             one search-hit payload per line
        manifest.json              counts, model, dimension, index type, sha256 of every file, fingerprint

Publishing builds the release in a temporary folder inside the root, fsyncs every file, records the
new id in ``PUBLISHED``, renames the folder into place, and only then replaces ``CURRENT`` (write
``CURRENT.tmp``, fsync, ``os.replace``). A reader reads ``CURRENT`` once and opens that folder: it
sees the old release or the new one, never a mix. Releases are never modified after the rename; old
ones are pruned (the current one never is). ``PUBLISHED`` is the decision, ``CURRENT`` what readers
follow: when a crash leaves them apart, `index.release_heal.reconcile` finishes the switch.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timezone
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np

from index.keyword import KeywordIndex
from index.release_owner import build_folder, remove_dead_builds
from index.index_choice import choose_index
from index.vectors import INDEX_TYPES
from pipeline.faults import crash_point

__all__ = [
    "CURRENT_FILE",
    "MANIFEST_FILE",
    "PAYLOADS_FILE",
    "Manifest",
    "ReleaseError",
    "build_release",
    "current_release",
    "current_release_path",
    "default_releases_root",
    "latest_fingerprint",
    "list_releases",
    "prune_releases",
    "read_payloads",
    "release_fingerprint",
    "rollback",
    "verify_release",
]

FORMAT_VERSION = 1
CURRENT_FILE = "CURRENT"
PUBLISHED_FILE = "PUBLISHED"
MANIFEST_FILE = "manifest.json"
PAYLOADS_FILE = "payloads.jsonl"
VECTORS_FILE = "vectors.faiss"
KEYWORD_DIR = "bm25"
LOCK_FILE = ".lock"
PUBLISHED_STATUSES = ("approved",)


class ReleaseError(RuntimeError):
    """A release is missing, incomplete or corrupt, or a release operation is refused."""


@dataclass
class Manifest:
    """What a release holds; written as manifest.json inside the release folder."""

    release_id: str
    created_at: str
    count: int
    counts_by_kind: dict[str, int]
    counts_by_status: dict[str, int]
    model_id: str
    dimension: int
    index_type: str
    index_settings: dict[str, Any]
    include_candidates: bool
    fingerprint: str
    files: dict[str, str]  # relative path -> sha256
    excluded: int = 0  # payloads given but not published (status not publishable)
    format_version: int = FORMAT_VERSION
    path: Path | None = field(default=None, compare=False)  # where it was read from (not serialised)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of manifest.json."""
        data = asdict(self)
        data.pop("path")
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any], path: Path | None = None) -> "Manifest":
        known = {f for f in cls.__dataclass_fields__ if f != "path"}
        return cls(**{k: v for k, v in data.items() if k in known}, path=path)

    @classmethod
    def read(cls, release_path: str | os.PathLike[str]) -> "Manifest":
        """Read manifest.json of a release folder."""
        release_path = Path(release_path)
        try:
            data = json.loads((release_path / MANIFEST_FILE).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ReleaseError(f"{release_path}: no {MANIFEST_FILE} (not a release, or an incomplete one)") from None
        except (OSError, ValueError) as exc:
            raise ReleaseError(f"{release_path}: unreadable {MANIFEST_FILE}: {exc}") from exc
        return cls.from_dict(data, path=release_path)


def default_releases_root() -> Path:
    """``$PRACTICE_HOME/releases``."""
    from pipeline.config import practice_home

    return practice_home() / "releases"


# --- JSON and fingerprints -------------------------------------------------------------------


def _json_default(obj: Any) -> Any:
    if isinstance(obj, (datetime, date)):
        return obj.isoformat()
    if isinstance(obj, Enum):
        return obj.value
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "model_dump"):  # pydantic
        return obj.model_dump(mode="json")
    raise TypeError(f"cannot serialise {type(obj).__name__} in a release payload")


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default)


def release_fingerprint(
    payloads: Sequence[dict[str, Any]],
    vectors: np.ndarray,
    model_id: str,
    texts: Sequence[str] | None = None,
    *,
    index_type: str = "auto",
    include_candidates: bool = False,
) -> str:
    """A sha256 over everything a release is built from: equal fingerprints, equal releases.

    Pass the same arguments you pass to `build_release` (texts included, when you pass them there)
    and compare with `latest_fingerprint(root)` to skip publishing when nothing changed.
    """
    h = hashlib.sha256()
    h.update(_canonical({"v": FORMAT_VERSION, "model": model_id, "index": index_type, "cand": include_candidates}).encode())
    for payload in payloads:
        h.update(_canonical(payload).encode("utf-8"))
        h.update(b"\n")
    vec = np.ascontiguousarray(np.asarray(vectors, dtype=np.float32))
    h.update(repr(vec.shape).encode())
    h.update(vec.tobytes())
    if texts is not None:
        for text in texts:
            h.update(b"\x1e")
            h.update(text.encode("utf-8"))
    return h.hexdigest()


# --- files -----------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # not every filesystem lets a directory be fsynced
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _release_files(folder: Path) -> list[Path]:
    """Every file of a release except the manifest, sorted (relative paths use '/')."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST_FILE)


def _write_text_durable(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


@contextlib.contextmanager
def _publish_lock(root: Path) -> Iterator[None]:
    """One publisher (or rollback) at a time per root; readers never take it."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / LOCK_FILE, "a+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _replace_pointer(root: Path, name: str, release_id: str) -> None:
    """Write a one-line pointer file: NAME.tmp, fsync, os.replace (atomic), fsync the folder."""
    tmp = root / f"{name}.tmp"
    _write_text_durable(tmp, release_id + "\n")
    os.replace(tmp, root / name)
    _fsync_dir(root)


def _switch_current(root: Path, release_id: str) -> None:
    """Point CURRENT (what readers open) at a release."""
    _replace_pointer(root, CURRENT_FILE, release_id)


def _record_published(root: Path, release_id: str) -> None:
    """Record the release a publish or rollback decided on, before CURRENT follows it."""
    _replace_pointer(root, PUBLISHED_FILE, release_id)


def _new_release_id(root: Path, fingerprint: str) -> str:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    release_id = f"{stamp}-{fingerprint[:8]}"
    n = 1
    while (root / release_id).exists():
        n += 1
        release_id = f"{stamp}-{fingerprint[:8]}-{n}"
    return release_id


# --- building --------------------------------------------------------------------------------


def _publishable(payload: dict[str, Any], include_candidates: bool) -> bool:
    status = payload.get("status")
    status = status.value if isinstance(status, Enum) else status
    return status in PUBLISHED_STATUSES or (include_candidates and status == "candidate")


def build_release(
    root: str | os.PathLike[str],
    payloads: Sequence[dict[str, Any]],
    vectors: np.ndarray,
    texts: Sequence[str],
    model_id: str,
    index_type: str = "auto",
    include_candidates: bool = False,
    *,
    keep: int = 5,
    index_options: dict[str, Any] | None = None,
) -> Manifest:
    """Publish a new release and make it current; returns its manifest.

    ``payloads[i]``, ``vectors[i]`` and ``texts[i]`` describe one artefact: the payload is what a
    search hit returns (it needs ``id`` and ``status``; ``kind``, ``communities``, ``source_kinds``,
    ``visibility`` and ``updated_at`` serve the filters), the vector is its embedding (dense search)
    and the text is what BM25 indexes. Only approved artefacts are published, and candidates too
    when ``include_candidates``; rejected, merged and stale ones never are (counted as ``excluded``).

    Older releases beyond ``keep`` are deleted afterwards; the current one never is.
    """
    root = Path(root)
    vectors = np.ascontiguousarray(np.asarray(vectors, dtype=np.float32))
    if vectors.ndim != 2:
        raise ValueError(f"vectors must be a 2-D array, got shape {vectors.shape}")
    if not (len(payloads) == vectors.shape[0] == len(texts)):
        raise ValueError(f"{len(payloads)} payloads, {vectors.shape[0]} vectors and {len(texts)} texts: they must match")
    if index_type not in (*INDEX_TYPES, "auto"):
        raise ValueError(f"unknown index type {index_type!r}; choose auto or one of {', '.join(INDEX_TYPES)}")
    ids_seen: set[str] = set()
    for i, payload in enumerate(payloads):
        pid = payload.get("id")
        if not pid:
            raise ValueError(f"payload {i} has no id")
        if pid in ids_seen:
            raise ValueError(f"payload id {pid!r} occurs twice")
        ids_seen.add(pid)
    if keep < 1:
        raise ValueError("keep must be at least 1")

    fingerprint = release_fingerprint(
        payloads, vectors, model_id, texts, index_type=index_type, include_candidates=include_candidates
    )
    rows = [i for i, p in enumerate(payloads) if _publishable(p, include_candidates)]
    pub_payloads = [payloads[i] for i in rows]
    pub_vectors = vectors[rows] if rows else np.zeros((0, vectors.shape[1]), dtype=np.float32)
    pub_texts = [texts[i] for i in rows]
    dim = int(vectors.shape[1])

    with _publish_lock(root), build_folder(root) as tmp:
        remove_dead_builds(root)  # ours is alive (we hold its owner lock): only dead runs' go
        index_type_used, settings = _write_indexes(tmp, pub_payloads, pub_vectors, pub_texts, index_type, index_options)
        crash_point("publish:build")
        files: dict[str, str] = {}
        for path in _release_files(tmp):
            _fsync_file(path)
            files[path.relative_to(tmp).as_posix()] = _sha256(path)
        release_id = _new_release_id(root, fingerprint)
        manifest = Manifest(
            release_id=release_id,
            created_at=datetime.now(timezone.utc).isoformat(),
            count=len(pub_payloads),
            counts_by_kind=dict(sorted(Counter(str(_plain(p.get("kind"))) for p in pub_payloads).items())),
            counts_by_status=dict(sorted(Counter(str(_plain(p.get("status"))) for p in pub_payloads).items())),
            model_id=model_id,
            dimension=dim,
            index_type=index_type_used,
            index_settings=settings,
            include_candidates=include_candidates,
            fingerprint=fingerprint,
            files=files,
            excluded=len(payloads) - len(pub_payloads),
        )
        _write_text_durable(tmp / MANIFEST_FILE, json.dumps(manifest.to_dict(), indent=2) + "\n")
        for sub in sorted({p.parent for p in _release_files(tmp)} | {tmp}, key=lambda p: -len(p.parts)):
            _fsync_dir(sub)
        # The decision is recorded before the folder appears: from here on, a crash leaves a state
        # that `reconcile` finishes (switch to this release, or forget it if it never appeared).
        _record_published(root, release_id)
        crash_point("publish:recorded")  # decided, folder not yet in place
        final = root / release_id
        os.rename(tmp, final)
        _fsync_dir(root)
        crash_point("publish:switch")
        _switch_current(root, release_id)
        crash_point("publish:switched")  # current, older releases not yet pruned
        manifest.path = final
        prune_releases(root, keep=keep, _locked=True)
    return manifest


def _write_indexes(
    folder: Path,
    payloads: list[dict[str, Any]],
    vectors: np.ndarray,
    texts: list[str],
    index_type: str,
    index_options: dict[str, Any] | None,
) -> tuple[str, dict[str, Any]]:
    """Write payloads, the vector index and the keyword index into a build folder.

    Returns the index type used and its settings (`index.index_choice`: "auto" picks by size, an
    approximate index carries its measured recall, IVF falls back to exact below its list count).
    """
    with open(folder / PAYLOADS_FILE, "w", encoding="utf-8") as fh:  # row i = vector id i = keyword row i
        for payload in payloads:
            fh.write(json.dumps(payload, ensure_ascii=False, default=_json_default))
            fh.write("\n")
    index_type, vindex, checks = choose_index(index_type, vectors, index_options)
    vindex.save(folder / VECTORS_FILE)
    KeywordIndex().build(texts).save(folder / KEYWORD_DIR)
    return index_type, {**vindex.describe(), **checks}


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


# --- reading ---------------------------------------------------------------------------------


def _read_pointer(root: Path, name: str) -> str | None:
    """The release id in a pointer file (CURRENT, PUBLISHED), or None when there is none."""
    try:
        text = (root / name).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return text or None


def _read_current_id(root: Path) -> str | None:
    return _read_pointer(root, CURRENT_FILE)


def current_release_path(root: str | os.PathLike[str]) -> Path | None:
    """The folder of the current release (CURRENT read once), or None before the first publish."""
    root = Path(root)
    release_id = _read_current_id(root)
    return root / release_id if release_id else None


def current_release(root: str | os.PathLike[str]) -> Manifest | None:
    """The manifest of the current release, or None before the first publish."""
    path = current_release_path(root)
    return Manifest.read(path) if path is not None else None


def list_releases(root: str | os.PathLike[str]) -> list[Manifest]:
    """Every complete release under root, oldest first (incomplete or foreign folders are skipped)."""
    root = Path(root)
    if not root.is_dir():
        return []
    out = []
    for p in root.iterdir():
        if p.name.startswith(".") or not p.is_dir() or not (p / MANIFEST_FILE).is_file():
            continue
        try:
            out.append(Manifest.read(p))
        except ReleaseError:
            continue
    return sorted(out, key=lambda m: (m.created_at, m.release_id))


def latest_fingerprint(root: str | os.PathLike[str]) -> str | None:
    """Fingerprint of the most recently built release (not necessarily current after a rollback),
    so a rolled-back publish is not redone by the next unchanged run; None when there is none."""
    releases = list_releases(root)
    return releases[-1].fingerprint if releases else None


def read_payloads(release_path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The payloads of a release, row order."""
    with open(Path(release_path) / PAYLOADS_FILE, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def verify_release(release_path: str | os.PathLike[str]) -> Manifest:
    """Check every file against the manifest's sha256 (and that no file is missing or extra).

    Returns the manifest; raises ReleaseError naming each problem.
    """
    release_path = Path(release_path)
    if not release_path.is_dir():
        raise ReleaseError(f"{release_path}: no such release folder")
    manifest = Manifest.read(release_path)
    problems = []
    present = {p.relative_to(release_path).as_posix() for p in _release_files(release_path)}
    for name, digest in sorted(manifest.files.items()):
        if name not in present:
            problems.append(f"{name}: missing")
        elif _sha256(release_path / name) != digest:
            problems.append(f"{name}: checksum mismatch")
    for name in sorted(present - set(manifest.files)):
        problems.append(f"{name}: not in the manifest")
    if problems:
        raise ReleaseError(f"release {manifest.release_id} at {release_path} is corrupt: " + "; ".join(problems))
    return manifest


# --- rollback and pruning --------------------------------------------------------------------


def rollback(root: str | os.PathLike[str], release_id: str) -> Manifest:
    """Make an existing (verified) release current again; returns its manifest."""
    root = Path(root)
    if not release_id or "/" in release_id or release_id.startswith("."):
        raise ReleaseError(f"not a release id: {release_id!r}")
    with _publish_lock(root):
        manifest = verify_release(root / release_id)
        _record_published(root, release_id)  # a deliberate choice: reconcile must not undo it
        _switch_current(root, release_id)
    return manifest


def prune_releases(root: str | os.PathLike[str], keep: int = 5, *, _locked: bool = False) -> list[str]:
    """Delete all but the `keep` newest releases, never the current one; returns the deleted ids."""
    root = Path(root)
    if keep < 1:
        raise ValueError("keep must be at least 1")
    lock = contextlib.nullcontext() if _locked else _publish_lock(root)
    deleted = []
    with lock:
        spared = {_read_pointer(root, CURRENT_FILE), _read_pointer(root, PUBLISHED_FILE)}
        releases = list_releases(root)
        for manifest in releases[: max(0, len(releases) - keep)]:
            if manifest.release_id in spared:
                continue
            shutil.rmtree(root / manifest.release_id, ignore_errors=True)
            deleted.append(manifest.release_id)
        if deleted:
            _fsync_dir(root)
    return deleted


def iter_release_files(release_path: str | os.PathLike[str]) -> Iterable[Path]:
    """Every file of a release including the manifest (for copying or inspection)."""
    release_path = Path(release_path)
    return [*_release_files(release_path), release_path / MANIFEST_FILE]
