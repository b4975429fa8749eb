"""Draw a seeded random sample of thread FAQs from the mailing list and the Stack Exchange dump,
for judging by hand (question real and self-contained, answer right, text clean).

Threads are shuffled with the seed; the threads extractor runs over each sampled thread (it
extracts thread by thread, so this is exactly what `practice extract` stores for it) until N
FAQs are collected per source. Threads that give no FAQ (nothing asked, or not FAQ-worthy) are
listed with the extractor's decision.

    .venv/bin/python bench/sample_thread_faqs.py --seed 20261130 --n 25 --out sample.json
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from extractors.threads import ThreadExtractor, group_threads
from pipeline.models import Passage, Source, SourceKind
from pipeline.sources.base import DirBundle, FileBundle, ParseOptions
from pipeline.sources.mbox import MboxParser
from pipeline.sources.stackexchange import StackExchangeParser

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
SOURCES = {
    "mbox": (MboxParser(), lambda c: FileBundle(c / "chat/mailing_list_r-package-devel/2024q3.mbox")),
    "se": (StackExchangeParser(), lambda c: DirBundle(c / "threads/stackexchange/quantumcomputing.stackexchange.com")),
}


def sample(corpus: Path, seed: int, n: int) -> list[dict]:
    """Up to n FAQs per source from seeded-random threads, with the thread beside each."""
    extractor = ThreadExtractor()
    out: list[dict] = []
    for name, (parser, bundle) in SOURCES.items():
        parsed = parser.parse(bundle(corpus), ParseOptions())
        threads = group_threads([Passage.from_draft(d, name, i) for i, d in enumerate(parsed.passages)])
        order = list(range(len(threads)))
        random.Random(seed).shuffle(order)
        source = Source(id=name, kind=SourceKind.thread, uri=name, content_hash=name)
        got = 0
        for index in order:
            if got >= n:
                break
            thread = threads[index]
            result = extractor.run(source, thread)
            if not result.candidates:
                out.append({"source": name, "thread": index, "no_faq": thread[0].text[:300], "decisions": result.decisions})
            for faq in result.candidates:
                got += 1
                out.append({
                    "source": name, "thread": index, "subject": thread[0].extra.get("subject") or thread[0].extra.get("title"),
                    "post": thread[0].text, "replies": [(p.author, p.text) for p in thread[1:]],
                    "question": faq.question, "answer": faq.answer, "confidence": faq.confidence,
                })  # fmt: skip
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=20261130)
    ap.add_argument("--n", type=int, default=25)
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    rows = sample(args.corpus, args.seed, args.n)
    args.out.write_text(json.dumps(rows, indent=1, ensure_ascii=False, default=str), encoding="utf-8")
    print(f"{sum(1 for r in rows if 'question' in r)} FAQs written to {args.out}")


if __name__ == "__main__":
    main()
