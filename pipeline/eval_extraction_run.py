"""Run the product over the sources the extraction gold names, and read its output back in gold terms.

The edge of `practice eval extraction`: it writes inputs into a temporary folder, runs ingest →
extract → dedupe in a temporary PRACTICE_HOME with the offline extractors, and turns candidates and
artefacts into plain records keyed the way the gold is keyed (pipeline.eval_extraction scores them).

Sources with a product parser are ingested as they are (the mbox, document files, Zoom VTT). Where
the product has no parser, this module converts — and says so here, the only place it happens:

- Racket Slack XML → generic JSONL thread format, one message a line, **without** the dataset's
  conversation ids: the product must see the channel as it really is, unthreaded.
- Gitter room logs → generic JSONL, one file per room, messages in time order, dash-separated
  conversation boundaries dropped for the same reason. Message id = "<ts> <nick>" (+ "#n" when a
  nick posts twice in one second).
- Stack Exchange → a dump folder holding only the questions the gold names (thread gold and pairs),
  their answers, comments and links: threads of a Q&A site are independent, and this keeps the run short.
- StackFAQ (pairs) → generic JSONL: every entry is a thread (question + answers; the entries of one
  FAQ collection), every paraphrase query named by a pair is a thread of its own.
- QMSum → a JSONL holding only the meetings the span gold names (line numbers mapped back).
"""

from __future__ import annotations

import csv
import json
import os
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pipeline.gold_units import FAQS_SOURCE, GITTER_DIR, MBOX, QUERIES_SOURCE, SE_DIR, SE_POSTS, SLACK, gitter_blocks

QMSUM = "meetings/qmsum/test.jsonl"
_FACTUAL_ROLES = {"question", "answer", "recommendation", "item"}


class Inputs:
    """Files to ingest and how to read a passage of each back as a gold locator."""

    def __init__(self) -> None:
        self.paths: list[Path] = []
        self.kind: dict[str, tuple[str, str]] = {}  # resolved path -> (format, gold source)
        self.qmsum_lines: list[int] = []  # temp meeting index -> original line of test.jsonl

    def add(self, path: Path, fmt: str, gold_source: str) -> None:
        """Ingest `path`; read its passages as `fmt` belonging to `gold_source`."""
        self.paths.append(path)
        self.kind[str(path.resolve())] = (fmt, gold_source)


def _write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def slack_jsonl(corpus: Path, out: Path) -> None:
    """The Racket Slack XML as an unthreaded JSONL channel (conversation ids dropped)."""
    root = ET.parse(corpus / SLACK).getroot()
    _write_jsonl(out, (
        {"id": m.findtext("ts", ""), "author": m.findtext("user", ""), "timestamp": m.findtext("ts", ""),
         "text": m.findtext("text", ""), "channel": "general"}
        for m in root.iter("message") if (m.findtext("text") or "").strip()
    ))  # fmt: skip


def gitter_jsonl(room: Path, out: Path) -> None:
    """One Gitter room as an unthreaded JSONL channel in time order (conversation boundaries dropped)."""
    messages = [m for block in gitter_blocks(room) for m in block if m["text"].strip()]
    messages.sort(key=lambda m: m["ts"].replace("T", " "))  # stable: file order within one second
    seen: dict[str, int] = {}
    rows = []
    for m in messages:
        n = seen.get(m["key"], 0) + 1
        seen[m["key"]] = n
        rows.append({"id": m["key"] if n == 1 else f"{m['key']}#{n}", "author": m["author"],
                     "timestamp": m["ts"].replace(" ", "T"), "text": m["text"], "channel": room.stem})  # fmt: skip
    _write_jsonl(out, rows)


def se_subset(corpus: Path, question_ids: set[str], out: Path) -> None:
    """A Stack Exchange dump folder with only the named questions, their answers, comments and links."""
    out.mkdir(parents=True, exist_ok=True)
    src = corpus / SE_DIR
    posts = ET.parse(src / "Posts.xml").getroot()
    keep = {r.get("Id") for r in posts.iter("row") if r.get("Id") in question_ids or r.get("ParentId") in question_ids}
    for name, test in (
        ("Posts.xml", lambda r: r.get("Id") in keep),
        ("Comments.xml", lambda r: r.get("PostId") in keep),
        ("PostLinks.xml", lambda r: r.get("PostId") in keep and r.get("RelatedPostId") in keep),
    ):
        if not (src / name).exists():
            continue
        root = ET.parse(src / name).getroot()
        for row in [r for r in root.iter("row") if not test(r)]:
            root.remove(row)
        ET.ElementTree(root).write(out / name, encoding="utf-8", xml_declaration=True)


def stackfaq_jsonl(corpus: Path, query_ids: set[str], out: Path) -> None:
    """StackFAQ entries as threads, plus the named paraphrase queries as threads of their own."""
    rows = []
    for line in (corpus / FAQS_SOURCE).read_text(encoding="utf-8").splitlines():
        faq = json.loads(line)
        rows.append({"id": faq["faq_id"], "thread": faq["faq_id"], "author": "asker", "text": faq["question"], "channel": "stackfaq"})
        for i, answer in enumerate(faq["answers"]):
            rows.append({"id": f"{faq['faq_id']}/a{i}", "reply_to": faq["faq_id"], "author": f"answerer{i}", "text": answer})
    with open(corpus / QUERIES_SOURCE, encoding="utf-8") as fh:
        for q in csv.DictReader(fh, delimiter="\t"):
            if q["query_id"] in query_ids:
                rows.append({"id": q["query_id"], "thread": q["query_id"], "author": "searcher", "text": q["query"], "channel": "stackfaq-queries"})
    _write_jsonl(out, rows)


def prepare_inputs(gold: dict[str, list[dict]], corpus: Path, work: Path) -> Inputs:
    """Write the converted sources under `work` and list everything to ingest."""
    inputs = Inputs()
    thread_sources = {r["source"] for r in gold["threads"]}
    pair_sides = [side for p in gold["pairs"] for side in (p["a"], p["b"])]
    if MBOX in thread_sources:
        inputs.add(corpus / MBOX, "mbox", MBOX)
    if SLACK in thread_sources:
        slack_jsonl(corpus, work / "racket-general.jsonl")
        inputs.add(work / "racket-general.jsonl", "slack_xml", SLACK)
    for source in sorted(s for s in thread_sources if s.startswith(GITTER_DIR + "/")):
        out = work / f"gitter-{Path(source).stem}.jsonl"
        gitter_jsonl(corpus / source, out)
        inputs.add(out, "gitter", source)
    se_ids = {r["thread_key"] for r in gold["threads"] if r["format"] == "stackexchange"}
    se_ids |= {s["key"] for s in pair_sides if s["source"] == SE_POSTS}
    if se_ids:
        se_subset(corpus, se_ids, work / "stackexchange")
        inputs.add(work / "stackexchange", "stackexchange", SE_POSTS)
    if any(s["source"] in (FAQS_SOURCE, QUERIES_SOURCE) for s in pair_sides):
        stackfaq_jsonl(corpus, {s["key"] for s in pair_sides if s["source"] == QUERIES_SOURCE}, work / "stackfaq.jsonl")
        inputs.add(work / "stackfaq.jsonl", "stackfaq", FAQS_SOURCE)
    for source in sorted({r["source"] for r in gold["sections"]}):
        inputs.add(corpus / source, "document", source)
    span_sources = {r["source"] for r in gold["spans"]}
    for source in sorted(s for s in span_sources if not s.startswith(QMSUM + "#")):
        inputs.add(corpus / source, "vtt", source)
    lines = sorted({int(s.split("#", 1)[1]) for s in span_sources if s.startswith(QMSUM + "#")})
    if lines:
        all_lines = (corpus / QMSUM).read_text(encoding="utf-8").splitlines()
        (work / "qmsum-gold.jsonl").write_text("\n".join(all_lines[i] for i in lines) + "\n", encoding="utf-8")
        inputs.qmsum_lines = lines
        inputs.add(work / "qmsum-gold.jsonl", "qmsum", QMSUM)
    return inputs


def locate(passage: Any, uri: str, inputs: Inputs) -> dict[str, Any] | None:
    """A passage as a gold locator: {"source", "key"} for messages, "section" / "turn" / "time" otherwise."""
    fmt, source = inputs.kind.get(uri, (None, None))
    mid = passage.message_id or ""
    if fmt in ("mbox", "slack_xml"):
        return {"source": source, "key": mid}
    if fmt == "gitter":
        return {"source": source, "key": mid.split("#", 1)[0]}
    if fmt == "stackexchange":
        return {"source": source, "key": mid.removeprefix("post:")}
    if fmt == "stackfaq":
        if mid.startswith("faq") and "_q" in mid:
            return {"source": QUERIES_SOURCE, "key": mid}
        return {"source": source, "key": mid.split("/", 1)[0]}
    if fmt == "document":
        return {"source": source, "section": list(passage.section_path)}
    if fmt == "qmsum":
        meeting, turn = passage.extra.get("meeting"), passage.extra.get("turn")
        if meeting is None or turn is None or meeting >= len(inputs.qmsum_lines):
            return None
        return {"source": f"{QMSUM}#{inputs.qmsum_lines[meeting]}", "turn": int(turn)}
    if fmt == "vtt":
        return {"source": source, "time": passage.start}
    return None


def run_product(inputs: Inputs, home: Path) -> dict[str, list[dict[str, Any]]]:
    """Ingest, extract (offline extractors) and dedupe in `home`; candidates and artefacts as plain records."""
    previous = os.environ.get("PRACTICE_HOME")
    os.environ["PRACTICE_HOME"] = str(home)  # anything that reads the default home sees the temporary one
    try:
        return _run(inputs, home)
    finally:
        if previous is None:
            os.environ.pop("PRACTICE_HOME", None)
        else:
            os.environ["PRACTICE_HOME"] = previous


def _run(inputs: Inputs, home: Path) -> dict[str, list[dict[str, Any]]]:
    from pipeline.ingest import ingest_paths
    from pipeline.settings import load_settings
    from pipeline.stages import run_dedupe, run_extract
    from pipeline.store import open_store

    seconds: dict[str, float] = {}
    clock = time.monotonic()
    store = open_store(home)
    try:
        ingest = ingest_paths(store, inputs.paths)
    finally:
        store.close()
    seconds["ingest"], clock = round(time.monotonic() - clock, 1), time.monotonic()
    run_extract(home=home)
    seconds["extract"], clock = round(time.monotonic() - clock, 1), time.monotonic()
    run_dedupe(load_settings(None), home=home)
    seconds["dedupe"] = round(time.monotonic() - clock, 1)
    store = open_store(home)
    try:
        uri_of = {s.id: s.uri for s in store.list_sources()}
        candidates = store.candidates()
        passages = store.passages_by_id({e.passage_id for c in candidates for e in c.evidence})
        records = [_candidate_record(c, passages, uri_of, inputs) for c in candidates]
        artefacts = [{"id": a.id, "kind": a.kind.value, "members": list(a.candidate_ids)} for a in store.artefacts()]
    finally:
        store.close()
    failed = [f"{o.uri}: {o.error}" for o in ingest.outcomes if getattr(o, "error", None)]
    return {"candidates": records, "artefacts": artefacts, "ingest_errors": failed, "seconds": seconds}


def _candidate_record(cand: Any, passages: dict[str, Any], uri_of: dict[str, str], inputs: Inputs) -> dict[str, Any]:
    located: dict[str, list[dict[str, Any]]] = {}
    for ev in cand.evidence:
        p = passages.get(ev.passage_id)
        if p is None or ev.role not in _FACTUAL_ROLES:
            continue
        loc = locate(p, uri_of.get(p.source_id, ""), inputs)
        if loc is not None:
            located.setdefault(ev.role, []).append(loc)
    return {"id": cand.id, "kind": cand.kind.value, "open": cand.is_open_question,
            "confidence": cand.confidence, "evidence": located}  # fmt: skip
