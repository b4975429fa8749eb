"""The gold sampler reads sections as the gold definition says (bench/gold/README_docs.md)."""
from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

GOLD = Path(__file__).resolve().parents[1] / "bench" / "gold"


def _load(name: str):
    sys.path.insert(0, str(GOLD))
    spec = importlib.util.spec_from_file_location(name, GOLD / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gold_units = _load("gold_units")
check = _load("check_gold_docs")

PAGE = """---
title: How to ship things
---

# <%= current_page.data.title %>

Intro text.

## Build

Build it with make.

```sh
# this is a shell comment, not a heading
make all
```

### Cache

Cache the build.

## Release

Tag the release.
"""


def test_sections_follow_headings_not_code_comments(tmp_path):
    page = tmp_path / "page.html.md.erb"
    page.write_text(PAGE, encoding="utf-8")
    sections = gold_units.doc_sections(page)
    paths = [s["section"] for s in sections]
    assert paths == [
        ["How to ship things"],
        ["How to ship things", "Build"],
        ["How to ship things", "Build", "Cache"],
        ["How to ship things", "Release"],
    ]
    build = sections[1]["text"]
    # a section runs to the next heading of the same or higher level: its subsections are in it
    assert "Cache the build." in build and "Tag the release." not in build
    assert "# this is a shell comment" in build


def test_render_reduces_markdown_to_reader_text():
    text = "You **should** use [Splunk][] or [a tool](https://x.example) and `make`.\n> Quoted *advice*."
    assert check.render(text) == "You should use Splunk or a tool and make. Quoted advice."


def test_split_is_stable_and_about_a_fifth():
    keys = [f"docs/x.md#Section {i}" for i in range(2000)]
    splits = [gold_units.split_of(k) for k in keys]
    assert splits == [gold_units.split_of(k) for k in keys]
    assert 0.17 < splits.count("heldout") / len(splits) < 0.23


@pytest.mark.integration
def test_committed_gold_matches_its_sources():
    sections = [json.loads(l) for l in (GOLD / "sections.jsonl").read_text(encoding="utf-8").splitlines()]
    spans = [json.loads(l) for l in (GOLD / "spans.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(sections) >= 150 and len(spans) >= 50
    assert check.check_sections(sections) == []
    assert check.check_spans(spans) == []
