"""`practice eval disentangle`: the product's disentangler on gold-annotated chat, next to baselines.

Datasets (../shared/corpus/chat):

- **Ubuntu IRC** (`irc_disentanglement/dev`): `X.raw.txt` one message a line (message index = line
  number from 0), `X.annotation.txt` lines `i j -` linking two messages; the later of the two answers
  the earlier, `i i` starts a conversation. Only messages from 1,000 on are annotated and scored; the
  first 1,000 lines are context every system sees. Joins, parts and renames (lines the IRC parser
  does not read as messages) start their own conversation in every system, as they almost all do
  in the gold.
- **Gitter** (`gitter_livechat_manual/manual`): per room, conversations split by hand and separated
  by dashed lines, messages `[time] <nick> text` (some numbered `N [time] ...`). A room's
  conversations are merged back into one channel by time (a stable sort) and disentangled again.
  Other lines are the text of the message above (multi-line messages), except the annotators'
  `// …` notes, which are skipped. The gold has conversations, not reply links: see
  `disentangle_scores.same_conversation_links`.

Systems: **product** = `extractors.disentangle.disentangle` over the chat messages (each message's
parent scored by address, quoting, same author, time and shared words, or a new conversation);
**previous** = every message answers the message before it; **time gap** = it answers the message
before it when that came at most `gap` earlier, else it starts a conversation.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from pipeline.disentangle_scores import LinkScores, conversations, link_scores, one_to_one, same_conversation_links
from pipeline.sources.irc import read_log

DEFAULT_GAP = timedelta(minutes=5)
IRC_FIRST_SCORED = 1000  # the annotations start at message 1,000 (the dataset README)
_GITTER_LINE = re.compile(r"^(?:\d+ )?\[(?P<ts>\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2})\] <(?P<nick>[^>]+)> ?(?P<text>.*)$")
_GITTER_SEPARATOR = re.compile(r"^-{20,}\s*$")


class EvalInputError(Exception):
    """The gold files are missing or unreadable; the message names the file."""


@dataclass
class ChatMessage:
    """One line of a channel as the systems see it; `chat` is False for joins, parts and the like."""

    index: int
    author: str | None
    moment: datetime | None
    text: str
    chat: bool = True


@dataclass
class Channel:
    """One scored channel: its messages, the gold and which messages are scored."""

    name: str
    messages: list[ChatMessage]
    gold_conv: dict[int, int]
    scored: set[int]
    gold_links: list[tuple[int, int]] | None = None  # None: conversations only (Gitter)


def load_irc_channel(raw: Path, annotation: Path) -> Channel:
    """An Ubuntu IRC dev file with its reply-link annotation."""
    try:
        lines = raw.read_text(encoding="utf-8").split("\n")
        notes = annotation.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalInputError(f"{raw.name}: cannot read ({exc})") from None
    if lines and lines[-1] == "":
        lines.pop()
    messages = [ChatMessage(k, None, None, line, chat=False) for k, line in enumerate(lines)]
    for said, moment, _ in read_log(lines, raw.name):
        messages[said.lineno - 1] = ChatMessage(said.lineno - 1, said.nick, moment, said.text)
    links: list[tuple[int, int]] = []
    for k, note in enumerate(notes, 1):
        parts = note.split()
        if len(parts) < 2 or not (parts[0].isdigit() and parts[1].isdigit()):
            raise EvalInputError(f"{annotation.name} line {k}: expected 'i j -', got {note!r}")
        a, b = int(parts[0]), int(parts[1])
        links.append((max(a, b), min(a, b)))  # the later message answers the earlier
    scored = {i for i in range(IRC_FIRST_SCORED, len(lines))}
    gold_conv = conversations(links, range(len(lines)))
    return Channel(raw.name.removesuffix(".raw.txt"), messages, gold_conv, scored, links)


def load_gitter_channel(path: Path) -> Channel:
    """A Gitter room of hand-split conversations, merged back into one channel by time."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalInputError(f"{path.name}: cannot read ({exc})") from None
    rows: list[tuple[datetime, int, str, str]] = []  # (moment, conversation, nick, text)
    conv = 0
    for line in lines:
        if _GITTER_SEPARATOR.match(line):
            conv += 1
            continue
        m = _GITTER_LINE.match(line)
        if m:
            moment = datetime.fromisoformat(m.group("ts").replace(" ", "T")).replace(tzinfo=timezone.utc)
            rows.append((moment, conv, m.group("nick"), m.group("text")))
        elif rows and line.strip() and not line.startswith("//") and rows[-1][1] == conv:
            moment, c, nick, text = rows[-1]
            rows[-1] = (moment, c, nick, f"{text}\n{line}")
    if not rows:
        raise EvalInputError(f"{path.name}: no '[time] <nick> text' messages")
    rows.sort(key=lambda r: r[0])  # stable: a conversation keeps its order within a second
    messages = [ChatMessage(k, nick, moment, text) for k, (moment, _, nick, text) in enumerate(rows)]
    gold_conv = {k: row[1] for k, row in enumerate(rows)}
    return Channel(path.stem, messages, gold_conv, set(range(len(rows))))


def previous_links(messages: list[ChatMessage]) -> dict[int, int]:
    """Baseline: each chat message answers the chat message before it."""
    return time_gap_links(messages, None)


def time_gap_links(messages: list[ChatMessage], gap: timedelta | None) -> dict[int, int]:
    """Baseline: each chat message answers the one before it if that came at most `gap` earlier
    (any time apart when `gap` is None); otherwise, and for non-chat lines, a new conversation."""
    parent: dict[int, int] = {}
    last: ChatMessage | None = None
    for m in messages:
        parent[m.index] = m.index
        if not m.chat:
            continue
        if last is not None and (
            gap is None or m.moment is None or last.moment is None or m.moment - last.moment <= gap
        ):
            parent[m.index] = last.index
        last = m
    return parent


def product_links(messages: list[ChatMessage]) -> dict[int, int]:
    """The product's disentangler (`extractors.disentangle`) over the chat messages; other
    lines (joins, parts) start their own conversation."""
    from extractors.disentangle import Utterance, disentangle

    chat = [m for m in messages if m.chat]
    parent = {m.index: m.index for m in messages}
    found = disentangle([Utterance(m.author, m.moment, m.text) for m in chat])
    for m, p in zip(chat, found):
        parent[m.index] = chat[p].index
    return parent


SYSTEMS: dict[str, Callable[[list[ChatMessage], timedelta], dict[int, int]]] = {
    "product": lambda msgs, gap: product_links(msgs),
    "previous message": lambda msgs, gap: previous_links(msgs),
    "time gap": time_gap_links,
}


def score_channel(channel: Channel, parent: dict[int, int]) -> tuple[LinkScores, float, int]:
    """(link scores, one-to-one overlap, predicted conversations among the scored messages)."""
    predicted_conv = conversations(parent.items(), (m.index for m in channel.messages))
    if channel.gold_links is not None:
        links = link_scores(parent, channel.gold_links, channel.scored)
    else:
        links = same_conversation_links(parent, channel.gold_conv, channel.scored)
    overlap = one_to_one(channel.gold_conv, predicted_conv, channel.scored)
    return links, overlap, len({predicted_conv[m] for m in channel.scored})


def evaluate(channels: list[Channel], gap: timedelta = DEFAULT_GAP) -> dict:
    """Every system on every channel: link figures summed over channels (micro), one-to-one
    averaged with each channel weighted by its scored messages."""
    report: dict = {"channels": len(channels), "messages": sum(len(c.scored) for c in channels),
                    "gold_conversations": sum(len({c.gold_conv[m] for m in c.scored}) for c in channels),
                    "gap_seconds": gap.total_seconds(), "systems": {}}  # fmt: skip
    for name, system in SYSTEMS.items():
        correct = predicted = gold = convs = 0
        overlap_sum = 0.0
        for channel in channels:
            links, overlap, n_conv = score_channel(channel, system(channel.messages, gap))
            correct, predicted, gold = correct + links.correct, predicted + links.predicted, gold + links.gold
            overlap_sum += overlap * len(channel.scored)
            convs += n_conv
        p = correct / predicted if predicted else 0.0
        r = correct / gold if gold else 0.0
        report["systems"][name] = {
            "link_precision": round(p, 4), "link_recall": round(r, 4),
            "link_f1": round(2 * p * r / (p + r), 4) if p + r else 0.0,
            "one_to_one": round(overlap_sum / report["messages"], 4) if report["messages"] else 0.0,
            "conversations": convs,
        }  # fmt: skip
    return report


def irc_channels(folder: Path) -> list[Channel]:
    """Every `*.raw.txt` with its `*.annotation.txt` in the folder."""
    raws = sorted(folder.glob("*.raw.txt"))
    if not raws:
        raise EvalInputError(f"{folder}: no *.raw.txt files (expected the Ubuntu IRC dev folder)")
    out = []
    for raw in raws:
        annotation = raw.with_name(raw.name.removesuffix(".raw.txt") + ".annotation.txt")
        if not annotation.is_file():
            raise EvalInputError(f"{raw.name}: no annotation file {annotation.name}")
        out.append(load_irc_channel(raw, annotation))
    return out


def gitter_channels(folder: Path) -> list[Channel]:
    """Every room file (`*.txt`) of the manually disentangled Gitter folder."""
    files = sorted(folder.glob("*.txt"))
    if not files:
        raise EvalInputError(f"{folder}: no room files (expected gitter_livechat_manual/manual)")
    return [load_gitter_channel(path) for path in files]
