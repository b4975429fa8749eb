"""Bounded readers for formats that can nest or expand: YAML, XML, HTML, and failure reasons.

A few hundred hostile bytes can ask a naive parser for gigabytes: YAML aliases that refer to
aliases, XML entities that expand to entities, markup nested past a parser's stack. Each
reader here refuses such input up front with a `SourceError` whose message is the reason
shown to the user, instead of trusting a library's own limits (or their absence).
"""

from __future__ import annotations

import codecs
import re
from typing import Any

from pipeline.sources.base import SourceError

__all__ = [
    "HTML_MAX_DEPTH",
    "MAX_FRONT_MATTER_BYTES",
    "check_html_depth",
    "crash_reason",
    "refuse_xml_dtd",
    "safe_yaml_load",
]

# Front matter is a handful of keys; anything this big is not page metadata.
MAX_FRONT_MATTER_BYTES = 256 * 1024
# libxml2's HTML parser silently drops every element nested deeper than this (without its
# "huge" option, which would lift every other limit too).
HTML_MAX_DEPTH = 256

_XML_PROLOG_ITEM = re.compile(rb"\s*(?:<\?.*?\?>|<!--.*?-->)", re.DOTALL)
_XML_DTD = re.compile(rb"\s*<!(?:DOCTYPE|ENTITY)\b", re.IGNORECASE)


def safe_yaml_load(text: str, what: str = "YAML") -> Any:
    """Load YAML with the safe loader, refusing aliases and oversized or over-nested input.

    An alias (`*name`) makes a value refer to another one; chained aliases describe values
    exponentially larger than the text (a 398-byte "billion laughs" front matter held 13 GB
    once printed). Metadata never needs them, so the first alias is refused with its line.
    """
    import yaml

    if len(text.encode("utf-8", "surrogatepass")) > MAX_FRONT_MATTER_BYTES:
        raise SourceError(f"{what} is over {MAX_FRONT_MATTER_BYTES // 1024} KiB, refused")

    class _NoAliasLoader(yaml.SafeLoader):
        def compose_node(self, parent: Any, index: Any) -> Any:  # noqa: ANN401 - PyYAML's signature
            if self.check_event(yaml.AliasEvent):
                mark = self.peek_event().start_mark
                raise SourceError(
                    f"{what} uses a YAML alias (line {mark.line + 1}), refused: aliases can "
                    "expand a few bytes into gigabytes (a 'billion laughs' bomb)"
                )
            return super().compose_node(parent, index)

    try:
        return yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506 - a SafeLoader subclass
    except RecursionError:
        raise SourceError(f"{what} is nested too deeply to read, refused") from None


def refuse_xml_dtd(data: bytes, what: str) -> None:
    """Refuse XML that declares a DTD or entities (in its prolog, before the root element).

    Entities are how XML expands ("billion laughs") and reaches outside the file (external
    entities); none of the formats read here (Stack Exchange dumps, Office/OpenDocument
    parts) uses a DTD, so refusing one is the `defusedxml` policy without the dependency.
    """
    head = data
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        head = head[:1 << 20].decode("utf-16", "replace").encode("utf-8")
    elif head.startswith(codecs.BOM_UTF8):
        head = head[len(codecs.BOM_UTF8) :]
    pos = 0
    while True:
        match = _XML_PROLOG_ITEM.match(head, pos)
        if match is None or match.end() == pos:
            break
        pos = match.end()
    if _XML_DTD.match(head, pos):
        raise SourceError(
            f"{what}: refused, the XML declares a DTD or entities (entity expansion is "
            "how XML bombs and external-entity reads work, and this format never needs it)"
        )


def check_html_depth(data: bytes, what: str = "HTML") -> None:
    """Refuse HTML nested deeper than the HTML parser reads, rather than lose its inner text.

    libxml2 stops building the tree at depth 256 and quietly drops everything below; the
    document would then "hold no text" or lose sections with no word said. Parsing once
    more costs little next to partitioning, and turns that silent loss into a reason.
    """
    from lxml import etree

    parser = etree.HTMLParser(remove_comments=True, remove_pis=True)
    try:
        etree.fromstring(data, parser)
    except (etree.ParserError, ValueError):
        return  # an unparsable page fails later with the partitioner's own reason
    for entry in parser.error_log:
        if entry.type_name == "ERR_RESOURCE_LIMIT":
            raise SourceError(
                f"{what} nests elements more than {HTML_MAX_DEPTH} levels deep, refused: the "
                "HTML parser cannot read text below that depth"
            )


def crash_reason(parser_name: str, exc: BaseException) -> str:
    """A user-facing reason for an exception a parser did not turn into a SourceError."""
    if isinstance(exc, RecursionError):
        return (
            f"nested too deeply: the {parser_name} parser gave up on structures nested past "
            "its depth limit (deeply nested JSON, markup or lists), refused"
        )
    if isinstance(exc, MemoryError):
        return f"out of memory: the {parser_name} parser ran out of its memory budget on this file"
    return f"internal error in the {parser_name} parser: {type(exc).__name__}: {exc}"
