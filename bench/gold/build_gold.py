"""Write bench/gold/threads.jsonl and pairs.jsonl from the labeller's raw judgements.

The judgements are data, not code output: `labels_threads.jsonl` holds, for each unit of the seeded
sample (pipeline.gold_units.sample), the labeller's reading — message indexes into the unit as
bench/gold/sample_units.py prints them — and `PAIRS_*` below hold the question pairs the labeller
judged. This script only resolves indexes to source-level keys, copies texts, and adds the split.

    PYTHONPATH=$PWD python bench/gold/build_gold.py
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

from pipeline.gold_units import DEFAULT_CORPUS, FAQS_SOURCE as FAQS, QUERIES_SOURCE as QUERIES, SE_DIR, SE_POSTS, SEED, gold_split, sample

HERE = Path(__file__).resolve().parent
SAMPLE_SIZES = {"mbox": 40, "slack_xml": 72, "gitter": 72, "stackexchange": 72}

# StackFAQ entries of the one FAQ collection that share a product and a topic but ask different
# questions (judged by reading both questions and their first answers).
PAIRS_STACKFAQ_NEGATIVE = [
    ("faq0000", "faq0003"), ("faq0015", "faq0016"), ("faq0022", "faq0055"), ("faq0025", "faq0032"),
    ("faq0028", "faq0039"), ("faq0037", "faq0004"), ("faq0038", "faq0080"), ("faq0042", "faq0043"),
    ("faq0011", "faq0017"), ("faq0057", "faq0094"), ("faq0019", "faq0072"), ("faq0072", "faq0079"),
    ("faq0001", "faq0012"), ("faq0064", "faq0081"), ("faq0088", "faq0064"), ("faq0083", "faq0049"),
    ("faq0090", "faq0070"), ("faq0069", "faq0104"), ("faq0063", "faq0075"), ("faq0092", "faq0029"),
    ("faq0105", "faq0108"), ("faq0060", "faq0120"), ("faq0120", "faq0122"), ("faq0110", "faq0096"),
    ("faq0113", "faq0124"), ("faq0002", "faq0118"), ("faq0005", "faq0008"), ("faq0030", "faq0008"),
    ("faq0026", "faq0041"), ("faq0059", "faq0086"), ("faq0050", "faq0047"), ("faq0013", "faq0027"),
    ("faq0054", "faq0020"), ("faq0056", "faq0116"), ("faq0019", "faq0079"),
]
N_STACKFAQ_POSITIVE = 40  # paraphrase query -> its entry, drawn with the seed, each read by the labeller
# Drawn paraphrases the labeller judged to ask something else (kept, labelled not-same).
NOT_PARAPHRASES = {"faq0014_q09": "asks to convert images into ASCII art; the entry asks for ASCII art tables"}

# Stack Exchange related links (LinkTypeId=1), judged by reading both questions: all related, none the same question.
PAIRS_SE_RELATED = [
    ("1635", "1485"), ("1356", "75"), ("2399", "1999"), ("2439", "2390"), ("2347", "2338"), ("1489", "1519"),
    ("2372", "2200"), ("7", "3"), ("112", "23"), ("2415", "1860"), ("2514", "2516"), ("2174", "1664"),
    ("3863", "3879"), ("4125", "2333"), ("7", "142"), ("1952", "1595"), ("2393", "2390"), ("1952", "1937"),
    ("1914", "112"), ("137", "3"), ("1973", "1918"), ("1428", "1226"), ("2149", "2110"), ("1613", "1385"),
    ("1390", "1182"), ("2690", "2691"), ("3989", "2223"), ("2388", "2390"), ("2278", "1629"), ("2489", "65"),
    ("1327", "1244"), ("4078", "2177"), ("2622", "2604"), ("2415", "1867"), ("1487", "1517"),
]

# Thread-gold messages: (format, sample index, message index). Generic closers of different threads,
# and problem statements of different threads on one topic: never the same question.
PAIRS_GENERIC = [
    (("gitter", 19, 2), ("gitter", 61, 2)), (("gitter", 61, 1), ("gitter", 2, 2)), (("gitter", 50, 0), ("gitter", 7, 3)),
    (("gitter", 13, 4), ("gitter", 54, 2)), (("gitter", 42, 1), ("gitter", 19, 1)), (("gitter", 57, 1), ("gitter", 25, 0)),
    (("gitter", 13, 11), ("gitter", 8, 3)), (("slack_xml", 31, 0), ("gitter", 67, 3)), (("gitter", 23, 2), ("gitter", 19, 2)),
    (("gitter", 71, 0), ("gitter", 59, 0)), (("gitter", 61, 2), ("gitter", 7, 3)), (("gitter", 65, 0), ("gitter", 59, 0)),
]
PAIRS_SAME_TOPIC = [
    (("mbox", 3, 0), ("mbox", 33, 0)), (("mbox", 10, 0), ("mbox", 24, 0)), (("mbox", 1, 0), ("mbox", 30, 0)),
    (("mbox", 21, 0), ("mbox", 24, 0)), (("mbox", 2, 0), ("mbox", 17, 0)), (("mbox", 13, 0), ("mbox", 29, 0)),
    (("mbox", 11, 0), ("mbox", 34, 0)), (("mbox", 7, 0), ("mbox", 22, 0)), (("mbox", 0, 0), ("mbox", 23, 0)),
    (("mbox", 5, 0), ("mbox", 35, 0)), (("gitter", 13, 0), ("gitter", 21, 4)), (("gitter", 4, 0), ("gitter", 54, 0)),
    (("gitter", 33, 0), ("gitter", 54, 0)), (("gitter", 6, 0), ("gitter", 68, 0)), (("gitter", 5, 0), ("gitter", 53, 0)),
    (("gitter", 14, 0), ("gitter", 52, 0)), (("gitter", 10, 0), ("gitter", 34, 0)), (("gitter", 3, 0), ("gitter", 55, 0)),
    (("gitter", 46, 0), ("gitter", 61, 0)), (("stackexchange", 16, 0), ("stackexchange", 47, 0)),
    (("stackexchange", 44, 0), ("stackexchange", 24, 0)), (("stackexchange", 46, 0), ("stackexchange", 61, 0)),
    (("stackexchange", 8, 0), ("stackexchange", 18, 0)), (("stackexchange", 35, 0), ("stackexchange", 62, 0)),
    (("stackexchange", 17, 0), ("stackexchange", 41, 0)), (("stackexchange", 59, 0), ("stackexchange", 45, 0)),
    (("stackexchange", 11, 0), ("stackexchange", 48, 0)), (("slack_xml", 25, 4), ("slack_xml", 27, 15)),
    (("stackexchange", 4, 0), ("stackexchange", 69, 0)),
]


def _units(corpus: Path) -> dict[str, list[dict]]:
    return {fmt: sample(fmt, n, SEED, corpus) for fmt, n in SAMPLE_SIZES.items()}


def _keys(unit: dict, refs: list) -> list[str]:
    """Message indexes → keys; a string is already a key (an answer outside the unit)."""
    return [r if isinstance(r, str) else unit["messages"][r]["key"] for r in refs]


def thread_rows(units: dict[str, list[dict]]) -> list[dict]:
    """threads.jsonl rows from labels_threads.jsonl."""
    rows = []
    for line in (HERE / "labels_threads.jsonl").read_text(encoding="utf-8").splitlines():
        lab = json.loads(line)
        unit = units[lab["f"]][lab["i"]]
        answers = _keys(unit, lab["a"])
        rows.append({
            "source": unit["source"], "format": unit["format"], "thread_key": unit["thread_key"],
            "is_question": lab["isq"], "question_keys": _keys(unit, lab["q"]), "question": lab["text"],
            "answer_keys": answers, "answered": bool(answers), "split": gold_split(unit["thread_key"]),
            "labeller_note": lab["note"],
        })  # fmt: skip
    return rows


def _short(text: str, limit: int = 400) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


def _pair(a: dict, b: dict, same: bool, origin: str, note: str = "") -> dict:
    key = f"{a['source']}#{a['key']}|{b['source']}#{b['key']}"
    return {"a": a, "b": b, "same": same, "origin": origin, "split": gold_split(key), "labeller_note": note}


def pair_rows(units: dict[str, list[dict]], corpus: Path) -> list[dict]:
    """pairs.jsonl rows: Stack Exchange duplicate and related links, StackFAQ, thread-gold messages."""
    import xml.etree.ElementTree as ET

    titles = {r.get("Id"): r.get("Title", "") for r in ET.parse(corpus / SE_POSTS).getroot().iter("row") if r.get("PostTypeId") == "1"}
    se = lambda pid: {"source": SE_POSTS, "key": pid, "text": titles[pid]}  # noqa: E731
    rows = []
    for link in ET.parse(corpus / SE_DIR / "PostLinks.xml").getroot().iter("row"):
        if link.get("LinkTypeId") == "3" and link.get("PostId") in titles and link.get("RelatedPostId") in titles:
            rows.append(_pair(se(link.get("PostId")), se(link.get("RelatedPostId")), True, "se-duplicate-link"))
    rows += [_pair(se(a), se(b), False, "se-related-link-handlabelled", "related, a different question") for a, b in PAIRS_SE_RELATED]

    faqs = {}
    for line in (corpus / FAQS).read_text(encoding="utf-8").splitlines():
        d = json.loads(line)
        faqs[d["faq_id"]] = {"source": FAQS, "key": d["faq_id"], "text": d["question"]}
    rows += [_pair(faqs[a], faqs[b], False, "stackfaq-page", "entries of one FAQ collection, same product, different question") for a, b in PAIRS_STACKFAQ_NEGATIVE]
    with open(corpus / QUERIES, encoding="utf-8") as fh:
        queries = [q for q in csv.DictReader(fh, delimiter="\t") if len(q["query"].split()) >= 4]
    for q in random.Random(SEED).sample(queries, N_STACKFAQ_POSITIVE):
        query = {"source": QUERIES, "key": q["query_id"], "text": q["query"]}
        note = NOT_PARAPHRASES.get(q["query_id"], "")
        rows.append(_pair(query, faqs[q["relevant_faq_id"]], not note, "stackfaq-paraphrase", note))

    def msg(ref: tuple[str, int, int]) -> dict:
        fmt, i, m = ref
        unit = units[fmt][i]
        return {"source": unit["source"], "key": unit["messages"][m]["key"], "text": _short(unit["messages"][m]["text"])}

    rows += [_pair(msg(a), msg(b), False, "handlabelled-generic-closer") for a, b in PAIRS_GENERIC]
    rows += [_pair(msg(a), msg(b), False, "handlabelled-same-topic") for a, b in PAIRS_SAME_TOPIC]
    return rows


def main() -> None:
    """Write both files and print counts per origin and split."""
    corpus = DEFAULT_CORPUS
    units = _units(corpus)
    for name, rows in (("threads.jsonl", thread_rows(units)), ("pairs.jsonl", pair_rows(units, corpus))):
        with open(HERE / name, "w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        print(name, len(rows), {s: sum(r["split"] == s for r in rows) for s in ("dev", "heldout")})


if __name__ == "__main__":
    main()
