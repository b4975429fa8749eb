"""End to end on a FAQ page: does dedup keep every entry, and does search find it as well as plain search?

Builds one Markdown page from StackFAQ's 125 entries (an `## question` heading per entry, its
answers as paragraphs below it), then drives the product through its command line as a user
would, in a fresh ``PRACTICE_HOME``:

    practice run PAGE --include-candidates --json      ingest → extract → dedupe → publish
    practice artefacts --kind faq --json               how many FAQ artefacts (target: one per entry)
    practice search --batch QUERIES -k 10 --kind faq --json --no-floor   every labelled query (default fusion)

and scores the ranked FAQ artefacts against ``queries_qrels.tsv`` (``pipeline.eval_search.ranking_metrics``).
The baseline is ``practice eval search`` dense only on the same FAQs (NDCG@10 0.9768): the page
must lose no entry to dedup and come within 0.01 of it.

A heading is a question only when it reads as one (``extractors.documents``); 29 StackFAQ titles
are topic lines ("Strikethrough with GitHub Markdown"), so the page gives those a "?" as a FAQ
page's author would. An artefact is mapped back to its entry by its normalised question.

Run: ``.venv/bin/python -m pipeline.eval_faq_page [--faqs F] [--qrels Q] [--keep DIR]``
(a few minutes: the run embeds 125 questions and answers, the search 1,249 queries).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus" / "retrieval" / "stackfaq" / "derived"
BASELINE_DENSE_NDCG = 0.9768  # practice eval search --faqs … --qrels …: dense only, same FAQs


def heading_for(question: str) -> str:
    """The entry's question as a FAQ page heading: a "?" added where the title is a topic line."""
    from extractors.documents import _is_question_heading

    q = " ".join(question.split())
    return q if _is_question_heading(q) else f"{q}?"


def _paragraph(text: str) -> str:
    """An answer as one Markdown paragraph (a leading '#', '>' or list marker would change its type)."""
    t = " ".join(text.split())
    return "\\" + t if re.match(r"[#>*+-]|\d+[.)]\s", t) else t


def build_page(faqs: list[dict[str, Any]]) -> str:
    """The Markdown FAQ page: a title, then one `##` heading per entry with its answers below."""
    parts = ["# Web applications: questions and answers", ""]
    for f in faqs:
        parts += [f"## {heading_for(f['question'])}", ""]
        parts += [p for a in f["answers"] for p in (_paragraph(a), "")]
    return "\n".join(parts)


def _practice(home: Path, *args: str) -> str:
    # PYTHONPATH: the code beside this module, also where an installed copy would win.
    env = {**os.environ, "PRACTICE_HOME": str(home), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args], env=env, cwd=home, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"practice {' '.join(args)} failed ({done.returncode}): {done.stderr[-2000:]}")
    return done.stdout


def run(faqs_path: Path, qrels_path: Path, work: Path) -> dict[str, Any]:
    """Build the page under `work`, run the product over it, search every query; the figures."""
    from index.fold_rules import normalise_question
    from pipeline.eval_search import load_faqs, load_qrels, ranking_metrics

    faqs, qrels = load_faqs(faqs_path), load_qrels(qrels_path)
    page = work / "faq" / "stackfaq.md"
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(build_page(faqs), encoding="utf-8")
    home = work / "home"
    home.mkdir(exist_ok=True)
    ran = json.loads(_practice(home, "run", str(page), "--include-candidates", "--json"))
    artefacts = json.loads(_practice(home, "artefacts", "--kind", "faq", "--json"))
    artefacts = [a for a in artefacts if a["type"] == "artefact" and a["status"] != "stale"]
    entry_of = {normalise_question(heading_for(f["question"])): f["faq_id"] for f in faqs}
    faq_of = {a["id"]: entry_of.get(normalise_question(a["question"] or "")) for a in artefacts}
    queries = work / "queries.txt"
    queries.write_text("\n".join(" ".join(q["query"].split()) for q in qrels) + "\n", encoding="utf-8")
    # --no-floor: this measures ranking (as `practice eval search` does); the floor is `practice eval floor`'s
    lines = _practice(home, "search", "--batch", str(queries), "-k", "10", "--kind", "faq", "--json", "--no-floor").splitlines()
    ranked = [[faq_of.get(h["id"]) or h["id"] for h in json.loads(line)["hits"]] for line in lines if line.strip()]
    metrics = ranking_metrics(ranked, [q["relevant_faq_id"] for q in qrels])
    found = {x for x in faq_of.values() if x}
    return {
        "entries": len(faqs),
        "faq_artefacts": len(artefacts),
        "entry_artefacts": sum(1 for x in faq_of.values() if x),  # artefacts whose question is an entry's
        "entries_with_an_artefact": len(found),
        # an entry's artefact that folded other candidates in (another entry, or an answer read as a question)
        "artefacts_holding_several_entries": sum(1 for a in artefacts if a["support"]["candidates"] > 1),
        "other_artefacts": [a["question"] for a in artefacts if not faq_of[a["id"]]],
        "queries": len(ranked),
        "search": metrics,
        "baseline_dense_ndcg@10": BASELINE_DENSE_NDCG,
        "ndcg_gap": round(BASELINE_DENSE_NDCG - metrics["ndcg@10"], 4),
        "run": {k: ran.get(k) for k in ("extract", "dedupe", "publish")},
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--faqs", type=Path, default=CORPUS / "faqs.jsonl")
    ap.add_argument("--qrels", type=Path, default=CORPUS / "queries_qrels.tsv")
    ap.add_argument("--keep", type=Path, help="work here (kept) instead of a temporary folder")
    args = ap.parse_args(argv)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        out = run(args.faqs, args.qrels, args.keep)
    else:
        with tempfile.TemporaryDirectory(prefix="faq-page-e2e-") as tmp:
            out = run(args.faqs, args.qrels, Path(tmp))
    m = out["search"]
    print(f"FAQ page of {out['entries']} entries → {out['faq_artefacts']} FAQ artefacts: {out['entry_artefacts']} "
          f"for {out['entries_with_an_artefact']} distinct entries, {out['artefacts_holding_several_entries']} holding "
          f"several candidates, {len(out['other_artefacts'])} not an entry")  # fmt: skip
    print(f"search, {out['queries']} queries (default fusion): NDCG@10 {m['ndcg@10']:.4f} · MRR {m['mrr']:.4f} · "
          f"R@1 {m['recall@1']:.4f} · R@10 {m['recall@10']:.4f}")  # fmt: skip
    print(f"baseline `practice eval search` dense only: NDCG@10 {out['baseline_dense_ndcg@10']:.4f} "
          f"(gap {out['ndcg_gap']:+.4f}, ratio {m['ndcg@10'] / out['baseline_dense_ndcg@10']:.3f})")  # fmt: skip
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
