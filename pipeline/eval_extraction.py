"""`practice eval extraction --gold DIR`: score the product's FAQs, patterns and merges against hand-labelled gold.

The gold (bench/gold/README.md) labels units of the *sources*, never the product's output, so it
stays valid when extractors change. pipeline.eval_extraction_run runs the product over the sources
the gold names and reads every candidate back as gold locators (message keys, section paths, turn
numbers, cue times); this module only counts. Every figure is reported for `dev` and `heldout`
separately; a unit or pair takes the split written in the gold file.

Metrics (n = the denominator, always printed next to the figure):

- **FAQ precision**: of the FAQ candidates whose question evidence lies in a gold thread unit (any
  message of it), the share whose unit is labelled `is_question`. Candidates outside every gold unit
  are not scored (nobody judged them). *Strict*: the question evidence is also one of the unit's
  `question_keys` (the message that states the problem, not a closer or a side remark).
- **FAQ recall**: of the gold units labelled `is_question`, the share with at least one FAQ candidate
  whose question evidence lies in the unit. *Strict*: on one of its `question_keys`.
- For the next two, each recalled unit is represented by one candidate: one whose question is on a
  `question_keys` message if there is one, else the most confident.
- **Answer accuracy**: of recalled units labelled `answered`, the share whose candidate cites as
  answer evidence at least one message of `answer_keys`.
- **Answered-shown-open rate**: of the same units, the share whose candidate has no answer (open).
- **Pattern precision**: of the pattern candidates whose first recommendation/item evidence lies in
  a labelled document section (same source; the deepest gold section whose heading path, once
  `{#anchor}`s, case and spacing are normalised, is a run of the passage's path — a section holds its
  subsections, and either side may lack the outermost page-title heading) or transcript span (QMSum turn in [first, last];
  VTT cue start in [first, last]), the share whose section/span is labelled practice, checklist,
  decision or action.
- **Wrong-merge rate**: every pair of distinct gold items folded into one FAQ artefact is a merge.
  Items: a gold thread unit, a StackFAQ entry, a StackFAQ query, a Stack Exchange question. A merge
  is judged by the pairs.jsonl record joining the two items when there is one; otherwise two StackFAQ
  entries are distinct (entries of one FAQ collection), and two gold units labelled `is_question` are
  distinct (the labeller checked that no two gold questions ask the same thing). Other merges are not
  judged. Rate = judged merges joining not-same items / judged merges. A merge without a pair record
  takes the split of the hash of its two item ids. Also reported: the share of same-labelled pairs
  (both sides extracted) that the product did merge.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from itertools import combinations
from pathlib import Path
from typing import Any

from pipeline.gold_units import FAQS_SOURCE, QUERIES_SOURCE, SE_POSTS, gold_split

SPLITS = ("dev", "heldout")
GOLD_FILES = ("threads", "pairs", "sections", "spans")
PATTERN_LABELS = {"practice", "checklist", "decision", "action"}
_ANCHOR = re.compile(r"\s*\{#[^}]*\}\s*$")


class GoldError(ValueError):
    """A gold file is missing, unreadable or malformed (the message names the file and line)."""


def load_gold(folder: Path) -> dict[str, list[dict[str, Any]]]:
    """The four gold files of `folder` (a missing file is an empty list; at least one must exist)."""
    gold: dict[str, list[dict[str, Any]]] = {}
    for name in GOLD_FILES:
        path = folder / f"{name}.jsonl"
        rows: list[dict[str, Any]] = []
        if path.exists():
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise GoldError(f"{path}:{n}: not JSON ({exc.msg})") from exc
                if row.get("split") not in SPLITS:
                    raise GoldError(f"{path}:{n}: 'split' must be dev or heldout")
                rows.append(row)
        gold[name] = rows
    if not any(gold.values()):
        raise GoldError(f"{folder}: none of {', '.join(f + '.jsonl' for f in GOLD_FILES)} found")
    return gold


def _ratio(hits: int, n: int) -> dict[str, Any]:
    return {"value": round(hits / n, 4) if n else None, "hits": hits, "n": n}


def _msg(loc: dict[str, Any]) -> tuple[str, str] | None:
    return (loc["source"], loc["key"]) if "key" in loc else None


def faq_metrics(threads: list[dict], unit_of: dict[tuple[str, str], str], faqs: list[dict], split: str) -> dict[str, Any]:
    """FAQ precision, recall, answer accuracy and answered-shown-open on one split (definitions above).

    `unit_of` maps (source, message key) of every message of a gold unit to that unit's thread_key.
    """
    units = {(r["source"], r["thread_key"]): r for r in threads if r["split"] == split}
    by_unit: dict[tuple[str, str], list[tuple[dict, bool]]] = {}
    scored = correct = strict = 0
    for cand in faqs:
        keys = [k for k in map(_msg, cand["evidence"].get("question", [])) if k]
        hit = next(((k[0], unit_of[k]) for k in keys if k in unit_of and (k[0], unit_of[k]) in units), None)
        if hit is None:
            continue
        gold = units[hit]
        on_key = any(k[1] in gold["question_keys"] for k in keys if k[0] == hit[0])
        scored += 1
        correct += bool(gold["is_question"])
        strict += bool(gold["is_question"] and on_key)
        by_unit.setdefault(hit, []).append((cand, on_key))
    questions = [u for u, r in units.items() if r["is_question"]]
    answered = acc = shown_open = 0
    for u in questions:
        if not units[u]["answered"] or u not in by_unit:
            continue
        cand = max(by_unit[u], key=lambda c: (c[1], c[0]["confidence"]))[0]
        answers = {k[1] for k in map(_msg, cand["evidence"].get("answer", [])) if k and k[0] == u[0]}
        answered += 1
        acc += bool(answers & set(units[u]["answer_keys"]))
        shown_open += bool(cand["open"])
    return {
        "faq_precision": _ratio(correct, scored),
        "faq_precision_strict": _ratio(strict, scored),
        "faq_recall": _ratio(sum(u in by_unit for u in questions), len(questions)),
        "faq_recall_strict": _ratio(sum(any(on for _, on in by_unit.get(u, [])) for u in questions), len(questions)),
        "answer_accuracy": _ratio(acc, answered),
        "answered_shown_open": _ratio(shown_open, answered),
    }


def _norm_path(path: Iterable[str]) -> tuple[str, ...]:
    return tuple(" ".join(_ANCHOR.sub("", h).split()).lower() for h in path if h.strip())


def _depth_inside(gold: tuple[str, ...], path: tuple[str, ...]) -> int:
    """How deep gold section `gold` is when it contains a passage under heading `path`, 0 when it does not.

    A section contains its subsections; the product may add or drop the outermost (page title) heading.
    """
    for g in (gold, gold[1:]):
        if g and any(path[i : i + len(g)] == g for i in range(len(path) - len(g) + 1)):
            return len(gold)
    return 0


def _region_label(loc: dict[str, Any], sections: list[dict], spans: list[dict]) -> dict | None:
    if "section" in loc:
        path = _norm_path(loc["section"])
        depth, best = max(((_depth_inside(_norm_path(s["section"]), path), i) for i, s in enumerate(sections)
                           if s["source"] == loc["source"]), default=(0, -1))  # fmt: skip
        return sections[best] if depth else None
    for s in spans:
        if s["source"] != loc["source"]:
            continue
        if "turn" in loc and s["turns"][0] <= loc["turn"] <= s["turns"][1]:
            return s
        if loc.get("time") is not None and _seconds(s["turns"][0]) <= loc["time"] <= _seconds(s["turns"][1]) + 0.001:
            return s
    return None


def _seconds(stamp: str | int) -> float:
    if isinstance(stamp, (int, float)):
        return float(stamp)
    h, m, s = stamp.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def pattern_metrics(sections: list[dict], spans: list[dict], patterns: list[dict], split: str) -> dict[str, Any]:
    """Pattern precision on one split: first located recommendation/item evidence decides the region."""
    secs = [s for s in sections if s["split"] == split]
    sps = [s for s in spans if s["split"] == split]
    scored = good = 0
    for cand in patterns:
        locs = cand["evidence"].get("recommendation", []) + cand["evidence"].get("item", [])
        region = next((r for r in (_region_label(loc, secs, sps) for loc in locs) if r is not None), None)
        if region is None:
            continue
        scored += 1
        good += region["label"] in PATTERN_LABELS
    return {"pattern_precision": _ratio(good, scored)}


def item_of(loc: dict[str, Any], unit_of: dict[tuple[str, str], str]) -> str | None:
    """The gold item a message locator stands for: its gold thread unit, or a StackFAQ entry/query, or an SE question."""
    key = _msg(loc)
    if key is None:
        return None
    if key in unit_of:
        return f"unit:{key[0]}#{unit_of[key]}"
    if key[0] in (FAQS_SOURCE, QUERIES_SOURCE):
        return f"{'faq' if key[0] == FAQS_SOURCE else 'query'}:{key[1]}"
    if key[0] == SE_POSTS:
        return f"unit:{SE_POSTS}#{key[1]}"  # an SE question is its own thread unit
    return None


def merge_metrics(
    threads: list[dict], pairs: list[dict], unit_of: dict[tuple[str, str], str],
    candidates: list[dict], artefacts: list[dict], split: str,
) -> dict[str, Any]:  # fmt: skip
    """Wrong-merge rate on one split, and the share of same-labelled pairs the product merged."""
    cand_item = {c["id"]: item_of(c["evidence"]["question"][0], unit_of) for c in candidates if c["evidence"].get("question")}
    questions = {f"unit:{r['source']}#{r['thread_key']}" for r in threads if r["is_question"]}
    judged: dict[frozenset[str], tuple[bool, str]] = {}
    for p in pairs:
        a, b = item_of(p["a"], unit_of), item_of(p["b"], unit_of)
        if a and b and a != b:
            judged[frozenset((a, b))] = (bool(p["same"]), p["split"])
    merged: set[frozenset[str]] = set()
    for art in artefacts:
        if art["kind"] != "faq":
            continue
        items = sorted({cand_item[m] for m in art["members"] if cand_item.get(m)})
        merged.update(frozenset(x) for x in combinations(items, 2))
    total = wrong = 0
    for pair in merged:
        if pair in judged:
            same, pair_split = judged[pair]
        elif all(x.startswith("faq:") for x in pair) or pair <= questions:
            same, pair_split = False, gold_split("|".join(sorted(pair)))
        else:
            continue
        if pair_split == split:
            total += 1
            wrong += not same
    extracted = set(cand_item.values())
    positives = [k for k, (same, s) in judged.items() if same and s == split and k <= extracted]
    return {
        "wrong_merge_rate": _ratio(wrong, total),
        "same_pairs_merged": _ratio(sum(k in merged for k in positives), len(positives)),
    }


def unit_index(threads: list[dict], units_by_source: Callable[[str, str], list[dict]]) -> dict[tuple[str, str], str]:
    """(source, message key) → thread_key for every message of every gold unit (read from the sources)."""
    wanted = {(r["source"], r["thread_key"]) for r in threads}
    index: dict[tuple[str, str], str] = {}
    for fmt, source in sorted({(r["format"], r["source"]) for r in threads}):
        for unit in units_by_source(fmt, source):
            if (unit["source"], unit["thread_key"]) in wanted:
                for m in unit["messages"]:
                    index.setdefault((unit["source"], m["key"]), unit["thread_key"])
    return index


def score(gold: dict[str, list[dict]], unit_of: dict[tuple[str, str], str], output: dict[str, Any]) -> dict[str, Any]:
    """Every metric for dev and heldout from the product's output records (pure: no files, no product)."""
    faqs = [c for c in output["candidates"] if c["kind"] == "faq"]
    patterns = [c for c in output["candidates"] if c["kind"] == "pattern"]
    report: dict[str, Any] = {}
    for split in SPLITS:
        report[split] = {
            **faq_metrics(gold["threads"], unit_of, faqs, split),
            **pattern_metrics(gold["sections"], gold["spans"], patterns, split),
            **merge_metrics(gold["threads"], gold["pairs"], unit_of, output["candidates"], output["artefacts"], split),
        }
    return report


def score_by_format(threads: list[dict], unit_of: dict[tuple[str, str], str], output: dict[str, Any]) -> dict[str, Any]:
    """The FAQ metrics of each thread format alone (mbox, slack_xml, gitter, stackexchange), per split."""
    faqs = [c for c in output["candidates"] if c["kind"] == "faq"]
    return {
        fmt: {split: faq_metrics([r for r in threads if r["format"] == fmt], unit_of, faqs, split) for split in SPLITS}
        for fmt in sorted({r["format"] for r in threads})
    }


def evaluate_extraction(gold_dir: Path, corpus: Path, work: Path | None = None) -> dict[str, Any]:
    """Run the product over the gold's sources (in a temporary PRACTICE_HOME) and score it.

    `work` keeps the converted inputs and the store for inspection; by default both are thrown away.
    """
    import tempfile
    import time

    from pipeline.eval_extraction_run import prepare_inputs, run_product
    from pipeline.gold_units import LOADERS

    gold = load_gold(gold_dir)
    if not corpus.is_dir():
        raise GoldError(f"corpus folder not found: {corpus}")
    started = time.monotonic()
    loaded: dict[str, list[dict]] = {}

    def units_by_source(fmt: str, source: str) -> list[dict]:
        if fmt not in loaded:
            loaded[fmt] = LOADERS[fmt](corpus)
        return [u for u in loaded[fmt] if u["source"] == source]

    unit_of = unit_index(gold["threads"], units_by_source)
    with tempfile.TemporaryDirectory(prefix="practice-eval-") as tmp:
        root = work or Path(tmp)
        (root / "inputs").mkdir(parents=True, exist_ok=True)
        inputs = prepare_inputs(gold, corpus, root / "inputs")
        output = run_product(inputs, root / "home")
    report = score(gold, unit_of, output)
    return {
        "gold": {name: {s: sum(r["split"] == s for r in rows) for s in SPLITS} for name, rows in gold.items()},
        "product": {
            "faq_candidates": sum(c["kind"] == "faq" for c in output["candidates"]),
            "pattern_candidates": sum(c["kind"] == "pattern" for c in output["candidates"]),
            "artefacts": len(output["artefacts"]),
            "ingest_errors": output["ingest_errors"],
            "seconds": output.get("seconds", {}),
        },
        "results": report,
        "by_format": score_by_format(gold["threads"], unit_of, output),
        "seconds": round(time.monotonic() - started, 1),
    }


_ROWS = (
    ("faq_precision", "FAQ precision"), ("faq_precision_strict", "  strict (on the problem message)"),
    ("faq_recall", "FAQ recall"), ("faq_recall_strict", "  strict (on the problem message)"),
    ("answer_accuracy", "answer accuracy"), ("answered_shown_open", "answered shown open"),
    ("pattern_precision", "pattern precision"), ("wrong_merge_rate", "wrong-merge rate"),
    ("same_pairs_merged", "same pairs merged"),
)  # fmt: skip


_FORMAT_COLUMNS = ("faq_precision", "faq_recall", "answer_accuracy", "answered_shown_open")


def report_lines(report: dict[str, Any]) -> list[str]:
    """The report as a table: one row a metric, value and hits/n for dev and heldout."""
    g = report["gold"]
    lines = [
        "gold (dev/heldout): " + ", ".join(f"{name} {c['dev']}/{c['heldout']}" for name, c in g.items()),
        f"product: {report['product']['faq_candidates']} FAQ and {report['product']['pattern_candidates']} pattern candidates, "
        f"{report['product']['artefacts']} artefacts ({report['seconds']}s)",
        f"{'':36}{'dev':>18}{'heldout':>18}",
    ]
    for key, label in _ROWS:
        cells = []
        for split in SPLITS:
            m = report["results"][split][key]
            cells.append(f"{m['value']:.3f} ({m['hits']}/{m['n']})" if m["value"] is not None else f"- (0/{m['n']})")
        lines.append(f"{label:36}{cells[0]:>18}{cells[1]:>18}")
    if report.get("by_format"):
        lines.append("by format: FAQ precision, recall, answer accuracy, answered shown open (dev | heldout)")
    for fmt, res in report.get("by_format", {}).items():
        cells = []
        for split in SPLITS:
            m = res[split]
            cells.append(" ".join(f"{m[k]['value']:.2f}" if m[k]["value"] is not None else "-" for k in _FORMAT_COLUMNS))
        lines.append(f"  {fmt:34}{cells[0]:>26}{cells[1]:>26}")
    for error in report["product"]["ingest_errors"]:
        lines.append(f"ingest failed: {error}")
    return lines
