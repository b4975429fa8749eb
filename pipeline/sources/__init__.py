"""Source formats: each module exposes PARSERS; `detect` picks the parser for a bundle."""

from __future__ import annotations

from functools import lru_cache

from pipeline.models import SourceKind
from pipeline.sources.base import Bundle, Parser, SourceError


@lru_cache(maxsize=1)
def all_parsers() -> tuple[Parser, ...]:
    """Every registered parser, most specific first (generic text/document readers last)."""
    from pipeline.sources import chat_exports, documents, irc, irc_html, jsonl_threads, mbox, slack, stackexchange, teams_docx, transcripts

    return (
        *slack.PARSERS,
        *stackexchange.PARSERS,
        *mbox.PARSERS,
        *irc.PARSERS,
        *chat_exports.PARSERS,
        *teams_docx.PARSERS,
        *irc_html.PARSERS,
        *transcripts.PARSERS,
        *jsonl_threads.PARSERS,
        *documents.PARSERS,
    )


def detect(bundle: Bundle, kind: SourceKind | None = None) -> Parser:
    """The first parser that recognises the bundle, optionally only among parsers of `kind`."""
    for parser in all_parsers():
        if kind is not None and parser.kind != kind:
            continue
        if parser.sniff(bundle):
            return parser
    wanted = f" as a {kind.value}" if kind else ""
    raise SourceError(f"unsupported format{wanted}: no parser recognises this file")
