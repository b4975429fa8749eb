"""Document sources: Markdown, HTML, Word, PowerPoint, PDF, e-mail, RTF, ODT and plain text.

Every format is partitioned into elements (titles, paragraphs, list items, tables...) by
`unstructured`, and every element becomes one passage (`PassageKind.element`) carrying the
headings above it (`section_path`), its page and its element type.

Bad input fails with a `SourceError` naming the reason before unstructured sees it: empty
files, content that is another format than the extension says, truncated or corrupt zip
containers, zip bombs (checked on the central directory only), encrypted PDFs, undecodable
text. Anything unstructured itself raises is wrapped into a one-line `SourceError` too.

PDFs are read with the equivalent of unstructured's "fast" strategy (pdfminer text boxes
classified by unstructured's `element_from_text`), never with OCR or layout models: those
need model downloads and are out of reach offline. `unstructured.partition.pdf` itself is
not used because importing it pulls the whole `unstructured-inference` stack (OpenCV, ONNX
Runtime, pandas, matplotlib, pi-heif), none of which the fast path needs.

unstructured is imported lazily inside `parse`, so importing this module (and starting the
CLI) stays fast.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from pipeline.models import PassageDraft, PassageKind, SourceKind
from pipeline.sources.base import (
    Bundle,
    Limits,
    Parsed,
    ParseOptions,
    SourceError,
    decode_text,
)
from pipeline.sources.document_checks import (
    ZIP_FORMATS,
    check_content,
    check_pdf,
    check_zip,
    content_type,
    one_line,
)
from pipeline.sources.limits import check_html_depth, safe_yaml_load

__all__ = ["PARSERS", "DocumentParser", "content_type", "parse_document", "strip_front_matter"]

# Element categories that are page furniture, not content.
_NOISE = frozenset({"PageBreak", "Header", "Footer", "PageNumber"})

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_ERB_TITLE = re.compile(r"<%=\s*current_page\.data\.title\s*-?%>")
# `<% content_for :sidebar do %> ... <% end %>` holds site navigation, not page content.
_ERB_CONTENT_FOR = re.compile(r"<%-?\s*content_for\b.*?%>.*?<%-?\s*end\s*-?%>", re.DOTALL)
_ERB_WARNING = re.compile(r"""<%=\s*warning_text\(\s*(['"])(.*?)\1\s*\)\s*-?%>""", re.DOTALL)
_ERB_TAG = re.compile(r"<%.*?%>", re.DOTALL)
_FIRST_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$", re.MULTILINE)
_SPACES = re.compile(r"\s+")


def strip_front_matter(text: str) -> tuple[str, dict[str, Any]]:
    """Split YAML front matter (`---` ... `---` at the very top) from Markdown.

    Returns the body and the front matter as a dict ({} when absent or unreadable: a page
    whose metadata is malformed still has a readable body). Front matter that could expand
    without bound (YAML aliases, see `safe_yaml_load`) raises SourceError: that is an attack
    on the reader, not a typo.
    """
    match = _FRONT_MATTER.match(text)
    if not match:
        return text, {}
    body = text[match.end() :]
    try:
        meta = safe_yaml_load(match.group(1), "front matter")
    except SourceError:
        raise
    except Exception:  # noqa: BLE001 - malformed metadata must not lose the page
        meta = None
    return body, meta if isinstance(meta, dict) else {}


_FENCE_LINE = re.compile(r"^(?P<prefix>(?:[ \t]*>)*[ \t]*)(?P<fence>`{3,}|~{3,})")
_HEADING_LIKE = re.compile(r"^(?P<prefix>(?:[ \t]*>)*[ \t]*)(?P<mark>#{1,6}(?=\s|$)|=+\s*$|-+\s*$)")


def protect_nested_fences(body: str) -> str:
    """Indent heading-like lines ("# comment", "===") inside fenced code that is nested in a
    list item or a blockquote: the Markdown reader only recognises top-level fences, so there a
    shell comment would become a heading and re-root every section after it. Top-level fences
    are left alone (their code comes out verbatim)."""
    out: list[str] = []
    fence: tuple[str, int] | None = None  # (fence character, length) of the open nested fence
    for line in body.split("\n"):
        m = _FENCE_LINE.match(line)
        if fence is None:
            nested = m is not None and (">" in m.group("prefix") or len(m.group("prefix").expandtabs()) >= 4)
            if nested:
                fence = (m.group("fence")[0], len(m.group("fence")))
        elif m and m.group("fence")[0] == fence[0] and len(m.group("fence")) >= fence[1]:
            fence = None  # the closing fence
        else:
            h = _HEADING_LIKE.match(line)
            if h:
                line = f"{line[: h.end('prefix')]} {line[h.end('prefix') :]}"  # off column 0: not a heading
        out.append(line)
    return "\n".join(out)


def _prepare_markdown(text: str) -> tuple[str, str | None]:
    """Front matter and ERB removed; the front-matter title made the top heading if none is;
    nested code fences protected (`protect_nested_fences`)."""
    body, meta = strip_front_matter(text)
    body = protect_nested_fences(body)
    title = meta.get("title")
    title = _SPACES.sub(" ", str(title)).strip() if title is not None else None
    body = _ERB_TITLE.sub(lambda _: title or "", body)
    body = _ERB_CONTENT_FOR.sub("", body)
    body = _ERB_WARNING.sub(lambda m: m.group(2), body)
    body = _ERB_TAG.sub("", body)
    if title:
        first = _FIRST_HEADING.search(body)
        if first is None or len(first.group(1)) != 1:
            body = f"# {title}\n\n{body}"
    return body, title


# --- partitioning ----------------------------------------------------------------------------


def _pdf_elements(data: bytes, warnings: list[str]) -> list[Any]:
    """unstructured's "fast" PDF strategy: pdfminer text boxes classified by element_from_text."""
    from pdfminer.layout import LTContainer, LTTextBox
    from pdfminer.pdfpage import PDFPage
    from unstructured.cleaners.core import clean_extra_whitespace
    from unstructured.nlp.patterns import PARAGRAPH_PATTERN
    from unstructured.partition.pdf_image.pdfminer_utils import (
        get_text_with_deduplication,
        init_pdfminer,
    )
    from unstructured.partition.text import element_from_text
    from unstructured.partition.utils.config import env_config

    def text_of(item: Any) -> str:
        if hasattr(item, "get_text"):
            return item.get_text()
        if isinstance(item, LTContainer):
            return "".join(text_of(child) for child in item)
        return "\n"

    device, interpreter = init_pdfminer()
    elements: list[Any] = []
    blank_pages: list[int] = []
    for page_number, page in enumerate(PDFPage.get_pages(io.BytesIO(data), password=""), start=1):
        interpreter.process_page(page)
        layout = device.get_result()
        found = 0
        for obj in layout:
            if isinstance(obj, LTTextBox):
                # Deduplication undoes "fake bold" (every character drawn twice).
                snippets = [get_text_with_deduplication(obj, env_config.PDF_CHAR_DUPLICATE_THRESHOLD)]
            elif isinstance(obj, LTContainer):
                snippets = re.split(PARAGRAPH_PATTERN, text_of(obj))
            else:
                continue
            for snippet in snippets:
                text = clean_extra_whitespace(snippet)
                if text.strip():
                    element = element_from_text(text)
                    element.metadata.page_number = page_number
                    elements.append(element)
                    found += 1
        if not found:
            blank_pages.append(page_number)
    if elements and blank_pages:
        warnings.append(
            f"{len(blank_pages)} page(s) without a text layer (scanned?), skipped: "
            + ", ".join(map(str, blank_pages[:20]))
            + (" ..." if len(blank_pages) > 20 else "")
        )
    return elements


def _partition(fmt: str, data: bytes, filename: str, warnings: list[str]) -> tuple[list[Any], str | None]:
    """Run unstructured's partitioner for `fmt`; returns the elements and a document title."""
    if fmt == "md":
        text, title = _prepare_markdown(decode_text(data, "Markdown file", warnings))
        if not text.strip():
            return [], title
        from unstructured.partition.md import partition_md

        return partition_md(text=text, metadata_filename=filename), title
    if fmt == "txt":
        text = decode_text(data, "text file", warnings)
        if not text.strip():
            return [], None
        from unstructured.partition.text import partition_text

        return partition_text(text=text, metadata_filename=filename), None
    if fmt == "pdf":
        return _pdf_elements(data, warnings), None

    file = io.BytesIO(data)
    if fmt == "html":
        from unstructured.partition.html import partition_html

        check_html_depth(data)
        return partition_html(file=file, metadata_filename=filename), None
    if fmt == "docx":
        from unstructured.partition.docx import partition_docx

        return partition_docx(file=file, metadata_filename=filename), None
    if fmt == "pptx":
        from unstructured.partition.pptx import partition_pptx

        return partition_pptx(file=file, metadata_filename=filename), None
    if fmt == "odt":
        from unstructured.partition.odt import partition_odt

        return partition_odt(file=file, metadata_filename=filename), None
    if fmt == "rtf":
        from unstructured.partition.rtf import partition_rtf

        return partition_rtf(file=file, metadata_filename=filename), None
    # Attachments would be partitioned by file type (images → OCR, PDFs → hi_res models):
    # they are separate sources if they matter, so they are left out.
    if fmt == "eml":
        from unstructured.partition.email import partition_email

        return partition_email(file=file, metadata_filename=filename, process_attachments=False), None
    if fmt == "msg":
        from unstructured.partition.msg import partition_msg

        return partition_msg(file=file, metadata_filename=filename, process_attachments=False), None
    raise SourceError(f"no partitioner for format {fmt!r}")


def _element_extra(element: Any, filename: str) -> dict[str, Any]:
    md = element.metadata
    extra: dict[str, Any] = {"filename": filename}
    emphasized = [t for t in (md.emphasized_text_contents or []) if t and t.strip()]
    if emphasized:
        extra["emphasized"] = emphasized
    urls = md.link_urls or []
    if urls:
        texts = md.link_texts or []
        extra["links"] = [
            {"text": texts[i] if i < len(texts) else None, "url": url} for i, url in enumerate(urls)
        ]
    for key in ("subject", "sent_from", "sent_to"):
        value = getattr(md, key, None)
        if value:
            extra[key] = value
    return extra


def elements_to_drafts(
    elements: list[Any],
    filename: str,
    root: list[str] | None = None,
    per_page_headings: bool = False,
) -> list[PassageDraft]:
    """Turn unstructured elements into passage drafts with their heading path.

    A heading stack follows Title elements: a Title at depth d (metadata.category_depth,
    0 when the format does not say) replaces the stack from d on. Each passage, titles
    included, carries the headings above it; `root` (an e-mail subject) prefixes every path.
    With `per_page_headings` (slides) the stack starts afresh on every page.
    """
    root = list(root or [])
    stack: list[str] = []
    drafts: list[PassageDraft] = []
    page: int | None = None
    for element in elements:
        category = getattr(element, "category", None) or type(element).__name__
        if category in _NOISE:
            continue
        text = (element.text or "").strip()
        if not text:
            continue
        md = element.metadata
        if per_page_headings and md.page_number != page:
            stack = []  # a slide's headings say nothing about the next slide
        page = md.page_number
        if category == "Title":
            depth = md.category_depth if isinstance(md.category_depth, int) else 0
            depth = max(0, min(depth, len(stack)))
            path = root + stack[:depth]
            stack = stack[:depth] + [_SPACES.sub(" ", text)]
        else:
            path = root + stack
        drafts.append(
            PassageDraft(
                kind=PassageKind.element,
                text=text,
                element_type=category,
                page=md.page_number,
                section_path=path,
                extra=_element_extra(element, filename),
            )
        )
    return drafts


def parse_document(fmt: str, data: bytes, filename: str, limits: Limits | None = None) -> Parsed:
    """Partition the bytes of one document of format `fmt` (md, html, docx, pdf...) into passages.

    Raises SourceError with the reason for empty, mis-named, corrupt, encrypted, oversized
    (zip bomb) or undecodable input, and for documents with no text at all.
    """
    label = fmt.upper()
    if not data.strip():
        raise SourceError("empty file")
    check_content(fmt, data)
    if fmt in ZIP_FORMATS:
        check_zip(fmt, data, limits or Limits())
    if fmt == "pdf":
        check_pdf(data)

    from pipeline.sources.offline_nlp import ensure_offline_nlp

    ensure_offline_nlp()
    warnings: list[str] = []
    try:
        elements, title = _partition(fmt, data, filename, warnings)
    except SourceError:
        raise
    except (RecursionError, MemoryError):
        raise  # the budget reports these with their own reason (limits.crash_reason)
    except Exception as exc:  # noqa: BLE001 - any failure inside unstructured is bad input here
        reason = f"{type(exc).__name__}: {one_line(exc)}"
        if fmt in ZIP_FORMATS:
            # python-docx/pptx/odfpy fail on a wrong package with attribute or key errors.
            raise SourceError(
                f"corrupt {label}: its parts do not have the structure a {label} needs ({one_line(exc)})"
            ) from None
        raise SourceError(f"{label} could not be partitioned: {reason}") from None

    root: list[str] = []
    if fmt in ("eml", "msg"):
        subjects = (getattr(e.metadata, "subject", None) for e in elements)
        subject = next((s for s in subjects if s and s.strip()), None)
        if subject:
            root = [_SPACES.sub(" ", subject).strip()]
    drafts = elements_to_drafts(elements, filename, root, per_page_headings=fmt == "pptx")
    if title:
        for draft in drafts:
            draft.extra["title"] = title
    if not drafts:
        if fmt == "pdf":
            raise SourceError("no extractable text (scanned PDF? OCR is not available offline)")
        raise SourceError(f"no text found: the {label} holds no text elements")
    return Parsed(kind=SourceKind.document, format=fmt, passages=drafts, warnings=warnings)


@dataclass(frozen=True)
class DocumentParser:
    """One document format, recognised by file extension; `name` is the stored format."""

    name: str
    extensions: tuple[str, ...]
    kind: SourceKind = SourceKind.document
    version: str = "1"
    limits: Limits = field(default_factory=Limits)

    def sniff(self, bundle: Bundle) -> bool:
        """True for a single file whose name ends with one of this format's extensions."""
        try:
            if bundle.members() != [""]:
                return False
        except SourceError:
            return False
        return _file_name(bundle).lower().endswith(self.extensions)

    def parse(self, bundle: Bundle, options: ParseOptions) -> Parsed:
        """Partition the file into element passages; raise SourceError if it cannot be read."""
        return parse_document(self.name, bundle.read(), _file_name(bundle), self.limits)


def _file_name(bundle: Bundle) -> str:
    return PurePosixPath(bundle.name.replace("\\", "/")).name


PARSERS: list = [
    DocumentParser("md", (".md", ".markdown", ".md.erb", ".markdown.erb")),
    DocumentParser("html", (".html", ".htm", ".xhtml")),
    DocumentParser("docx", (".docx",)),
    DocumentParser("pptx", (".pptx",)),
    DocumentParser("pdf", (".pdf",)),
    DocumentParser("eml", (".eml",)),
    DocumentParser("msg", (".msg",)),
    DocumentParser("rtf", (".rtf",)),
    DocumentParser("odt", (".odt",)),
    DocumentParser("txt", (".txt", ".text")),
]
