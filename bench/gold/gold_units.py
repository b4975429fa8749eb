"""Units of the document-section and transcript-span gold, read straight from the sources.

Deliberately independent of the product's parsers (pipeline/sources): the gold must stay
valid when those change, so this module re-reads the raw files with the simplest rules that
match the gold definitions in bench/gold/README_docs.md.

    python bench/gold/gold_units.py sections [--seed 10] [--n 160] [--show]
    python bench/gold/gold_units.py google-sections [--seed 11] [--n 30] [--show]   # extra Google
        sections (the Google guide holds 89 of 758 sections), none of those the main sample drew
    python bench/gold/gold_units.py spans [--seed 10] [--qmsum 42] [--zoom 14] [--show]
    python bench/gold/gold_units.py spans-extra --seed 11 --qmsum 20 [--show]   # more random windows
    python bench/gold/gold_units.py spans-decisions [--show]   # short QMSum spans of decision queries
"""
from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
DOC_DIRS = ("docs/google_eng_practices", "docs/gds_way")
QMSUM = "meetings/qmsum/test.jsonl"
ZOOM = "meetings/zoom_vtt/meeting001_transcript.vtt"
# Same salt and formula as gold_split() in gold-threads' pipeline/gold_units.py (one split rule for all gold).
SPLIT_SALT = "practice-gold-20261130"

_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_FRONT = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)
_ERB_TITLE = re.compile(r"<%=\s*current_page\.data\.title\s*%>")
_CUE_TIME = re.compile(r"^(\d\d:\d\d:\d\d\.\d\d\d) --> (\d\d:\d\d:\d\d\.\d\d\d)")


def split_of(key: str) -> str:
    """'heldout' for a fifth of unit keys, chosen by a salted SHA-256 of the key; else 'dev'."""
    digest = hashlib.sha256(f"{SPLIT_SALT}:{key}".encode()).hexdigest()
    return "heldout" if int(digest, 16) % 5 == 0 else "dev"


def section_key(source: str, path: list[str]) -> str:
    return source + "#" + " > ".join(path)


def span_key(source: str, turns: list) -> str:
    return f"{source}#{turns[0]}-{turns[1]}"


def doc_sections(path: Path) -> list[dict]:
    """Sections of one Markdown page: heading path, level and text up to the next heading of
    the same or higher level (subsections included). `#` lines inside fenced code are text.
    The ERB page-title placeholder is replaced by the front-matter title, as the page renders."""
    text = path.read_text(encoding="utf-8")
    title = None
    front = _FRONT.match(text)
    if front:
        text = text[front.end():]
        m = re.search(r"^title:\s*(.+)$", front.group(1), re.MULTILINE)
        title = m.group(1).strip().strip("'\"") if m else None
    lines = text.splitlines()
    heads, in_fence = [], False
    for i, line in enumerate(lines):
        if _FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence and (m := _HEADING.match(line)):
            heads.append((i, len(m.group(1)), _ERB_TITLE.sub(title or "", m.group(2)).strip()))
    out, stack = [], []
    for n, (i, level, name) in enumerate(heads):
        stack = [s for s in stack if s[0] < level] + [(level, name)]
        end = next((j for j, lv, _ in heads[n + 1:] if lv <= level), len(lines))
        out.append({"section": [s[1] for s in stack], "level": level, "text": "\n".join(lines[i:end])})
    return out


def all_sections() -> list[dict]:
    units = []
    for d in DOC_DIRS:
        for path in sorted((CORPUS / d).rglob("*.md*")):
            source = str(path.relative_to(CORPUS))
            for s in doc_sections(path):
                units.append({"source": source, **s, "key": section_key(source, s["section"])})
    return units


def google_extra(rng: random.Random, n: int, main_seed: int = 10, main_n: int = 160) -> list[dict]:
    """n Google-guide sections that the main sample (main_seed, main_n) did not draw."""
    sections = all_sections()
    drawn = {u["key"] for u in random.Random(main_seed).sample(sections, main_n)}
    pool = [u for u in sections if u["source"].startswith(DOC_DIRS[0]) and u["key"] not in drawn]
    return rng.sample(pool, n)


def qmsum_windows(rng: random.Random, n: int, width: int = 10) -> list[dict]:
    """n distinct, non-overlapping windows of `width` turns (on a grid of `width`) from random meetings."""
    meetings = [json.loads(l)["meeting_transcripts"] for l in open(CORPUS / QMSUM, encoding="utf-8")]
    grid = [(line, k) for line, turns in enumerate(meetings) for k in range(len(turns) // width)]
    units = []
    for line, k in rng.sample(grid, n):
        turns = meetings[line]
        first, last = k * width, k * width + width - 1
        text = "\n".join(f"[{i}] {turns[i]['speaker']}: {turns[i]['content']}" for i in range(first, last + 1))
        source = f"{QMSUM}#{line}"
        units.append({"source": source, "turns": [first, last], "text": text, "key": span_key(source, [first, last])})
    return units


def qmsum_extra(rng: random.Random, n: int, width: int = 10, main_seed: int = 10, main_n: int = 42) -> list[dict]:
    """n more random QMSum windows, none overlapping the main sample (main_seed, main_n)."""
    drawn = {(u["source"], u["turns"][0]) for u in qmsum_windows(random.Random(main_seed), main_n, width)}
    meetings = [json.loads(l)["meeting_transcripts"] for l in open(CORPUS / QMSUM, encoding="utf-8")]
    units = []
    for u in qmsum_windows(rng, n + len(drawn), width):
        if (u["source"], u["turns"][0]) not in drawn and len(units) < n:
            units.append(u)
    return units


_DECISION_QUERY = re.compile(r"decid|decision|agree|conclu|action", re.I)


def qmsum_decision_spans(max_turns: int = 15) -> list[dict]:
    """Every QMSum relevant_text_span of at most max_turns turns whose query asks about a
    decision or conclusion (a decision-rich stratum; each is still labelled by reading it)."""
    units, seen = [], set()
    for line, raw in enumerate(open(CORPUS / QMSUM, encoding="utf-8")):
        meeting = json.loads(raw)
        turns = meeting["meeting_transcripts"]
        for query in meeting["specific_query_list"]:
            if not _DECISION_QUERY.search(query["query"]):
                continue
            for a, b in query["relevant_text_span"]:
                first, last = int(a), int(b)
                source = f"{QMSUM}#{line}"
                if last - first + 1 > max_turns or (source, first, last) in seen:
                    continue
                seen.add((source, first, last))
                text = "\n".join(f"[{i}] {turns[i]['speaker']}: {turns[i]['content']}" for i in range(first, last + 1))
                units.append({"source": source, "turns": [first, last], "text": text,
                              "key": span_key(source, [first, last]), "query": query["query"]})
    return units


def zoom_cues() -> list[tuple[str, str]]:
    cues, lines = [], (CORPUS / ZOOM).read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        if m := _CUE_TIME.match(line):
            body = []
            for nxt in lines[i + 1:]:
                if not nxt.strip():
                    break
                body.append(nxt)
            cues.append((m.group(1), " ".join(body)))
    return cues


def zoom_windows(rng: random.Random, n: int, width: int = 15) -> list[dict]:
    cues = zoom_cues()
    starts = sorted(rng.sample(range(0, len(cues) - width + 1, width), n))  # non-overlapping
    units = []
    for s in starts:
        window = cues[s:s + width]
        turns = [window[0][0], window[-1][0]]
        text = "\n".join(f"[{t}] {body}" for t, body in window)
        units.append({"source": ZOOM, "turns": turns, "text": text, "key": span_key(ZOOM, turns)})
    return units


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("kind", choices=["sections", "google-sections", "spans", "spans-extra", "spans-decisions"])
    ap.add_argument("--seed", type=int, default=10)
    ap.add_argument("--n", type=int, default=160)
    ap.add_argument("--qmsum", type=int, default=42)
    ap.add_argument("--zoom", type=int, default=14)
    ap.add_argument("--show", action="store_true", help="print each unit's full text")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    if args.kind == "sections":
        units = rng.sample(all_sections(), args.n)
    elif args.kind == "google-sections":
        units = google_extra(rng, args.n)
    elif args.kind == "spans":
        units = qmsum_windows(rng, args.qmsum) + zoom_windows(rng, args.zoom)
    elif args.kind == "spans-extra":
        units = qmsum_extra(rng, args.qmsum)
    else:
        units = qmsum_decision_spans()
    for n, u in enumerate(units):
        print(f"=== {n} {split_of(u['key'])} {u['key']}" + (f" (level {u['level']})" if "level" in u else ""))
        if args.show:
            print(u["text"], "\n")


if __name__ == "__main__":
    main()
