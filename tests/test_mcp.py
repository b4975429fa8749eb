"""`practice mcp`: the MCP tools through the SDK's own client, in-process and over stdio.

A tiny store written here (three chat threads, one of them restricted to `secret-team`), folded by
a fake extractor and published with a fake embedding (the stdio test: the real model, since the
server process loads it). What is checked: the tools are listed, search returns cited hits, no tool
shows a restricted quote to a non-member (a member sees them: the check is not vacuous), only
reviewers propose, and a proposal lands in the review queue with its evidence checked.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters
from starlette.testclient import TestClient

from assistants.server import build_server, http_app, local_caller
from pipeline import review
from pipeline.artefacts import Thresholds, dedupe
from pipeline.extract import extract_all
from pipeline.ingest import IngestOptions, ingest_paths
from pipeline.models import Passage, Source
from pipeline.publish import publish
from pipeline.settings import PublishSettings, Settings
from pipeline.stages import releases_root
from pipeline.store import open_store
from pipeline.users import add_user, list_users, revoke_user
from extractors.base import ExtractionResult
from tests.extractors.test_threads_extractor import fake_embed
from tests.test_artefacts import QuestionPerMessage

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = Settings(publish=PublishSettings(include_candidates=True))
THRESHOLDS = Thresholds(faq_merge=0.9, faq_suggest=0.5, pattern_merge=0.9, pattern_suggest=0.5)
TOOLS = {"search", "get_artefact", "open_questions", "propose_faq_candidate"}
SECRETS = ("zanzibar launch codes", "quokka migration plan")  # words of the restricted thread only

PUBLIC_GUILD = [
    ("ana", "how do we quarantine flaky integration tests?"),
    ("bo", "we quarantine flaky integration tests behind a nightly retry label"),
    ("cy", "who owns the terraform state lock table?"),
]
PUBLIC_PLATFORM = [("di", "remote retrospectives across time zones work with a shared board")]
SECRET = [
    ("eve", "where do the zanzibar launch codes rotate?"),
    ("fay", "the quokka migration plan moves billing first"),
]


class AskOrTell(QuestionPerMessage):
    """Fake extractor: every message is a FAQ of its own text; one ending in '?' is an open question."""

    def run(self, source: Source, passages: list[Passage]) -> ExtractionResult:
        result = super().run(source, passages)
        for draft in result.candidates:
            if (draft.question or "").endswith("?"):
                draft.answer = None
        return result


@dataclass
class World:
    home: Path
    tokens: dict[str, str]
    ids: dict[str, str]  # first words of a question -> artefact id
    secret_passage: str


def _thread(path: Path, rows: list[tuple[str, str]]) -> Path:
    lines = [
        json.dumps({"id": f"m{i}", "thread": f"t{i}", "author": a, "text": t, "timestamp": f"2026-09-0{i + 1}T10:00:00Z"})
        for i, (a, t) in enumerate(rows)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def build_world(root: Path, embed: Callable[[list[str]], Any], model_id: str) -> World:
    """Two public communities and a restricted one; extracted, folded, users added, one release."""
    src, home = root / "src", root / "home"
    src.mkdir(parents=True)
    store = open_store(home)
    try:
        ingest_paths(store, [_thread(src / "guild.jsonl", PUBLIC_GUILD)], IngestOptions(community="guild"))
        ingest_paths(store, [_thread(src / "platform.jsonl", PUBLIC_PLATFORM)], IngestOptions(community="platform"))
        ingest_paths(store, [_thread(src / "secret.jsonl", SECRET)], IngestOptions(community="secret", visibility="secret-team"))
        extract_all(store, [AskOrTell()])
        dedupe(store, embed, model_id, THRESHOLDS)
        ids = {" ".join(a.title.split()[:3]): a.id for a in store.artefacts()}
        secret_passage = next(p.id for p in store.passages() if "zanzibar" in p.text)
        tokens = {}
        for name, role, groups in (("rita", "reader", []), ("rev", "reviewer", []), ("mia", "reader", ["secret-team"]),
                                   ("max", "reviewer", ["secret-team"]), ("old", "reviewer", [])):  # fmt: skip
            _, tokens[name] = add_user(store, name, role, groups)
        revoke_user(store, "old")
        publish(store, embed, model_id, releases_root(home), include_candidates=True)
    finally:
        store.close()
    return World(home, tokens, ids, secret_passage)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return build_world(tmp_path_factory.mktemp("mcp"), fake_embed, "fake-bow")


def call(w: World, who: str | None, script: Callable[[Client], Any]) -> Any:
    """Run `script` with an in-process SDK client connected as `who` (a user's token; None: anonymous)."""
    caller = local_caller(w.home, None, w.tokens[who] if who else None)
    server = build_server(w.home, caller, embed=fake_embed, model_id="fake-bow", settings=SETTINGS)

    async def main() -> Any:
        async with Client(server) as client:
            return await script(client)

    return anyio.run(main)


def text_of(result: Any) -> str:
    """What a tool result carries, as one string to look for leaks in (less search's echo of the query)."""
    data = dict(result.structured_content or {})
    data.pop("query", None)
    text = "".join(getattr(c, "text", "") for c in result.content)  # the same JSON, or an error message
    return json.dumps(data) + (text if result.is_error else "")


async def every_tool(client: Client, w: World) -> list[Any]:
    """Each tool called the ways that could reveal the restricted thread."""
    out = [await client.call_tool("search", {"query": q, "k": 50}) for q in (*SECRETS, "zanzibar quokka", "flaky tests")]
    out.append(await client.call_tool("open_questions", {}))
    out.append(await client.call_tool("open_questions", {"community": "secret"}))
    for aid in w.ids.values():
        out.append(await client.call_tool("get_artefact", {"artefact_id": aid}))
    out.append(await client.call_tool(
        "propose_faq_candidate",
        {"question": "q?", "answer": "a", "evidence": [{"passage_id": w.secret_passage, "quote": "zanzibar launch codes"}]},
    ))  # fmt: skip
    return out


def test_tools_are_listed_and_search_returns_cited_hits(world: World) -> None:
    async def script(client: Client) -> Any:
        tools = await client.list_tools()
        return tools, await client.call_tool("search", {"query": "quarantine flaky integration tests", "k": 5})

    tools, result = call(world, "rita", script)
    assert {t.name for t in tools.tools} == TOOLS
    assert not result.is_error
    hits = result.structured_content["hits"]
    assert hits and hits[0]["citations"]
    flaky = [h for h in hits if h["id"] == world.ids["we quarantine flaky"]]
    assert flaky, "the answered FAQ about quarantining flaky tests is found"
    cited = flaky[0]["citations"][0]
    assert cited["quote"] == PUBLIC_GUILD[1][1]  # verbatim from the fixture thread
    assert "guild.jsonl" in cited["cited"] and flaky[0]["support"]["sources"] == 1


@pytest.mark.parametrize("who", [None, "rita", "rev"])  # anonymous, a reader, a reviewer outside secret-team
def test_no_tool_shows_a_restricted_quote_to_a_non_member(world: World, who: str | None) -> None:
    results = call(world, who, lambda c: every_tool(c, world))
    seen = "\n".join(text_of(r) for r in results).lower()
    assert not [s for s in SECRETS if s in seen], f"{who} saw restricted text through an MCP tool"
    hidden = {world.ids["where do the"], world.ids["the quokka migration"]}
    fetched = results[6 : 6 + len(world.ids)]
    assert [r.is_error for r, aid in zip(fetched, world.ids.values()) if aid in hidden] == [True, True]
    assert results[-1].is_error  # a hidden passage cannot be cited either


def test_a_member_sees_the_restricted_thread(world: World) -> None:
    results = call(world, "mia", lambda c: every_tool(c, world))
    seen = "\n".join(text_of(r) for r in results).lower()
    assert all(s in seen for s in SECRETS)
    open_secret = results[5].structured_content
    assert [i["question"] for i in open_secret["items"]] == [SECRET[0][1]]


def test_open_questions_of_a_community(world: World) -> None:
    result = call(world, "rita", lambda c: c.call_tool("open_questions", {"community": "guild"}))
    questions = sorted(i["question"] for i in result.structured_content["items"])
    assert questions == sorted(t for _, t in PUBLIC_GUILD if t.endswith("?"))


def test_a_reader_cannot_propose(world: World) -> None:
    passage = _guild_passage(world)
    args = {"question": "how do we retry flaky tests?", "answer": "a nightly retry label", "evidence": [{"passage_id": passage, "quote": "nightly retry label"}]}
    result = call(world, "rita", lambda c: c.call_tool("propose_faq_candidate", args))
    assert result.is_error and "only reviewers" in text_of(result)
    store = open_store(world.home)
    try:
        assert not [a for a in store.artefacts() if a.title == args["question"]]
    finally:
        store.close()


def test_a_reviewer_proposes_into_the_review_queue(world: World, tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(world.home, home)
    w = World(home, world.tokens, world.ids, world.secret_passage)
    passage = _guild_passage(w)
    good = {"question": "how do we retry flaky tests?", "answer": "a nightly retry label",
            "evidence": [{"passage_id": passage, "quote": "nightly retry label"}], "note": "from a chat with an assistant"}  # fmt: skip
    bad_quote = {**good, "question": "other?", "evidence": [{"passage_id": passage, "quote": "not in the passage"}]}

    async def script(client: Client) -> Any:
        return [await client.call_tool("propose_faq_candidate", args) for args in (good, good, bad_quote)]

    made, again, refused = call(w, "rev", script)
    assert not made.is_error, text_of(made)
    assert again.is_error and "proposed already" in text_of(again)
    assert refused.is_error and "verbatim" in text_of(refused)
    store = open_store(home)
    try:
        reviewer = next(u for u in list_users(store) if u.name == "rev")
        queued = {a.id: a for a in review.review_queue(store, reviewer, status="candidate", limit=500)}
        artefact = queued[made.structured_content["id"]]
        assert artefact.question == good["question"] and artefact.communities == ["guild"]
        assert [e.quote for e in artefact.evidence] == ["nightly retry label"]
        assert [e.actor for e in review.audit_log(store, artefact_id=artefact.id)] == ["rev"]
        dedupe(store, fake_embed, "fake-bow", THRESHOLDS)  # the next run keeps it as it is
        after = store.get_artefact(artefact.id)
        assert after is not None and after.status.value == "candidate" and after.evidence == artefact.evidence
    finally:
        store.close()


def test_a_proposal_citing_a_restricted_passage_stays_restricted(world: World, tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(world.home, home)
    w = World(home, world.tokens, world.ids, world.secret_passage)
    args = {"question": "how often do codes rotate?", "answer": "weekly",
            "evidence": [{"passage_id": w.secret_passage, "quote": SECRET[0][1]}]}  # fmt: skip
    made = call(w, "max", lambda c: c.call_tool("propose_faq_candidate", args))  # a reviewer in secret-team
    assert not made.is_error, text_of(made)
    assert made.structured_content["visibility"] == "secret-team"
    aid = made.structured_content["id"]
    assert call(w, "rev", lambda c: c.call_tool("get_artefact", {"artefact_id": aid})).is_error
    assert not call(w, "mia", lambda c: c.call_tool("get_artefact", {"artefact_id": aid})).is_error


def test_stdio_refuses_an_unknown_user_or_token(world: World) -> None:
    from click.testing import CliRunner

    from pipeline.cli import main

    runner = CliRunner()
    env = {"PRACTICE_HOME": str(world.home), "PRACTICE_TOKEN": ""}
    r = runner.invoke(main, ["mcp", "--user", "nobody"], env=env)
    assert r.exit_code != 0 and "no active user 'nobody'" in r.output
    r = runner.invoke(main, ["mcp", "--user", "old"], env=env)  # revoked
    assert r.exit_code != 0 and "no active user 'old'" in r.output
    r = runner.invoke(main, ["mcp"], env={**env, "PRACTICE_TOKEN": world.tokens["rita"] + "x"})
    assert r.exit_code != 0 and "PRACTICE_TOKEN" in r.output


def test_http_needs_a_valid_token(world: World) -> None:
    app = http_app(world.home, "127.0.0.1", 8001, settings=SETTINGS, embed=fake_embed, model_id="fake-bow")
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    headers = {"accept": "application/json, text/event-stream", "content-type": "application/json", "host": "127.0.0.1:8001"}
    with TestClient(app, base_url="http://127.0.0.1:8001") as c:
        assert c.post("/mcp", json=body, headers=headers).status_code == 401
        for token in ("pi_not-a-token", world.tokens["old"]):  # unknown, revoked
            r = c.post("/mcp", json=body, headers={**headers, "authorization": f"Bearer {token}"})
            assert r.status_code == 401


def test_http_answers_as_the_token_user(world: World) -> None:
    """The SDK's streamable-HTTP client against the app on a local uvicorn: a member sees the
    restricted thread, a reader with the same query does not (the tools read each request's token)."""
    import socket
    import threading
    import time

    import httpx2
    import uvicorn
    from mcp.client.streamable_http import streamable_http_client

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = http_app(world.home, "127.0.0.1", port, settings=SETTINGS, embed=fake_embed, model_id="fake-bow")
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started and thread.is_alive():
        time.sleep(0.05)

    async def search_as(who: str) -> Any:
        headers = {"authorization": f"Bearer {world.tokens[who]}"}
        async with httpx2.AsyncClient(headers=headers) as http:
            async with Client(streamable_http_client(f"http://127.0.0.1:{port}/mcp", http_client=http)) as client:
                return await client.call_tool("search", {"query": "zanzibar launch codes", "k": 10})

    try:
        member, reader = anyio.run(search_as, "mia"), anyio.run(search_as, "rita")
    finally:
        server.should_exit = True
        thread.join(10)
    assert SECRETS[0] in text_of(member).lower()
    assert not member.is_error and not reader.is_error
    assert SECRETS[0] not in text_of(reader).lower()


def _guild_passage(w: World) -> str:
    store = open_store(w.home)
    try:
        return next(p.id for p in store.passages() if "nightly retry label" in p.text)
    finally:
        store.close()


@pytest.mark.integration
def test_stdio_subprocess_lists_tools_and_searches_as_the_token_user(tmp_path: Path) -> None:
    """`python -m pipeline.cli mcp` spawned by the SDK's stdio client, with the real embedding model."""
    from index.embeddings import shared_embedder

    e = shared_embedder()
    w = build_world(tmp_path, e.encode, e.model_name)
    env = {**os.environ, "PRACTICE_HOME": str(w.home), "PYTHONPATH": str(ROOT), "PRACTICE_TOKEN": w.tokens["rita"]}
    env.pop("PRACTICE_CONFIG", None)
    params = StdioServerParameters(command=sys.executable, args=["-m", "pipeline.cli", "mcp"], env=env, cwd=str(tmp_path))

    async def main() -> Any:
        async with Client(params) as client:
            tools = await client.list_tools()
            found = await client.call_tool("search", {"query": "quarantine flaky integration tests", "k": 10})
            secret = await client.call_tool("search", {"query": "zanzibar launch codes", "k": 10})
            return tools, found, secret

    tools, found, secret = anyio.run(main)
    assert {t.name for t in tools.tools} == TOOLS
    hits = found.structured_content["hits"]
    assert w.ids["we quarantine flaky"] in [h["id"] for h in hits]
    assert all(h["citations"] and h["citations"][0]["cited"] for h in hits)
    assert not [s for s in SECRETS if s in text_of(secret).lower()]
