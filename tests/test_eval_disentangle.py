"""`practice eval disentangle`: scoring by hand-computed figures, loaders on tiny files, the real gold."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli_eval_disentangle import disentangle_command
from pipeline.disentangle_scores import conversations, link_scores, one_to_one, same_conversation_links
from pipeline.eval_disentangle import (
    ChatMessage,
    EvalInputError,
    load_gitter_channel,
    load_irc_channel,
    previous_links,
    product_links,
    time_gap_links,
)

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=timezone.utc)


def test_link_scores_count_only_scored_messages() -> None:
    predicted = {0: 0, 1: 0, 2: 2, 3: 1}
    gold = [(0, 0), (1, 0), (2, 1), (3, 1), (3, 2)]
    s = link_scores(predicted, gold, scored={1, 2, 3})
    # right: (1,0) and (3,1); predicted 3 links, gold 4 links among messages 1-3
    assert (s.correct, s.predicted, s.gold) == (2, 3, 4)
    assert s.precision == pytest.approx(2 / 3) and s.recall == pytest.approx(1 / 2)
    assert s.f1 == pytest.approx(4 / 7)


def test_conversations_are_linked_groups() -> None:
    assert conversations([(1, 0), (3, 2), (4, 1)], range(6)) == {0: 0, 1: 0, 2: 2, 3: 2, 4: 0, 5: 5}


def test_one_to_one_pairs_conversations_once() -> None:
    gold = {0: 10, 1: 10, 2: 10, 3: 10, 4: 20, 5: 20, 6: 20}
    predicted = {0: 1, 1: 1, 2: 1, 4: 1, 5: 1, 3: 2, 6: 2}
    # predicted 1 holds 3 of gold 10 and 2 of gold 20; predicted 2 holds one of each:
    # the best pairing is 10-1 (3) and 20-2 (1) = 4 of 7 messages
    assert one_to_one(gold, predicted, set(gold)) == pytest.approx(4 / 7)
    assert one_to_one(gold, gold, set(gold)) == 1.0
    assert one_to_one(gold, {m: 0 for m in gold}, set(gold)) == pytest.approx(4 / 7)


def test_same_conversation_links() -> None:
    gold_conv = {0: 0, 1: 0, 2: 1, 3: 1}
    # 0 opens its conversation (right), 1 -> 0 same (right), 2 -> 1 other conversation (wrong),
    # 3 -> 2 same (right)
    s = same_conversation_links({0: 0, 1: 0, 2: 1, 3: 2}, gold_conv, {0, 1, 2, 3})
    assert (s.correct, s.precision, s.recall) == (3, 0.75, 0.75)
    # a message that does not open its conversation is wrong to start one
    assert same_conversation_links({0: 0, 1: 1}, {0: 0, 1: 0}, {0, 1}).correct == 1


def _msgs() -> list[ChatMessage]:
    return [
        ChatMessage(0, "ana", T0, "how do I pin a crate?"),
        ChatMessage(1, None, None, "=== carl has joined", chat=False),
        ChatMessage(2, "ben", T0 + timedelta(minutes=1), "ana: put = in front of the version"),
        ChatMessage(3, "cid", T0 + timedelta(minutes=30), "anyone used tokio-console?"),
    ]


def test_baselines() -> None:
    assert previous_links(_msgs()) == {0: 0, 1: 1, 2: 0, 3: 2}
    assert time_gap_links(_msgs(), timedelta(minutes=5)) == {0: 0, 1: 1, 2: 0, 3: 3}


def test_product_links_a_mention_reply_to_the_question() -> None:
    assert product_links(_msgs()) == {0: 0, 1: 1, 2: 0, 3: 3}


def test_load_irc_channel(tmp_path: Path) -> None:
    filler = [f"[08:{k % 60:02d}] <n{k}> line {k}" for k in range(1000)]
    raw = tmp_path / "2024-05-01_09.raw.txt"
    raw.write_text("\n".join(filler + ["[09:00] <ana> q?", "=== bob has joined #x", "[09:01] <bob> ana: a"]) + "\n")
    (tmp_path / "2024-05-01_09.annotation.txt").write_text("1000 1000 -\n1001 1001 -\n1000 1002 -\n")
    ch = load_irc_channel(raw, tmp_path / "2024-05-01_09.annotation.txt")
    assert ch.scored == {1000, 1001, 1002}
    assert sorted(ch.gold_links) == [(1000, 1000), (1001, 1001), (1002, 1000)]  # the later one answers
    assert (ch.gold_conv[1002], ch.gold_conv[1001]) == (1000, 1001)
    assert [(m.author, m.chat) for m in ch.messages[1000:]] == [("ana", True), (None, False), ("bob", True)]


def test_bad_annotation_names_the_line(tmp_path: Path) -> None:
    (tmp_path / "a.raw.txt").write_text("[09:00] <ana> hi\n")
    (tmp_path / "a.annotation.txt").write_text("1000 1000 -\nbroken\n")
    with pytest.raises(EvalInputError, match=r"a.annotation.txt line 2"):
        load_irc_channel(tmp_path / "a.raw.txt", tmp_path / "a.annotation.txt")


def test_load_gitter_channel_interleaves_conversations_by_time(tmp_path: Path) -> None:
    room = tmp_path / "room.txt"
    room.write_text(
        "1 [2020-01-01 10:00:00] <ana> how do I x?\n"
        "2 [2020-01-01 10:02:00] <ben> ana: like this\n"
        "    code line of ben\n"
        "-----------------------------------------------\n"
        "// Part 1: y\n"
        "[2020-01-01T10:01:00] <cid> does y work?\n"
        "[2020-01-01T10:03:00] <dan> yes\n"
    )
    ch = load_gitter_channel(room)
    assert [(m.author, m.text) for m in ch.messages] == [
        ("ana", "how do I x?"), ("cid", "does y work?"),
        ("ben", "ana: like this\n    code line of ben"), ("dan", "yes"),
    ]  # fmt: skip
    assert ch.gold_conv == {0: 0, 1: 1, 2: 0, 3: 1}
    assert ch.gold_links is None and ch.scored == {0, 1, 2, 3}


def test_command_needs_a_dataset() -> None:
    result = CliRunner().invoke(disentangle_command, [])
    assert result.exit_code != 0 and "--irc" in result.output


@pytest.fixture(scope="module")
def real_report(corpus: Path) -> dict:
    chat = corpus / "chat"
    args = ["--irc", str(chat / "irc_disentanglement" / "dev"), "--gitter", str(chat / "gitter_livechat_manual" / "manual"), "--json"]
    result = CliRunner().invoke(disentangle_command, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.mark.integration
def test_command_on_the_real_gold(real_report: dict) -> None:
    irc, gitter = real_report["irc"], real_report["gitter"]
    assert (irc["channels"], irc["messages"]) == (10, 2500)  # 10 dev hours, messages 1000-1249 each
    assert (gitter["channels"], gitter["gold_conversations"]) == (8, 749)  # the README's 749 dialogs
    for report in (irc, gitter):
        assert set(report["systems"]) == {"product", "previous message", "time gap"}


@pytest.mark.integration
def test_product_beats_both_baselines_on_the_real_gold(real_report: dict) -> None:
    """Link F1 on the IRC reply links, one-to-one on both (on Gitter most messages follow the one
    before, so every system's link figure is high; the conversations tell them apart)."""
    irc, gitter = real_report["irc"]["systems"], real_report["gitter"]["systems"]
    for baseline in ("previous message", "time gap"):
        assert irc["product"]["link_f1"] > irc[baseline]["link_f1"]
        assert irc["product"]["one_to_one"] > irc[baseline]["one_to_one"]
        assert gitter["product"]["one_to_one"] > gitter[baseline]["one_to_one"]
