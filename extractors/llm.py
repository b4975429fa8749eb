"""The LLM extractor (opt-in, DESIGN.md "extraction: any LangChain chat model by config string").

`LLMExtractor` sends the passages of one source, packed in order into chunks that fit the model's
context, to a LangChain chat model and turns its answer into FAQ and pattern candidates.

- **Configuration, lazily.** `model` is a LangChain config string ("openai:gpt-4o-mini",
  "ollama:llama3.1"; default `$PRACTICE_LLM_MODEL`), handed to `init_chat_model` on the first
  chunk that is not in the cache, never at construction: a bad string or a missing provider
  package becomes an `ExtractionFailure` that says what to fix, not a crash. Tests inject
  `chat_model` (LangChain's fake chat models).
- **Prompt as data.** The system prompt and the user-message template live in
  `extractors/prompts/extract_<version>.md`. The passages go into the user message between
  `<passages>` delimiters, each with a short chunk-local id ("P1", "P2"...), its speaker or author
  and its time or section; the prompt says they are data, never instructions.
- **Structured output.** `chat_model.with_structured_output(ExtractionOutput, include_raw=True)`
  when the model supports it; otherwise (or when the structured parse fails) the JSON is read
  from the message text (a bare object or a ```json fenced block) or from its tool call.
  A response that is not JSON, or not the schema, is a failure for that chunk; the run goes on.
- **Verification.** Every quote must occur verbatim in the passage it cites (`quote_is_verbatim`,
  after at most trimming surrounding quote marks or re-reading whitespace differences *from the
  passage*: a stored quote is always a substring of the passage text). Evidence citing an unknown
  passage or a quote not found is dropped; a candidate left with no evidence is dropped and
  counted in `ExtractionResult.dropped`.
- **Cache.** The raw JSON answer per chunk is kept in an injected `MutableMapping` under
  sha256(chunk passages' content hashes, prompt version, model id): re-running over unchanged
  passages makes no LLM call. Chunk-local ids make a cached answer valid for the same text
  wherever it is found again.

Candidates are proposals only: the pipeline stores them as `candidate` for review; nothing here
approves or publishes anything.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, ValidationError, field_validator

from extractors.base import ExtractionFailure, ExtractionResult, quote_is_verbatim
from pipeline.models import (
    CandidateDraft,
    CandidateKind,
    Evidence,
    Passage,
    PassageKind,
    Source,
    SourceKind,
    short_hash,
)

if TYPE_CHECKING:  # imported lazily at run time: the offline pipeline never needs LangChain
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import BaseMessage

__all__ = [
    "CHARS_PER_TOKEN",
    "DEFAULT_CONFIDENCE",
    "ENV_MODEL",
    "Chunk",
    "LLMConfigError",
    "ExtractionOutput",
    "FAQOut",
    "LLMExtractor",
    "PatternOut",
    "EvidenceOut",
    "load_prompt",
]

log = logging.getLogger(__name__)

#: Environment variable naming the chat model when none is passed ("ollama:llama3.1").
ENV_MODEL = "PRACTICE_LLM_MODEL"
#: Rough size of a token in characters (English prose), used to turn a token budget into characters.
CHARS_PER_TOKEN = 4
#: Confidence of a candidate when the model gives none.
DEFAULT_CONFIDENCE = 0.6
#: Smallest chunk budget in characters, whatever `max_input_tokens` says.
MIN_CHUNK_CHARS = 400
#: Where the versioned prompts live.
PROMPTS_DIR = Path(__file__).resolve().parent / "prompts"
#: Splits a prompt file into the system prompt and the user-message template.
USER_MARKER = "<!-- user -->"
#: Roles an evidence quote may play (anything else becomes "support").
EVIDENCE_ROLES = frozenset({"question", "answer", "runner_up", "recommendation", "item", "context", "support"})
#: Width reserved for a chunk-local label ("P12") when sizing a passage before packing.
_LABEL_WIDTH = 6


# --------------------------------------------------------------------------------------------
# What the model is asked to return
# --------------------------------------------------------------------------------------------


class EvidenceOut(BaseModel):
    """One quote backing an item: the passage's id as given in the prompt and an exact span of it."""

    passage_id: str = Field(description='The id of the passage as given in the prompt, e.g. "P3".')
    quote: str = Field(description="A span copied exactly, character for character, from that passage.")
    role: str | None = Field(
        default=None,
        description="question | answer | context | recommendation | item | support",
    )

    @field_validator("passage_id", mode="before")
    @classmethod
    def _id_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value


class FAQOut(BaseModel):
    """A question and the answer the passages give (null when nobody answered)."""

    question: str = Field(description="The question, phrased to stand on its own.")
    answer: str | None = Field(default=None, description="The answer given in the passages, or null.")
    confidence: float | None = Field(default=None, description="0..1, how sure the item is right.")
    evidence: list[EvidenceOut] = Field(default_factory=list)


class PatternOut(BaseModel):
    """A reusable practice, lesson learned or checklist."""

    name: str = Field(description="A short title.")
    context: str | None = Field(default=None, description="When or where it applies.")
    problem: str | None = Field(default=None, description="The problem it solves.")
    recommendation: str | None = Field(default=None, description="What to do.")
    items: list[str] = Field(default_factory=list, description="Checklist steps, if any.")
    confidence: float | None = Field(default=None, description="0..1, how sure the item is right.")
    evidence: list[EvidenceOut] = Field(default_factory=list)


class ExtractionOutput(BaseModel):
    """FAQs and patterns found in a set of passages, each with verbatim evidence."""

    faqs: list[FAQOut] = Field(default_factory=list)
    patterns: list[PatternOut] = Field(default_factory=list)


# --------------------------------------------------------------------------------------------
# Prompts
# --------------------------------------------------------------------------------------------


def load_prompt(version: str) -> tuple[str, str]:
    """The (system prompt, user template) of a prompt version, from `prompts/extract_<version>.md`."""
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", version):
        raise ValueError(f"invalid prompt version {version!r}")
    path = PROMPTS_DIR / f"extract_{version}.md"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        known = sorted(p.stem.removeprefix("extract_") for p in PROMPTS_DIR.glob("extract_*.md"))
        raise ValueError(f"unknown prompt version {version!r} (known: {', '.join(known) or 'none'})") from None
    system, sep, user = text.partition(USER_MARKER)
    if not sep or "{passages}" not in user:
        raise ValueError(f"{path}: needs a '{USER_MARKER}' line followed by a template with {{passages}}")
    return system.strip() + "\n", user.strip() + "\n"


# --------------------------------------------------------------------------------------------
# Chunks
# --------------------------------------------------------------------------------------------


@dataclass
class _Entry:
    """A passage, or one piece of a passage too long for a chunk, as shown to the model."""

    passage: Passage
    text: str
    part: int = 1
    parts: int = 1

    @property
    def cache_part(self) -> str:
        """What identifies this entry's text in the cache key."""
        if self.parts == 1:
            return self.passage.content_hash
        return f"{self.passage.content_hash}:{self.part}/{self.parts}:{short_hash(self.text)}"


@dataclass
class Chunk:
    """Passages (or pieces of one) that go to the model in one call, in source order."""

    entries: list[_Entry] = field(default_factory=list)

    @property
    def passages(self) -> list[Passage]:
        """The distinct passages of the chunk, in order."""
        seen: dict[str, Passage] = {}
        for entry in self.entries:
            seen.setdefault(entry.passage.id, entry.passage)
        return list(seen.values())

    @property
    def passage_ids(self) -> list[str]:
        return [p.id for p in self.passages]

    @property
    def labels(self) -> dict[str, Passage]:
        """Chunk-local id ("P1", "P2"...) → passage."""
        return {f"P{i}": p for i, p in enumerate(self.passages, start=1)}


def _clock(seconds: float) -> str:
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def _attr(value: str) -> str:
    """An attribute value that cannot close its quotes or its tag."""
    return " ".join(str(value).replace('"', "'").replace("<", "(").split())


def _passage_attrs(passage: Passage, reply_label: str | None) -> list[tuple[str, str]]:
    attrs: list[tuple[str, str]] = []
    if passage.kind == PassageKind.turn:
        if passage.author:
            attrs.append(("speaker", passage.author))
        if passage.start is not None:
            span = _clock(passage.start)
            if passage.end is not None:
                span += f"-{_clock(passage.end)}"
            attrs.append(("time", span))
    elif passage.kind == PassageKind.message:
        if passage.author:
            attrs.append(("author", passage.author))
        if passage.timestamp:
            attrs.append(("time", passage.timestamp))
        if reply_label:
            attrs.append(("reply_to", reply_label))
        if passage.accepted:
            attrs.append(("accepted", "yes"))
    else:
        if passage.section_path:
            attrs.append(("section", " > ".join(passage.section_path)))
        if passage.element_type:
            attrs.append(("type", passage.element_type))
        if passage.page is not None:
            attrs.append(("page", str(passage.page)))
        if passage.author:
            attrs.append(("author", passage.author))
    return attrs


def _escape_text(text: str) -> str:
    """Passage text with the closing delimiters defused, so a passage cannot end the data block."""
    return re.sub(r"</(passages?)", r"<\\/\1", text, flags=re.IGNORECASE)


def _render_entry(entry: _Entry, label: str, reply_label: str | None = None) -> str:
    attrs = [("id", label)] + _passage_attrs(entry.passage, reply_label)
    if entry.parts > 1:
        attrs.append(("part", f"{entry.part} of {entry.parts}"))
    head = " ".join(f'{k}="{_attr(v)}"' for k, v in attrs)
    return f"<passage {head}>\n{_escape_text(entry.text)}\n</passage>"


def render_chunk(chunk: Chunk) -> str:
    """The passages of a chunk as the delimited data block of the user message."""
    label_of = {p.id: label for label, p in chunk.labels.items()}
    label_of_message = {p.message_id: label_of[p.id] for p in chunk.passages if p.message_id}
    blocks = []
    for entry in chunk.entries:
        reply = label_of_message.get(entry.passage.reply_to) if entry.passage.reply_to else None
        blocks.append(_render_entry(entry, label_of[entry.passage.id], reply))
    return "\n".join(blocks)


# --------------------------------------------------------------------------------------------
# Reading the model's answer
# --------------------------------------------------------------------------------------------


class _Malformed(Exception):
    """The model's answer is not usable JSON of the expected shape."""


class LLMConfigError(RuntimeError):
    """No chat model could be built from the configuration (bad string, missing package, no key)."""


_FENCE = re.compile(r"```(?:json|JSON)?[ \t]*\n?(.*?)```", re.DOTALL)


def _json_from_text(text: str) -> Any:
    """The JSON value in a message text: the whole text, a ```json fenced block, or the first object."""
    text = text.strip()
    if not text:
        raise _Malformed("empty response")
    candidates = [text]
    candidates += [m.group(1).strip() for m in _FENCE.finditer(text)]
    for candidate in candidates:
        try:
            return json.loads(candidate)
        except ValueError:
            pass
    decoder = json.JSONDecoder()
    for match in re.finditer(r"\{", text):
        try:
            value, _ = decoder.raw_decode(text, match.start())
            return value
        except ValueError:
            continue
    preview = " ".join(text.split())[:120]
    raise _Malformed(f"response is not JSON: {preview!r}")


def _message_text(message: Any) -> str:
    text = getattr(message, "text", None)
    if isinstance(text, str):
        return text
    content = getattr(message, "content", message)
    return content if isinstance(content, str) else json.dumps(content, default=str)


def _data_from_message(message: Any) -> Any:
    """The JSON an AI message carries: its first tool call's arguments, or its text."""
    for call in getattr(message, "tool_calls", None) or []:
        args = call.get("args") if isinstance(call, dict) else None
        if isinstance(args, dict) and args:
            return args
    return _json_from_text(_message_text(message))


def _check_shape(data: Any) -> dict[str, list[Any]]:
    """The top level must be {"faqs": [...], "patterns": [...]} (either list may be missing)."""
    if isinstance(data, list):  # some models wrap the object in a list
        data = data[0] if len(data) == 1 else data
    if not isinstance(data, dict):
        got = type(data).__name__
        raise _Malformed(f"schema mismatch: expected a JSON object with 'faqs' and 'patterns', got {got}")
    if "faqs" not in data and "patterns" not in data:
        keys = ", ".join(sorted(map(str, data))[:8]) or "none"
        raise _Malformed(f"schema mismatch: no 'faqs' or 'patterns' in the response (keys: {keys})")
    shaped: dict[str, list[Any]] = {}
    for key in ("faqs", "patterns"):
        value = data.get(key) or []
        if not isinstance(value, list):
            raise _Malformed(f"schema mismatch: '{key}' must be a list, got {type(value).__name__}")
        shaped[key] = value
    return shaped


def _first_error(error: ValidationError) -> str:
    err = error.errors()[0]
    where = ".".join(str(x) for x in err.get("loc", ())) or "item"
    return f"{where}: {err.get('msg', 'invalid')}"


def _strip_label(value: str) -> str:
    return value.strip().strip("[]()#\"'").strip()


def _locate_quote(quote: str, text: str) -> str | None:
    """The span of `text` the model meant by `quote`, or None. The result is always verbatim.

    Exact matches pass as they are; otherwise surrounding quote marks / ellipses are trimmed and
    whitespace differences (a line break rendered as a space) are re-read from the passage.
    Nothing else is forgiven: a changed word means the quote is not evidence.
    """
    if quote_is_verbatim(quote, text):
        return quote
    trimmed = quote.strip().strip("\"'“”‘’«»").strip()
    trimmed = re.sub(r"^(?:\.\.\.|…)\s*|\s*(?:\.\.\.|…)$", "", trimmed).strip()
    if trimmed and quote_is_verbatim(trimmed, text):
        return trimmed
    words = trimmed.split()
    if not words:
        return None
    match = re.search(r"\s+".join(re.escape(w) for w in words), text)
    return match.group(0) if match and quote_is_verbatim(match.group(0), text) else None


# --------------------------------------------------------------------------------------------
# The extractor
# --------------------------------------------------------------------------------------------


class LLMExtractor:
    """FAQ and pattern candidates from any LangChain chat model, with verified verbatim evidence."""

    name = "llm"
    version = "1"
    source_kinds = frozenset({SourceKind.transcript, SourceKind.thread, SourceKind.document})

    def __init__(
        self,
        model: str | None = None,
        *,
        chat_model: BaseChatModel | None = None,
        cache: MutableMapping[str, str] | None = None,
        prompt_version: str = "v1",
        max_input_tokens: int = 3000,
        model_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        """Configure only: no model is built and nothing is called until `run` needs it.

        model: a LangChain config string ("openai:gpt-4o-mini", "ollama:llama3.1"); defaults to
            $PRACTICE_LLM_MODEL. Also the model id recorded on candidates and in the cache key.
        chat_model: a ready chat model (tests inject LangChain's fakes); wins over `model`.
        cache: chunk cache key → raw JSON answer (the pipeline backs it with the store).
        prompt_version: which `prompts/extract_<version>.md` to use; recorded on candidates.
        max_input_tokens: the input budget per call (prompt + passages), ~4 characters a token.
        model_kwargs: extra arguments for `init_chat_model` (temperature, base_url...).
        """
        if max_input_tokens <= 0:
            raise ValueError("max_input_tokens must be positive")
        self.model = model or os.environ.get(ENV_MODEL) or None
        self.prompt_version = prompt_version
        self.max_input_tokens = max_input_tokens
        self.model_kwargs = dict(model_kwargs or {})
        self.cache: MutableMapping[str, str] = {} if cache is None else cache
        self._chat_model = chat_model
        self._structured: Any = None  # the with_structured_output runnable, once known
        self._structured_checked = False
        self._prompt: tuple[str, str] | None = None

    # -- configuration -------------------------------------------------------------------

    @property
    def model_id(self) -> str:
        """The model recorded on candidates and in the cache key."""
        if self.model:
            return self.model
        if self._chat_model is not None:
            for attr in ("model_name", "model", "model_id"):
                value = getattr(self._chat_model, attr, None)
                if isinstance(value, str) and value:
                    return value
            return getattr(self._chat_model, "_llm_type", type(self._chat_model).__name__)
        return ""

    @property
    def prompt(self) -> tuple[str, str]:
        """(system prompt, user template) of `prompt_version`, read once."""
        if self._prompt is None:
            self._prompt = load_prompt(self.prompt_version)
        return self._prompt

    @property
    def chunk_chars(self) -> int:
        """Characters of rendered passages per call: the token budget less the prompt around them."""
        system, user = self.prompt
        overhead = len(system) + len(user) - len("{passages}") + 200  # 200: the source line
        return max(MIN_CHUNK_CHARS, self.max_input_tokens * CHARS_PER_TOKEN - overhead)

    def _get_chat_model(self) -> BaseChatModel:
        """The chat model, built from the config string on first use. Raises RuntimeError with advice."""
        if self._chat_model is not None:
            return self._chat_model
        if not self.model:
            raise LLMConfigError(
                f"no LLM configured: set {ENV_MODEL} (e.g. 'ollama:llama3.1' or 'openai:gpt-4o-mini') "
                "or pass model= to LLMExtractor"
            )
        try:
            from langchain.chat_models import init_chat_model

            self._chat_model = init_chat_model(self.model, **self.model_kwargs)
        except ImportError as exc:
            raise LLMConfigError(
                f"cannot load LLM {self.model!r}: the provider package is not installed: {_one_line(exc)}"
            ) from exc
        except ValueError as exc:
            explained = _explain_value_error(self.model, exc)
            raise LLMConfigError(f"cannot configure LLM {self.model!r}: {explained}") from exc
        except Exception as exc:  # noqa: BLE001 - e.g. a missing API key raised by the provider client
            raise LLMConfigError(
                f"cannot set up LLM {self.model!r}: {type(exc).__name__}: {_one_line(exc)}"
            ) from exc
        return self._chat_model

    def _structured_runnable(self, chat_model: BaseChatModel) -> Any:
        """`with_structured_output(..., include_raw=True)` if the model supports it, else None."""
        if not self._structured_checked:
            self._structured_checked = True
            try:
                self._structured = chat_model.with_structured_output(ExtractionOutput, include_raw=True)
            except (NotImplementedError, ValueError, TypeError, AttributeError) as exc:
                log.debug("%s: no structured output (%s); parsing JSON from the text", self.model_id, exc)
                self._structured = None
        return self._structured

    # -- chunking ------------------------------------------------------------------------

    def make_chunks(self, passages: list[Passage]) -> list[Chunk]:
        """Pack passages in order into chunks of at most `chunk_chars` rendered characters.

        A passage too long for a chunk on its own is split with LangChain's
        RecursiveCharacterTextSplitter (paragraphs, lines, words); its pieces keep the passage's id,
        and quotes are checked against the passage's full text.
        """
        budget = self.chunk_chars
        label = "P" + "9" * (_LABEL_WIDTH - 1)
        chunks: list[Chunk] = []
        current = Chunk()
        size = 0

        def flush() -> None:
            nonlocal current, size
            if current.entries:
                chunks.append(current)
            current, size = Chunk(), 0

        for passage in passages:
            if not passage.text.strip():
                continue
            entries = [_Entry(passage, passage.text)]
            entry_size = len(_render_entry(entries[0], label, label)) + 1
            if entry_size > budget:
                entries = self._split(passage, budget, label)
            for entry in entries:
                entry_size = len(_render_entry(entry, label, label)) + 1
                if current.entries and size + entry_size > budget:
                    flush()
                current.entries.append(entry)
                size += entry_size
        flush()
        return chunks

    def _split(self, passage: Passage, budget: int, label: str) -> list[_Entry]:
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        shell = _render_entry(_Entry(passage, "", part=999, parts=999), label, label)
        piece_chars = max(100, budget - len(shell) - 2)
        splitter = RecursiveCharacterTextSplitter(
            chunk_size=piece_chars, chunk_overlap=min(200, piece_chars // 10), length_function=len
        )
        pieces = [p for p in splitter.split_text(passage.text) if p.strip()] or [passage.text[:piece_chars]]
        return [_Entry(passage, piece, part=i, parts=len(pieces)) for i, piece in enumerate(pieces, start=1)]

    # -- prompt and cache ----------------------------------------------------------------

    def messages_for(self, source: Source, chunk: Chunk) -> list[BaseMessage]:
        """System prompt (instructions) and user message (the passages, delimited, as data)."""
        from langchain_core.messages import HumanMessage, SystemMessage

        system, user = self.prompt
        kind = source.kind.value if source.kind else "source"
        where = source.uri.rsplit("/", 1)[-1] if source.uri else source.id
        described = f"{kind} {_attr(where)}"
        if source.community:
            described += f" (community: {_attr(source.community)})"
        body = user.replace("{source}", described).replace("{passages}", render_chunk(chunk))
        return [SystemMessage(content=system), HumanMessage(content=body)]

    def cache_key(self, chunk: Chunk) -> str:
        """sha256 of the chunk's passage content hashes (in order), the prompt version and the model id."""
        payload = json.dumps(
            {
                "passages": [e.cache_part for e in chunk.entries],
                "prompt": self.prompt_version,
                "model": self.model_id,
            },
            sort_keys=True,
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    # -- running -------------------------------------------------------------------------

    def run(self, source: Source, passages: list[Passage]) -> ExtractionResult:
        """Candidates for one source; malformed answers become failures and the run goes on."""
        result = ExtractionResult()
        try:
            chunks = self.make_chunks(passages)
        except ValueError as exc:  # a bad prompt version
            result.failures.append(ExtractionFailure(source.id, f"LLM extractor misconfigured: {exc}"))
            return result
        config_failure: ExtractionFailure | None = None  # one per source, naming every chunk it stopped
        for number, chunk in enumerate(chunks, start=1):
            ids = ", ".join(chunk.passage_ids)
            where = f"source {source.id} ({source.uri}), chunk {number}/{len(chunks)}, passages {ids}"
            key = self.cache_key(chunk)
            try:
                data, cached = self._answer(source, chunk, key)
            except LLMConfigError as exc:
                if config_failure is None:
                    reason = f"LLM extraction failed for source {source.id} ({source.uri}): {exc}"
                    log.warning("%s", reason)
                    config_failure = ExtractionFailure(source.id, reason, [])
                    result.failures.append(config_failure)
                config_failure.passage_ids.extend(chunk.passage_ids)
                continue
            except _Malformed as exc:
                reason = f"LLM extraction failed for {where}: {exc}"
                log.warning("%s", reason)
                result.failures.append(ExtractionFailure(source.id, reason, chunk.passage_ids))
                continue
            candidates, dropped, problem = self._candidates(data, chunk)
            if problem:  # no item of the answer matched the schema: the answer is malformed
                reason = f"LLM extraction failed for {where}: {problem}"
                log.warning("%s", reason)
                result.failures.append(ExtractionFailure(source.id, reason, chunk.passage_ids))
            elif not cached:  # only usable answers are kept: a malformed one is asked again next run
                self.cache[key] = json.dumps(data, ensure_ascii=False)
            result.candidates.extend(candidates)
            result.dropped += dropped
        return result

    def _answer(self, source: Source, chunk: Chunk, key: str) -> tuple[dict[str, list[Any]], bool]:
        """(the chunk's answer, whether it came from the cache). Raises _Malformed / LLMConfigError."""
        cached = self.cache.get(key)
        if cached is not None:
            try:
                return _check_shape(json.loads(cached)), True
            except (ValueError, _Malformed):
                log.warning("ignoring an unreadable cached LLM answer for %s", key[:12])
        return _check_shape(self._call_model(self.messages_for(source, chunk))), False

    def _call_model(self, messages: list[BaseMessage]) -> Any:
        chat_model = self._get_chat_model()
        structured = self._structured_runnable(chat_model)
        try:
            if structured is None:
                return _data_from_message(chat_model.invoke(messages))
            out = structured.invoke(messages)
        except _Malformed:
            raise
        except Exception as exc:  # noqa: BLE001 - a provider error is this chunk's failure, not the run's
            raise _Malformed(f"the model call failed: {type(exc).__name__}: {_one_line(exc)}") from exc
        if not isinstance(out, dict):  # a runnable that returns the object itself
            return out.model_dump(mode="json") if isinstance(out, BaseModel) else out
        parsed = out.get("parsed")
        if isinstance(parsed, BaseModel):
            return parsed.model_dump(mode="json")
        if isinstance(parsed, dict):
            return parsed
        try:  # the structured parse failed: read the raw message ourselves
            return _data_from_message(out.get("raw"))
        except _Malformed as exc:
            error = out.get("parsing_error")
            detail = f" (structured output: {_one_line(error)})" if error else ""
            raise _Malformed(f"{exc}{detail}") from None

    def _candidates(
        self, data: dict[str, list[Any]], chunk: Chunk
    ) -> tuple[list[CandidateDraft], int, str | None]:
        """Verified candidates, how many were dropped, and a schema problem.

        An item that does not match the schema is dropped (counted) when others do; when none
        does, the answer as a whole is malformed: the problem is returned (a failure, not drops).
        """
        labels = chunk.labels
        by_id = {p.id: p for p in labels.values()}
        candidates: list[CandidateDraft] = []
        dropped = 0
        problem: str | None = None
        items: list[tuple[CandidateKind, Any]] = [(CandidateKind.faq, x) for x in data["faqs"]]
        items += [(CandidateKind.pattern, x) for x in data["patterns"]]
        invalid = 0
        for kind, raw in items:
            schema = FAQOut if kind == CandidateKind.faq else PatternOut
            try:
                item = schema.model_validate(raw)
            except ValidationError as exc:
                problem = problem or f"schema mismatch in a {kind.value}: {_first_error(exc)}"
                invalid += 1
                continue
            title = item.question if isinstance(item, FAQOut) else item.name
            if not (title or "").strip():
                field_name = "question" if kind == CandidateKind.faq else "name"
                problem = problem or f"schema mismatch: a {kind.value} with an empty {field_name}"
                invalid += 1
                continue
            evidence = self._verified_evidence(item.evidence, labels, by_id)
            if not evidence:
                log.info("dropping an LLM %s with no verifiable evidence: %.80s", kind.value, title)
                dropped += 1
                continue
            candidates.append(self._draft(kind, item, evidence))
        if invalid and invalid == len(items):
            return candidates, dropped, f"{problem} ({invalid} item(s), none valid)"
        return candidates, dropped + invalid, None

    def _verified_evidence(
        self, evidence: list[EvidenceOut], labels: dict[str, Passage], by_id: dict[str, Passage]
    ) -> list[Evidence]:
        kept: list[Evidence] = []
        seen: set[tuple[str, str]] = set()
        upper = {k.upper(): v for k, v in labels.items()}
        for ev in evidence:
            ref = _strip_label(ev.passage_id)
            passage = upper.get(ref.upper()) or by_id.get(ref)
            if passage is None:
                log.debug("evidence cites an unknown passage %r", ev.passage_id)
                continue
            quote = _locate_quote(ev.quote, passage.text)
            if quote is None:
                log.debug("quote not found verbatim in passage %s: %.80r", passage.id, ev.quote)
                continue
            if (passage.id, quote) in seen:
                continue
            seen.add((passage.id, quote))
            role = (ev.role or "support").strip().lower()
            role = role if role in EVIDENCE_ROLES else "support"
            kept.append(Evidence(passage_id=passage.id, quote=quote, role=role))
        return kept

    def _draft(self, kind: CandidateKind, item: FAQOut | PatternOut, evidence: list[Evidence]) -> CandidateDraft:
        confidence = item.confidence
        if confidence is None or not math.isfinite(confidence):
            confidence = DEFAULT_CONFIDENCE
        common: dict[str, Any] = {
            "kind": kind,
            "evidence": evidence,
            "extractor": self.name,
            "extractor_version": self.version,
            "llm_model": self.model_id,
            "prompt_version": self.prompt_version,
            "confidence": min(1.0, max(0.0, float(confidence))),
        }
        if isinstance(item, FAQOut):
            answer = (item.answer or "").strip() or None
            return CandidateDraft(question=item.question.strip(), answer=answer, **common)
        return CandidateDraft(
            name=item.name.strip(),
            context=_clean(item.context),
            problem=_clean(item.problem),
            recommendation=_clean(item.recommendation),
            items=[i.strip() for i in item.items if i and i.strip()],
            **common,
        )


def _clean(value: str | None) -> str | None:
    return (value or "").strip() or None


def _explain_value_error(model: str, exc: ValueError) -> str:
    """langchain's ValueError for a model string, shortened to what the user must change."""
    text = _one_line(exc, limit=10_000)
    if "infer model provider" in text or "Unsupported" in text:
        try:
            from langchain.chat_models.base import _BUILTIN_PROVIDERS  # private: only for the hint

            known = ", ".join(sorted(_BUILTIN_PROVIDERS))
        except Exception:  # noqa: BLE001
            known = "see langchain's init_chat_model documentation"
        provider = model.split(":", 1)[0] if ":" in model else None
        what = f"unknown model provider {provider!r}" if provider else "no model provider given"
        example = "e.g. 'openai:gpt-4o-mini' or 'ollama:llama3.1'"
        return f"{what}; write 'provider:model', {example} (providers: {known})"
    return _one_line(exc)


def _one_line(value: object, limit: int = 400) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
