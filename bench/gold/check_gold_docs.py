"""Check bench/gold/sections.jsonl and spans.jsonl against the sources they label.

For every line: the unit exists in its source (section heading path / QMSum turns / VTT cue
start times), the label is one of the allowed ones, the split is the one the seeded hash of the
unit key gives, and every excerpt occurs verbatim in the unit's rendered text (Markdown links,
emphasis, code ticks, HTML and ERB tags reduced to their text; whitespace collapsed).

    python bench/gold/check_gold_docs.py            # prints counts; exit 1 on any problem
"""
from __future__ import annotations

import collections
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gold_units as g  # noqa: E402

HERE = Path(__file__).resolve().parent
SECTION_LABELS = {"practice", "faq", "checklist", "none"}
SPAN_LABELS = {"decision", "action", "practice", "faq", "none"}

_RENDER = [
    (re.compile(r"""<%=\s*warning_text\(\s*(['"])(.*?)\1\s*\)\s*-?%>""", re.S), r"\2"),
    (re.compile(r"<%.*?%>", re.S), ""),
    (re.compile(r"^\s*\[[^\]]+\]:\s+\S+.*$", re.M), ""),          # link reference definitions
    (re.compile(r"^[ \t]*>[ \t]?", re.M), ""),                      # blockquote markers
    (re.compile(r"<(?!https?:)[^<>]+>"), ""),                       # HTML tags, not <https://…>
    (re.compile(r"!?\[([^\]]*)\](\([^)]*\)|\[[^\]]*\])?"), r"\1"),  # links -> their text
    (re.compile(r"\*\*|__|`"), ""),
    (re.compile(r"(?<![\w*])\*(\S[^*]*?)\*(?![\w*])"), r"\1"),
    (re.compile(r"(?<!\w)_(\S[^_]*?)_(?!\w)"), r"\1"),
]


def render(text: str) -> str:
    """The text as a reader sees it, whitespace collapsed (for verbatim excerpt checks)."""
    for pattern, repl in _RENDER:
        text = pattern.sub(repl, text)
    return re.sub(r"\s+", " ", text).strip()


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def check_sections(rows: list[dict]) -> list[str]:
    units = {u["key"]: u for u in g.all_sections()}
    problems = []
    for n, row in enumerate(rows, 1):
        key = g.section_key(row["source"], row["section"])
        unit = units.get(key)
        if unit is None:
            problems.append(f"sections line {n}: no section {key}")
            continue
        problems += _common(f"sections line {n}", row, key, SECTION_LABELS)
        if row["label"] == "none" and row["practices"]:
            problems.append(f"sections line {n}: label none but practices listed")
        text = render(unit["text"])
        for excerpt in row["practices"]:
            if render(excerpt) not in text:
                problems.append(f"sections line {n}: excerpt not verbatim: {excerpt[:70]!r}")
    return problems


def _span_text(row: dict) -> str | None:
    if row["source"].startswith(g.QMSUM):
        line = int(row["source"].split("#")[1])
        turns = json.loads((g.CORPUS / g.QMSUM).read_text(encoding="utf-8").splitlines()[line])["meeting_transcripts"]
        first, last = row["turns"]
        if not 0 <= first <= last < len(turns):
            return None
        return " ".join(t["content"] for t in turns[first:last + 1])
    cues = g.zoom_cues()
    starts = [c[0] for c in cues]
    if row["turns"][0] not in starts or row["turns"][1] not in starts:
        return None
    i, j = starts.index(row["turns"][0]), starts.index(row["turns"][1])
    return " ".join(body for _, body in cues[i:j + 1])


def _overlaps(rows: list[dict]) -> list[str]:
    """QMSum spans of one meeting must not overlap (units are independent); VTT ones neither."""
    out, by_source = [], collections.defaultdict(list)
    for n, row in enumerate(rows, 1):
        by_source[row["source"]].append((row["turns"][0], row["turns"][1], n))
    for source, spans in by_source.items():
        spans.sort()
        for (a1, b1, n1), (a2, b2, n2) in zip(spans, spans[1:]):
            if a2 <= b1:
                out.append(f"spans lines {n1} and {n2}: overlapping turns in {source}")
    return out


def check_spans(rows: list[dict]) -> list[str]:
    problems = _overlaps(rows)
    for n, row in enumerate(rows, 1):
        key = g.span_key(row["source"], row["turns"])
        problems += _common(f"spans line {n}", row, key, SPAN_LABELS)
        text = _span_text(row)
        if text is None:
            problems.append(f"spans line {n}: no such turns {row['turns']} in {row['source']}")
        elif row["text"] and _flat(row["text"]) not in _flat(text):
            problems.append(f"spans line {n}: text not verbatim: {row['text'][:70]!r}")
    return problems


def _common(where: str, row: dict, key: str, labels: set[str]) -> list[str]:
    out = []
    if row["label"] not in labels:
        out.append(f"{where}: label {row['label']!r} not in {sorted(labels)}")
    if row["split"] != g.split_of(key):
        out.append(f"{where}: split {row['split']} but the hash of {key!r} gives {g.split_of(key)}")
    if "labeller_note" not in row:
        out.append(f"{where}: labeller_note missing")
    return out


def _load(name: str) -> list[dict]:
    path = HERE / name
    return [json.loads(l) for l in path.read_text(encoding="utf-8").splitlines() if l.strip()] if path.exists() else []


def main() -> int:
    sections, spans = _load("sections.jsonl"), _load("spans.jsonl")
    problems = check_sections(sections) + check_spans(spans)
    for name, rows, field in (("sections", sections, "label"), ("spans", spans, "label")):
        by_source = collections.Counter(r["source"].split("/")[1] if name == "sections" else r["source"].split("/")[1] for r in rows)
        print(f"{name}: {len(rows)} units; by source {dict(by_source)}")
        print("  label x split:", dict(sorted(collections.Counter((r[field], r["split"]) for r in rows).items())))
    for p in problems:
        print("PROBLEM", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
