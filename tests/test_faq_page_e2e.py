"""End to end on a real FAQ page (issue 10): StackFAQ's 125 entries as one Markdown page through
`practice run`, `practice artefacts` and `practice search --batch`: dedup swallows no entry, and
search finds the entries within 0.01 NDCG@10 of plain dense search over the same FAQs."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.eval_faq_page import BASELINE_DENSE_NDCG, run


@pytest.mark.integration
def test_a_faq_page_keeps_every_entry_and_searches_as_well_as_dense_search(corpus: Path, tmp_path: Path) -> None:
    data = corpus / "retrieval" / "stackfaq" / "derived"
    out = run(data / "faqs.jsonl", data / "queries_qrels.tsv", tmp_path)
    assert out["entries"] == 125 and out["queries"] == 1249
    # One artefact per entry, each entry its own (no entry swallowed by another). Candidates that
    # are not entries (an answer paragraph the document reader takes for a question) are not
    # dedup's to remove: they are listed in `other_artefacts` and must not swallow entries either.
    assert out["entry_artefacts"] == 125 and out["entries_with_an_artefact"] == 125
    assert out["artefacts_holding_several_entries"] == 0
    assert out["search"]["ndcg@10"] >= BASELINE_DENSE_NDCG - 0.01
