"""Evidence a reader can judge: grouped by conversation, human times, links to originals, no server paths."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from pipeline.citations import human_time
from pipeline.evidence import conversations, original_link, source_name, time_range
from pipeline.models import Passage, PassageKind, Source
from pipeline.users import add_user
from pipeline.store import open_store
from tests.evidence_world import THREADS, add_three_conversation_faq, write_export
from tests.extractors.test_threads_extractor import fake_embed
from tests.test_api import login
from web import create_app


def _passage(**fields: object) -> Passage:
    base: dict[str, object] = {"kind": PassageKind.message, "text": "t", "id": "p1", "source_id": "s1", "seq": 0, "content_hash": "h"}
    return Passage(**{**base, **fields})


def _source(uri: str, fmt: str) -> Source:
    return Source(id="s1", uri=uri, content_hash="h", format=fmt)


def test_human_time_reads_like_a_person_writes_it() -> None:
    assert human_time("2026-09-21T08:05:12.002700+00:00") == "21 Sep 2026, 08:05"
    assert human_time("2026-09-21T10:05:00+02:00") == "21 Sep 2026, 08:05"  # shown in UTC
    assert human_time("2019-01-02T03:04:05.678") == "2 Jan 2019, 03:04"  # naive: UTC
    assert human_time("not a time") is None and human_time(None) is None
    assert time_range("2026-09-21T08:05:00Z", "2026-09-22T09:00:00Z") == "21 Sep 2026, 08:05 – 22 Sep 2026, 09:00"


def test_source_name_never_shows_the_server_path() -> None:
    assert source_name(_source("/tmp/x/examples/slack/general.jsonl", "jsonl")) == "general.jsonl"
    se = _source("/srv/corpus/threads/stackexchange/quantumcomputing.stackexchange.com", "stackexchange")
    assert source_name(se) == "quantumcomputing.stackexchange.com"


def test_original_links_where_the_source_has_an_address() -> None:
    se = _source("/srv/dumps/quantumcomputing.stackexchange.com", "stackexchange")
    q = original_link(_passage(message_id="post:12", element_type="question"), se)
    a = original_link(_passage(message_id="post:40", element_type="answer"), se)
    c = original_link(_passage(message_id="comment:7", element_type="comment"), se)
    assert q and q["url"] == "https://quantumcomputing.stackexchange.com/q/12"
    assert a and a["url"] == "https://quantumcomputing.stackexchange.com/a/40"
    assert c and c["url"] == "https://quantumcomputing.stackexchange.com/posts/comments/7"
    mail = original_link(_passage(message_id="<abc@r-project.org>"), _source("/m/list.mbox", "mbox"))
    assert mail == {"url": None, "label": "Message-ID <abc@r-project.org>"}
    assert original_link(_passage(kind=PassageKind.element, page=12), _source("/d/guide.pdf", "pdf")) == {"url": None, "label": "page 12"}
    turn = original_link(_passage(kind=PassageKind.turn, start=754.0), _source("/r/call.vtt", "vtt"))
    assert turn == {"url": None, "label": "at 12:34 in the recording"}


def _row(pid: str, thread: str, seq: int, role: str = "support") -> dict[str, object]:
    ctx = [{"passage_id": f"{thread}{s}", "seq": s, "text": f"{thread} message {s}", "author": "a"} for s in range(5)]
    return {"passage_id": pid, "role": role, "quote": f"{thread} message {seq}", "source": "chat.jsonl", "source_id": "s1",
            "thread": thread, "timestamp": f"2026-09-21T08:0{seq}:00+00:00", "context": ctx}  # fmt: skip


def test_conversations_show_each_thread_once_with_the_rest_collapsed() -> None:
    rows = [_row("x1", "x", 1, "question"), _row("y2", "y", 2), _row("x3", "x", 3, "answer"), _row("z0", "z", 0)]
    groups = conversations(rows)
    assert [g["title"] for g in groups] == ["x message 0", "y message 0", "z message 0"]  # first-cited order
    x = groups[0]
    assert x["quotes"] == 2 and x["when"] == "21 Sep 2026, 08:01–08:03"
    # x0 collapsed, x1 quoted, x2 collapsed, x3 quoted, x4 collapsed
    assert [s["kind"] for s in x["segments"]] == ["more", "quote", "more", "quote", "more"]
    assert [s["passage"]["passage_id"] for s in x["segments"] if s["kind"] == "quote"] == ["x1", "x3"]
    assert groups[2]["segments"][0]["kind"] == "quote"  # z0 quoted first: nothing collapsed before it


# --- the artefact page --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    root = tmp_path_factory.mktemp("evidence")
    export = write_export(root / "platform-chat.jsonl")
    faq_id = add_three_conversation_faq(root / "home", export)
    store = open_store(root / "home")
    try:
        _, token = add_user(store, "rita", "reader")
    finally:
        store.close()
    return root / "home", faq_id, token


def test_artefact_with_quotes_from_three_conversations_shows_each_once(home: tuple[Path, str, str]) -> None:
    path, faq_id, token = home
    with TestClient(create_app(path, embed=fake_embed, model_id="fake-bow")) as c:
        page = c.get(f"/artefacts/{faq_id}").text  # anonymous: the FAQ is public
        assert page.count('<section class="conversation"') == 3
        titles = re.findall(r'<div class="conv-title">([^<]*)</div>', page)
        assert titles == [THREADS[t][0][2] for t in ("ci", "deploy", "retro")]  # each conversation once
        for thread in THREADS.values():  # every other message once: quoted, or in a collapsed run
            for _, _, text in thread[1:]:
                assert page.count(text) == 1, text
        assert page.count("<mark>") == 5
        # collapsed runs: ci 0 | 2 | 4, deploy 2, retro 0
        assert page.count("<details><summary>") == 5
        assert "21 Sep 2026, 08:07" in page and "2026-09-21T08:07:12" not in re.sub(r'datetime="[^"]*"', "", page)
        assert str(path.parent) not in page and "/tmp/" not in page
        assert "platform-chat.jsonl" in page
        assert 'class="source-link"' not in page  # the viewer asks for a login: no link that sends there
        api = c.get(f"/api/artefacts/{faq_id}").json()
        assert len(api["conversations"]) == 3 and str(path.parent) not in str(api)
        login(c, token)
        signed_in = c.get(f"/artefacts/{faq_id}").text
        assert signed_in.count('class="source-link"') == 5
