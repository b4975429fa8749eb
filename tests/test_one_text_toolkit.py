"""One text toolkit: stop words, stemming and sentence splitting live only in ``pipeline.text``.

Scans the product packages' source, so a second stop list, stemmer or sentence splitter fails
here the day it is written, not when two parts of the product start to disagree on a word.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("pipeline", "extractors", "index", "flows")
TOOLKIT = ROOT / "pipeline" / "text.py"

# Common English stop words, written here (not read from the product) so the scan does not
# depend on the list it guards.
COMMON_STOP_WORDS = frozenset(
    """a an the and or but if of to in on at for from by with about as into than then so too very
    is are was were be been being am do does did have has had i me my we our you your he she it
    its they them their this that these those there here what which who whom whose when where why
    how can could would should will shall may might must not no yes any some all also just only""".split()
)
STOP_LIST_SIZE = 20  # this many common stop words in one set make it a stop list

# Word sets that are grammar for one parser, not stop lists: each says why it is not one.
NOT_STOP_LISTS = {
    ("pipeline/sources/offline_nlp.py", "_BASE_VERB_CONTEXT"): "a base form after these is a verb (POS guess)",
    ("pipeline/sources/offline_nlp.py", "_NOT_SUBJECTS"): "an -s form after these is a plural noun (POS guess)",
    ("extractors/advice.py", "_AFTER_IMPERATIVE"): "words that follow an imperative (\"Set the...\")",
}


def _product_files() -> list[Path]:
    return [p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py")) if p != TOOLKIT]


def _module_word_sets(path: Path) -> list[tuple[str, set[str]]]:
    """(name, words) of each module-level assignment that builds a set of words from literals."""
    out = []
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if not isinstance(node, (ast.Assign, ast.AnnAssign)) or node.value is None:
            continue
        builds_set = any(
            isinstance(n, (ast.Set, ast.SetComp))
            or (isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in ("set", "frozenset"))
            for n in ast.walk(node.value)
        )
        if not builds_set:
            continue
        found = {w.lower() for n in ast.walk(node.value) if isinstance(n, ast.Constant) and isinstance(n.value, str)
                 for w in n.value.split()}  # fmt: skip
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        name = ",".join(t.id for t in targets if isinstance(t, ast.Name))
        out.append((name, found))
    return out


def test_no_second_stop_list() -> None:
    lists = [
        f"{path.relative_to(ROOT)}:{name} ({len(found & COMMON_STOP_WORDS)} stop words)"
        for path in _product_files()
        for name, found in _module_word_sets(path)
        if len(found & COMMON_STOP_WORDS) >= STOP_LIST_SIZE
        and (path.relative_to(ROOT).as_posix(), name) not in NOT_STOP_LISTS
    ]
    assert not lists, f"stop lists outside pipeline/text.py (extend pipeline.text.STOP_WORDS instead): {lists}"


def test_allowed_word_sets_still_exist() -> None:
    """The exceptions above name real sets: a stale entry would hide a new list of that name."""
    for (rel, name), _why in NOT_STOP_LISTS.items():
        assert name in {n for n, _ in _module_word_sets(ROOT / rel)}, (rel, name)


# A stemmer, a word tokeniser or a sentence splitter, written again.
_SECOND_TOOLKIT = {
    "stemmer": re.compile(r"^\s*def\s+(?:\w*_)?stem(?:mer|_\w*)?\s*\(", re.M),
    "sentence splitter": re.compile(
        r"\(\?<=\[\.!\?\]\)|^def\s+\w*(?:split_sentences|sentence_spans|sent_tokenize)\b", re.M
    ),
    "word tokeniser": re.compile(r"\[A-Za-z0-9?\]\[[^\]]*\]\*|^def\s+(?:words|tokens|tokenize)\s*\(", re.M),
}


def test_no_second_stemmer_tokeniser_or_splitter() -> None:
    found = [
        f"{path.relative_to(ROOT)}: {what}"
        for path in _product_files()
        for what, pattern in _SECOND_TOOLKIT.items()
        if pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert not found, f"use pipeline.text (stem, words/tokens, split_sentences/sentence_spans): {found}"


def test_the_toolkit_itself_is_found_by_the_scan() -> None:
    """The patterns above do match the toolkit's own stop list, stemmer and splitters."""
    source = TOOLKIT.read_text(encoding="utf-8")
    assert all(p.search(source) for p in _SECOND_TOOLKIT.values())
    assert any(len(found & COMMON_STOP_WORDS) >= STOP_LIST_SIZE for _, found in _module_word_sets(TOOLKIT))
