"""Run the offline document and transcript extractors over real material and sample patterns.

    PYTHONPATH=$PWD python bench/pattern_sample.py ../shared/corpus/docs/google_eng_practices \
        ../shared/corpus/docs/gds_way ../shared/corpus/meetings/qmsum/test.jsonl \
        ../shared/corpus/meetings/zoom_vtt --seed 10 -n 25 [--all FILE.jsonl]

Prints how many patterns each extractor produced and a seeded random sample of them, one block
each (name, context, problem, recommendation, items), for judging by hand. `--all` writes every
pattern as one JSON object a line. Files that do not parse are reported and skipped.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter
from pathlib import Path

from pipeline.models import CandidateKind, Passage, Source
from pipeline.sources import detect
from pipeline.sources.base import FileBundle, ParseOptions, SourceError


def _files(paths: list[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out += sorted(f for f in p.rglob("*") if f.is_file() and not f.name.upper().startswith("LICEN"))
        else:
            out.append(p)
    return out


def patterns_of(paths: list[Path]) -> list[dict]:
    """Every pattern candidate the built-in offline extractors find in `paths`, as plain dicts."""
    from extractors.documents import DocumentExtractor
    from extractors.transcripts import TranscriptExtractor

    extractors = [DocumentExtractor(), TranscriptExtractor()]
    out: list[dict] = []
    for k, path in enumerate(_files(paths)):
        bundle = FileBundle(path)
        try:
            parsed = detect(bundle).parse(bundle, ParseOptions())
        except SourceError as exc:
            print(f"skipped {path}: {exc}", file=sys.stderr)
            continue
        source = Source(id=f"s{k}", kind=parsed.kind, uri=str(path), content_hash="h")
        passages = [Passage.from_draft(d, source.id, i) for i, d in enumerate(parsed.passages)]
        for ex in extractors:
            if parsed.kind not in ex.source_kinds:
                continue
            for c in ex.run(source, passages).candidates:
                if c.kind == CandidateKind.pattern:
                    out.append({
                        "file": str(path), "extractor": ex.name, "name": c.name, "context": c.context,
                        "problem": c.problem, "recommendation": c.recommendation, "items": c.items,
                        "confidence": c.confidence,
                    })  # fmt: skip
    return out


def main(argv: list[str] | None = None) -> None:
    """Print counts and a seeded random sample of patterns."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("paths", nargs="+", type=Path)
    ap.add_argument("--seed", type=int, default=10)
    ap.add_argument("-n", type=int, default=25)
    ap.add_argument("--all", type=Path, help="write every pattern to this JSONL file")
    args = ap.parse_args(argv)
    patterns = patterns_of(args.paths)
    print("patterns:", len(patterns), dict(Counter(p["extractor"] for p in patterns)))
    if args.all:
        args.all.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in patterns))
    sample = random.Random(args.seed).sample(patterns, min(args.n, len(patterns)))
    for i, p in enumerate(sample, 1):
        print(f"\n[{i}] {p['name']!r}  ({p['extractor']}, {Path(p['file']).name}, conf {p['confidence']})")
        print(f"    context: {p['context']}")
        if p["problem"]:
            print(f"    problem: {p['problem']}")
        if p["recommendation"]:
            print(f"    rec: {p['recommendation'][:600]}")
        for item in p["items"][:8]:
            print(f"    - {item[:200]}")
        if len(p["items"]) > 8:
            print(f"    ... {len(p['items']) - 8} more items")


if __name__ == "__main__":
    main()
