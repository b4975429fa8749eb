"""Reconciliation: do sources, passages, candidates, artefacts and the current release agree?

Pure: every function takes plain data (models, dicts, what a release folder holds) and returns the
drift it found, each kind with the ids concerned. Reading the store and the release folder, and
repairing, happen at the edge (`pipeline.check`).

The invariants checked, one drift kind each (`KINDS` says which `--repair` can mend and how):

- a removed source keeps no passages; an ok source's `passage_count` is what is stored;
- a candidate rests on a live source, and every evidence passage exists and contains its quote;
- an artefact's members exist; one with none left is stale; a live artefact's evidence cites
  existing passages, each quote verbatim;
- the current release's files match its manifest's checksums, its manifest counts match its
  payloads, and payload rows ↔ vector ids ↔ keyword documents are one numbering (row i = id i);
- what the release serves is what the store says may be served: approved (or candidates when the
  release includes them), with the store's visibility; and every such artefact is in it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pipeline.models import Artefact, ArtefactStatus, Candidate, Evidence, Passage, Source, SourceStatus

# kind -> (repairable by `practice check --repair`, what the repair does or why there is none)
KINDS: dict[str, tuple[bool, str]] = {
    "removed_source_passages": (True, "the source is marked removed again, which drops its passages and candidates"),
    "passage_count": (True, "the source's passage_count is set to the number of passages stored"),
    "candidate_orphan_source": (True, "the candidates of a missing or removed source are dropped"),
    "candidate_missing_passage": (True, "dropped; the extractor re-runs on that source at the next extract"),
    "candidate_quote_not_verbatim": (True, "dropped; the extractor re-runs on that source at the next extract"),
    "artefact_dangling_member": (True, "the artefact is refreshed from the members that exist"),
    "artefact_not_stale": (True, "the artefact is refreshed: with no member left it becomes stale"),
    "artefact_missing_passage": (True, "the artefact's evidence is rebuilt from its members' evidence"),
    "artefact_quote_not_verbatim": (True, "the artefact's evidence is rebuilt from its members' evidence"),
    "release_missing": (True, "releases are immutable: a new release is built by the normal publish"),
    "release_corrupt": (True, "releases are immutable: a new release is built by the normal publish"),
    "release_manifest_counts": (True, "releases are immutable: a new release is built by the normal publish"),
    "release_index_ids": (True, "releases are immutable: a new release is built by the normal publish"),
    "published_not_publishable": (True, "the normal publish builds a release without them"),
    "publishable_not_published": (True, "the normal publish builds a release with them"),
}
RELEASE_KINDS = frozenset(k for k in KINDS if k.startswith(("release_", "published_", "publishable_")))
MAX_IDS = 50  # ids listed per kind in a report (the count is always complete)

# Artefacts whose evidence must stand: stale ones keep the evidence they lost (their text came from
# it, and it comes back if the source does); merged ones hand theirs to the target.
_SETTLED = (ArtefactStatus.stale, ArtefactStatus.merged)


@dataclass
class Drift:
    """One kind of disagreement and the ids (sources, passages, candidates, artefacts) it concerns."""

    kind: str
    ids: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)  # one line per id where there is more to say

    def to_json(self) -> dict[str, Any]:
        repairable, how = KINDS[self.kind]
        return {
            "count": len(self.ids), "ids": self.ids[:MAX_IDS], "details": self.details[:MAX_IDS],
            "repairable": repairable, "repair": how,
        }  # fmt: skip


@dataclass
class CheckReport:
    """Every drift found; `total` 0 means everything agrees."""

    drifts: list[Drift] = field(default_factory=list)
    checked: dict[str, int] = field(default_factory=dict)  # how many of each thing were looked at
    repaired: dict[str, int] = field(default_factory=dict)  # filled by `practice check --repair`
    release_id: str | None = None
    notes: list[str] = field(default_factory=list)  # checks skipped, and why
    include_candidates: bool = False  # what the release serves besides approved artefacts (its manifest says)

    @property
    def total(self) -> int:
        return sum(len(d.ids) for d in self.drifts)

    def by_kind(self) -> dict[str, Drift]:
        return {d.kind: d for d in self.drifts}

    def to_json(self) -> dict[str, Any]:
        """The JSON shape of `practice check --json` and of the "check" key of `practice run --json`."""
        return {
            "drift": self.total, "kinds": {d.kind: d.to_json() for d in self.drifts},
            "checked": self.checked, "release_id": self.release_id, "repaired": self.repaired, "notes": self.notes,
        }  # fmt: skip


def _add(drifts: list[Drift], kind: str, ids: Iterable[str], details: Iterable[str] = ()) -> None:
    ids, details = list(ids), list(details)
    if ids:
        drifts.append(Drift(kind, ids, details))


# --- store -----------------------------------------------------------------------------------


def check_passages(sources: Sequence[Source], stored_counts: Mapping[str, int]) -> list[Drift]:
    """Sources against the number of passages stored for each (`stored_counts`: source id -> n)."""
    drifts: list[Drift] = []
    removed = [s.id for s in sources if s.status == SourceStatus.removed and stored_counts.get(s.id, 0)]
    _add(drifts, "removed_source_passages", removed, (f"{stored_counts[i]} passages" for i in removed))
    wrong = [s for s in sources if s.status != SourceStatus.removed and s.passage_count != stored_counts.get(s.id, 0)]
    _add(drifts, "passage_count", (s.id for s in wrong),
         (f"{s.uri}: says {s.passage_count}, {stored_counts.get(s.id, 0)} stored" for s in wrong))  # fmt: skip
    return drifts


def evidence_problems(evidence: Iterable[Evidence], passages: Mapping[str, Passage]) -> tuple[list[str], list[str]]:
    """(passage ids cited but not stored, passage ids whose text no longer holds the quote verbatim)."""
    missing, not_verbatim = [], []
    for e in evidence:
        p = passages.get(e.passage_id)
        if p is None:
            missing.append(e.passage_id)
        elif e.quote not in p.text:
            not_verbatim.append(e.passage_id)
    return missing, not_verbatim


def check_candidates(
    candidates: Sequence[Candidate], sources: Mapping[str, Source], passages: Mapping[str, Passage]
) -> list[Drift]:
    """Candidates against their source and the passages their evidence cites."""
    orphan, missing, verbatim = [], [], []
    for c in candidates:
        src = sources.get(c.source_id)
        if src is None or src.status == SourceStatus.removed:
            orphan.append(c)
            continue
        gone, changed = evidence_problems(c.evidence, passages)
        if gone:
            missing.append((c, gone))
        elif changed:
            verbatim.append((c, changed))
    drifts: list[Drift] = []
    _add(drifts, "candidate_orphan_source", (c.id for c in orphan), (f"source {c.source_id}" for c in orphan))
    _add(drifts, "candidate_missing_passage", (c.id for c, _ in missing), (f"passages {', '.join(p)}" for _, p in missing))
    _add(drifts, "candidate_quote_not_verbatim", (c.id for c, _ in verbatim), (f"passages {', '.join(p)}" for _, p in verbatim))
    return drifts


def check_artefacts(
    artefacts: Sequence[Artefact], candidate_ids: set[str], passages: Mapping[str, Passage]
) -> list[Drift]:
    """Artefacts against their member candidates and the passages their evidence cites."""
    dangling, not_stale, missing, verbatim = [], [], [], []
    for a in artefacts:
        if a.status == ArtefactStatus.merged:
            continue
        gone = [c for c in a.candidate_ids if c not in candidate_ids]
        if gone:
            dangling.append((a.id, f"candidates {', '.join(gone)}"))
        if a.status in _SETTLED:
            continue
        if len(gone) == len(a.candidate_ids):
            not_stale.append((a.id, f"status {a.status.value}, no member left"))
            continue
        no_passage, changed = evidence_problems(a.evidence, passages)
        if no_passage:
            missing.append((a.id, f"passages {', '.join(no_passage)}"))
        elif changed:
            verbatim.append((a.id, f"passages {', '.join(changed)}"))
    drifts: list[Drift] = []
    for kind, rows in (("artefact_dangling_member", dangling), ("artefact_not_stale", not_stale),
                       ("artefact_missing_passage", missing), ("artefact_quote_not_verbatim", verbatim)):  # fmt: skip
        _add(drifts, kind, (i for i, _ in rows), (d for _, d in rows))
    return drifts


# --- the current release ---------------------------------------------------------------------


@dataclass
class ReleaseView:
    """What the current release folder holds, as read by the edge (no index is searched)."""

    release_id: str
    problems: list[str] = field(default_factory=list)  # missing folder, unreadable manifest, checksum mismatches
    manifest: dict[str, Any] = field(default_factory=dict)
    payloads: list[dict[str, Any]] = field(default_factory=list)  # id, kind, status, visibility per row
    vector_ids: list[int] = field(default_factory=list)  # the vector index's id map, in order
    keyword_sizes: dict[str, int] = field(default_factory=dict)  # documents per keyword-index file that says
    rolled_back: bool = False  # a newer release exists: someone rolled back on purpose


def check_release_files(view: ReleaseView) -> list[Drift]:
    """The release against its own manifest, and its three numberings against one another."""
    drifts: list[Drift] = []
    if not view.manifest:
        _add(drifts, "release_missing", [view.release_id], view.problems or ["no manifest"])
        return drifts
    _add(drifts, "release_corrupt", [view.release_id] * bool(view.problems), ["; ".join(view.problems)])
    m, rows = view.manifest, view.payloads
    wrong = []
    if m.get("count") != len(rows):
        wrong.append(f"count {m.get('count')} but {len(rows)} payloads")
    for key, field_name in (("counts_by_kind", "kind"), ("counts_by_status", "status")):
        actual = dict(Counter(str(p.get(field_name)) for p in rows))
        if (m.get(key) or {}) != actual:
            wrong.append(f"{key} {m.get(key)} but payloads give {actual}")
    _add(drifts, "release_manifest_counts", [view.release_id] * bool(wrong), ["; ".join(wrong)])
    ids = [str(p.get("id")) for p in rows]
    mismatched = [f"payload id {i} occurs {n} times" for i, n in Counter(ids).items() if n > 1]
    if view.vector_ids != list(range(len(rows))):
        extra = sorted(set(view.vector_ids) - set(range(len(rows))))[:10]
        absent = sorted(set(range(len(rows))) - set(view.vector_ids))[:10]
        mismatched.append(
            f"{len(view.vector_ids)} vector ids for {len(rows)} payload rows"
            + (f"; ids without a payload: {extra}" if extra else "") + (f"; rows without a vector: {absent}" if absent else "")
        )
    for name, size in sorted(view.keyword_sizes.items()):
        if size != len(rows):
            mismatched.append(f"keyword index {name}: {size} documents for {len(rows)} payload rows")
    _add(drifts, "release_index_ids", [view.release_id] * bool(mismatched), ["; ".join(mismatched)])
    return drifts


def check_published(
    view: ReleaseView | None, artefacts: Sequence[Artefact], passages: Mapping[str, Passage], include_candidates: bool
) -> list[Drift]:
    """What the release serves against what the store says may be served (and must be)."""
    from pipeline.publish import publishable

    def servable(a: Artefact) -> bool:  # what `publish` would put in a release now
        return publishable(a, include_candidates) and bool(a.evidence) and evidence_problems(a.evidence, passages) == ([], [])

    by_id = {a.id: a for a in artefacts}
    served = {str(p.get("id")): p for p in (view.payloads if view else [])}
    wrong = []
    for pid, p in served.items():
        a = by_id.get(pid)
        if a is None:
            wrong.append((pid, "not in the store"))
        elif not servable(a):
            wrong.append((pid, f"status {a.status.value}" if not publishable(a, include_candidates) else "evidence no longer stands"))
        elif p.get("visibility") != a.visibility:
            wrong.append((pid, f"served as {p.get('visibility')!r}, the store says {a.visibility!r}"))
    missing = sorted(a.id for a in artefacts if servable(a) and a.id not in served)
    drifts: list[Drift] = []
    _add(drifts, "published_not_publishable", (i for i, _ in wrong), (d for _, d in wrong))
    _add(drifts, "publishable_not_published", missing)
    return drifts
