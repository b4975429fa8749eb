"""A store with one approved FAQ whose 5 quotes come from 3 conversations (threads) of one chat export.

Shared by tests/test_evidence.py (HTML through the TestClient) and tests/test_browser_search.py.
"""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.ingest import IngestOptions, ingest_paths
from pipeline.models import Artefact, ArtefactStatus, CandidateKind, Evidence, Support
from pipeline.store import open_store

# thread -> messages (author, minute, text); the quoted ones are named in QUOTED
THREADS = {
    "ci": [("ana", 5, "our integration suite keeps failing at random on the ci runners"),
           ("bo", 7, "we moved the flaky tests into a quarantine job that never blocks a merge"),
           ("cy", 9, "does the quarantine job still page anyone"),
           ("bo", 12, "no, it files a ticket per test once a day"),
           ("ana", 15, "thanks, trying that")],
    "deploy": [("di", 20, "how do you keep flaky end to end tests from blocking deploys"),
               ("eve", 22, "retry once, then quarantine the test and tell its owner"),
               ("fay", 25, "we also tag them so the dashboard shows the quarantine list")],
    "retro": [("gus", 30, "retro notes: flaky tests cost us two days this sprint"),
              ("hal", 33, "action: every quarantined test gets an owner and a deadline")],
}  # fmt: skip
QUOTED = [
    ("ci", 1, "answer"), ("ci", 3, "support"), ("deploy", 0, "question"), ("deploy", 1, "answer"), ("retro", 1, "support"),
]  # fmt: skip
TITLE = "How do teams keep flaky tests from blocking merges?"


def write_export(path: Path) -> Path:
    """The three threads as a JSON-lines chat export (21 Sep 2026, 08:mm UTC)."""
    rows = []
    for thread, messages in THREADS.items():
        for i, (author, minute, text) in enumerate(messages):
            rows.append({"id": f"{thread}-{i}", "thread": thread, "author": author, "text": text,
                         "timestamp": f"2026-09-21T08:{minute:02d}:12.002700+00:00"})  # fmt: skip
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def add_three_conversation_faq(home: Path, export: Path, community: str = "platform") -> str:
    """Ingest ``export`` (written by `write_export`) into the store at ``home`` and add the FAQ; its id."""
    store = open_store(home)
    try:
        ingest_paths(store, [export], IngestOptions(community=community))
        by_text = {p.text: p for p in store.passages() if p.source_id and p.text}
        evidence = []
        for thread, i, role in QUOTED:
            p = by_text[THREADS[thread][i][2]]
            evidence.append(Evidence(passage_id=p.id, quote=p.text, role=role))
        faq = Artefact(
            id="faq-three-conversations", kind=CandidateKind.faq, status=ArtefactStatus.approved, question=TITLE,
            answer="Move them to a quarantine job that never blocks, give each an owner, retry once.",
            evidence=evidence, communities=[community], extractors=["threads"],
            support=Support(candidates=3, conversations=3, sources=1, authors=4, communities=1),
        )  # fmt: skip
        store.save_artefacts([faq])
    finally:
        store.close()
    return faq.id
