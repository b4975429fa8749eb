"""`practice check` at the edge: read the store and the current release, run the pure checks of
`pipeline.reconcile`, and repair what can be repaired.

Reading is cheap on purpose (it runs at the end of every `practice run`): no model is loaded and no
index is searched; passages are read one source at a time, release payloads one line at a time.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from pipeline.models import Artefact, ArtefactStatus, Passage
from pipeline.reconcile import (
    RELEASE_KINDS,
    CheckReport,
    Drift,
    ReleaseView,
    check_artefacts,
    check_candidates,
    check_passages,
    check_published,
    check_release_files,
)
from pipeline.store import Store

_CHUNK = 2000  # passage ids per lookup: bounded memory on a large store


def _cited(evidence_ids: Iterable[str], store: Store) -> dict[str, Passage]:
    ids = sorted(set(evidence_ids))
    found: dict[str, Passage] = {}
    for i in range(0, len(ids), _CHUNK):
        found.update(store.passages_by_id(ids[i : i + _CHUNK]))
    return found


def read_release(releases_root: Path) -> ReleaseView | None:
    """The current release as `ReleaseView` (None before the first publish)."""
    from index.keyword import PARAMS_FILE
    from index.release import (
        KEYWORD_DIR, PAYLOADS_FILE, VECTORS_FILE, ReleaseError, current_release_path, list_releases, verify_release,
    )  # fmt: skip
    from index.vectors import load_index

    path = current_release_path(releases_root)
    if path is None:
        return None
    view = ReleaseView(release_id=path.name)
    newest = list_releases(releases_root)
    view.rolled_back = bool(newest) and newest[-1].release_id != path.name and (path / "manifest.json").is_file()
    try:
        view.manifest = verify_release(path).to_dict()
    except ReleaseError as exc:
        view.problems.append(str(exc))
        try:
            view.manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return view  # no manifest: nothing else can be trusted
    try:
        with open(path / PAYLOADS_FILE, encoding="utf-8") as fh:
            for line in fh:  # streamed: only what the checks need is kept
                if line.strip():
                    p = json.loads(line)
                    view.payloads.append({k: p.get(k) for k in ("id", "kind", "status", "visibility")})
        view.vector_ids = [int(i) for i in load_index(path / VECTORS_FILE).ids]
        for name, key in ((PARAMS_FILE, "size"), ("params.index.json", "num_docs")):
            file = path / KEYWORD_DIR / name
            if file.is_file():
                view.keyword_sizes[name] = int(json.loads(file.read_text(encoding="utf-8"))[key])
    except (OSError, ValueError, KeyError, RuntimeError) as exc:  # RuntimeError: FAISS cannot read the file
        view.problems.append(f"unreadable: {exc}")
    return view


def run_check(store: Store, releases_root: Path, include_candidates: bool = False) -> CheckReport:
    """Every check over the store and the current release (`include_candidates`: the publish
    setting, used when there is no release yet to say it)."""
    sources = store.list_sources()
    counts = {s.id: store.count_passages(s.id) for s in sources}  # counted in the store, never loaded
    candidates = store.candidates()
    artefacts = store.artefacts()
    passages = _cited(
        [e.passage_id for c in candidates for e in c.evidence]
        + [e.passage_id for a in artefacts if a.status not in (ArtefactStatus.stale, ArtefactStatus.merged) for e in a.evidence],
        store,
    )
    view = read_release(releases_root)
    if view is not None and "include_candidates" in view.manifest:
        include_candidates = bool(view.manifest["include_candidates"])
    report = CheckReport(release_id=view.release_id if view else None, include_candidates=include_candidates)
    report.drifts += check_passages(sources, counts)
    report.drifts += check_candidates(candidates, {s.id: s for s in sources}, passages)
    report.drifts += check_artefacts(artefacts, {c.id for c in candidates}, passages)
    if view is not None:
        report.drifts += check_release_files(view)
    if view is not None and view.rolled_back:
        # A deliberate step back: the store is ahead of it on purpose, and a repair must not undo it.
        report.notes.append(f"release {view.release_id} is current by a rollback: what it serves is not compared with the store")
    elif view is None or view.manifest:  # a missing release is one drift, not one per artefact it lacks
        report.drifts += check_published(view, artefacts, passages, include_candidates)
    report.checked = {
        "sources": len(sources), "passages": sum(counts.values()), "candidates": len(candidates),
        "artefacts": len(artefacts), "release_payloads": len(view.payloads) if view else 0,
    }  # fmt: skip
    return report


def repair(
    store: Store, releases_root: Path, republish: Callable[[bool], Any], include_candidates: bool = False
) -> CheckReport:
    """Repair every repairable drift, in dependency order, and return a fresh check.

    Sources and passages first, then candidates, then artefacts (re-checked after the candidates
    went), and last the release: releases are immutable, so a wrong one is replaced by a new one
    built by `republish(include_candidates)` (the normal publish, forced past its nothing-changed
    shortcut), serving what the current release served: candidates too if it did.
    """
    repaired: dict[str, int] = {}
    found = run_check(store, releases_root, include_candidates).by_kind()
    _repair_store(store, found, repaired)
    found = run_check(store, releases_root, include_candidates).by_kind()  # artefacts may have lost members
    _repair_artefacts(store, found, repaired)
    last = run_check(store, releases_root, include_candidates)
    found = last.by_kind()
    release_drift = [k for k in found if k in RELEASE_KINDS]
    if release_drift:
        republish(last.include_candidates)
        for k in release_drift:
            repaired[k] = repaired.get(k, 0) + len(found[k].ids)
    report = run_check(store, releases_root, include_candidates)
    report.repaired = repaired
    return report


def _repair_store(store: Store, found: dict[str, Drift], repaired: dict[str, int]) -> None:
    """Passages of removed sources, wrong passage counts, and candidates that do not stand."""
    sources = {s.id: s for s in store.list_sources()}
    if d := found.get("removed_source_passages"):
        store.mark_removed(d.ids)
        repaired[d.kind] = len(d.ids)
    if d := found.get("passage_count"):
        for sid in d.ids:
            store.save_source(sources[sid].model_copy(update={"passage_count": len(store.passages(sid))}))
        repaired[d.kind] = len(d.ids)
    if d := found.get("candidate_orphan_source"):
        bad = set(d.ids)
        groups = {(c.source_id, c.extractor) for c in store.candidates() if c.id in bad}
        removed = sorted({sid for sid, _ in groups if sid in sources})
        store.mark_removed(removed)  # a removed source's candidates go with it
        for sid, extractor in sorted(g for g in groups if g[0] not in sources):
            store.replace_candidates(sid, extractor, "", [])
        repaired[d.kind] = len(d.ids)
    bad = set()
    for kind in ("candidate_missing_passage", "candidate_quote_not_verbatim"):
        if d := found.get(kind):
            bad |= set(d.ids)
            repaired[kind] = len(d.ids)
    groups = {(c.source_id, c.extractor) for c in store.candidates() if c.id in bad}
    for sid, extractor in sorted(groups):
        keep = [c for c in store.candidates(source_id=sid, extractor=extractor) if c.id not in bad]
        # No content hash: the extractor sees this source as new and re-runs at the next extract.
        store.replace_candidates(sid, extractor, "", keep)


def _repair_artefacts(store: Store, found: dict[str, Drift], repaired: dict[str, int]) -> None:
    """Refresh artefacts from the members that exist: evidence, support, stale when none is left."""
    from pipeline.artefacts import refresh

    kinds = ("artefact_dangling_member", "artefact_not_stale", "artefact_missing_passage", "artefact_quote_not_verbatim")
    ids = sorted({i for k in kinds if (d := found.get(k)) for i in d.ids})
    if not ids:
        return
    live = {c.id: c for c in store.candidates()}
    sources = {s.id: s for s in store.list_sources()}

    def derive(a: Artefact | None, _attempted: Artefact | None = None) -> Artefact | None:
        if a is None or a.status == ArtefactStatus.merged:
            return None
        members = [live[c] for c in a.candidate_ids if c in live]
        return refresh(a, members, _cited((e.passage_id for c in members for e in c.evidence), store), sources)

    read = store.versioned_artefacts(ids)
    derived = [d for d in (derive(a) for a, _ in read.values()) if d is not None]
    store.update_artefacts(derived, {i: v for i, (_, v) in read.items()}, derive)
    for k in kinds:
        if d := found.get(k):
            repaired[k] = len(d.ids)


def check_home(settings: Any, home: Path | None = None, repair_drift: bool = False) -> CheckReport:
    """`practice check [--repair]` over the store and releases under PRACTICE_HOME (or `home`)."""
    from pipeline.stages import releases_root, run_publish
    from pipeline.store import open_store

    root, include = releases_root(home), settings.publish.include_candidates
    store = open_store(home)
    try:
        if not repair_drift:
            return run_check(store, root, include)
        return repair(store, root, lambda candidates: run_publish(settings, home, candidates, force=True), include)
    finally:
        store.close()
