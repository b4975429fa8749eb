"""Checks on a document's bytes before any partitioner sees them.

What the first bytes say the content is (so a PDF named .docx fails as "file content is PDF"),
corrupt or truncated zip packages, zip bombs (from the central directory only), XML parts
that declare a DTD, and PDFs that need a password. Each refusal is a `SourceError` whose
message is the reason shown to the user.
"""

from __future__ import annotations

import io
import re
import zipfile

from pipeline.sources.base import Limits, SourceError, check_zip_bomb
from pipeline.sources.limits import refuse_xml_dtd

__all__ = ["ZIP_FORMATS", "check_content", "check_pdf", "check_zip", "content_type", "one_line"]

_SPACES = re.compile(r"\s+")

ZIP_FORMATS = frozenset({"docx", "pptx", "odt"})

# The part every well-formed package of a zip-based format holds.
_ZIP_MAIN_PART = {
    "docx": "word/document.xml",
    "pptx": "ppt/presentation.xml",
    "odt": "content.xml",
}

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_BINARY_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "ZIP"),
    (b"PK\x05\x06", "ZIP"),
    (_OLE_MAGIC, "an OLE compound file (legacy .doc/.xls/.ppt or Outlook .msg)"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"\x1f\x8b", "GZIP"),
    (b"7z\xbc\xaf\x27\x1c", "7Z"),
    (b"Rar!\x1a\x07", "RAR"),
    (b"\x7fELF", "ELF"),
)


def one_line(exc: BaseException) -> str:
    """An exception as one line of at most 300 characters."""
    text = _SPACES.sub(" ", str(exc)).strip() or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."


def _zip_kind(data: bytes) -> str:
    """Name the office format inside a zip container ("ZIP" when it cannot tell)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
            mimetype = ""
            if "mimetype" in names:
                with zf.open("mimetype") as member:  # at most 100 bytes: not yet bomb-checked
                    mimetype = member.read(100).decode("ascii", "replace")
    except (zipfile.BadZipFile, OSError, RuntimeError, ValueError, EOFError):
        return "ZIP"
    for fmt, part in (("DOCX", "word/document.xml"), ("PPTX", "ppt/presentation.xml"),
                      ("XLSX", "xl/workbook.xml")):  # fmt: skip
        if part in names:
            return fmt
    if mimetype.startswith("application/vnd.oasis.opendocument."):
        sub = mimetype.rsplit(".", 1)[-1]
        return {"text": "ODT", "spreadsheet": "ODS", "presentation": "ODP"}.get(sub, "OpenDocument")
    if mimetype == "application/epub+zip":
        return "EPUB"
    return "ZIP"


def content_type(data: bytes) -> str | None:
    """What the first bytes say the content is ("PDF", "DOCX", "RTF", ...), or None."""
    head = data[:1024]
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"%PDF-"):
        return "PDF"
    for magic, what in _BINARY_MAGIC:
        if head.startswith(magic):
            return _zip_kind(data) if what == "ZIP" else what
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{\\rtf"):
        return "RTF"
    return None


def check_content(fmt: str, data: bytes) -> None:
    """Refuse content that is some other format than the extension claims."""
    label = fmt.upper()
    actual = content_type(data)
    if fmt in ZIP_FORMATS:
        if actual is None:
            raise SourceError(f"not a valid {label} file: the content is not a zip package")
        if actual not in ("ZIP", label):
            raise SourceError(f"file content is {actual}, not {label}")
    elif fmt == "pdf":
        if b"%PDF-" not in data[:1024]:  # the header may follow a little junk
            found = f"file content is {actual}" if actual else "no %PDF- header"
            raise SourceError(f"not a PDF file: {found}")
    elif fmt == "msg":
        if not data.startswith(_OLE_MAGIC):
            found = f"file content is {actual}" if actual else "not an OLE compound file"
            raise SourceError(f"not an Outlook MSG file: {found}")
    elif fmt == "rtf":
        if actual != "RTF":
            found = f"file content is {actual}" if actual else "no {\\rtf header"
            raise SourceError(f"not an RTF file: {found}")
    elif actual is not None:  # a text format holding binary (or RTF) content
        raise SourceError(f"file content is {actual}, not {label}")


def check_zip(fmt: str, data: bytes, limits: Limits) -> None:
    """Open the central directory only: refuse corrupt packages and zip bombs up front."""
    label = fmt.upper()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise SourceError(f"corrupt or truncated {label}: {one_line(exc)}") from None
    check_zip_bomb(infos, limits)
    if _ZIP_MAIN_PART[fmt] not in {i.filename for i in infos}:
        raise SourceError(f"corrupt {label}: the package has no {_ZIP_MAIN_PART[fmt]}")
    _check_package_xml(label, data, infos)


def _check_package_xml(label: str, data: bytes, infos: list[zipfile.ZipInfo]) -> None:
    """Refuse XML parts that declare a DTD: Office and OpenDocument packages never do."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for info in infos:
            if not info.filename.endswith((".xml", ".rels")):
                continue
            try:
                with zf.open(info) as member:
                    head = member.read(64 * 1024)  # the prolog sits at the top
            except (zipfile.BadZipFile, RuntimeError, OSError, EOFError) as exc:
                raise SourceError(f"corrupt {label}: cannot read {info.filename}: {one_line(exc)}") from None
            refuse_xml_dtd(head, f"{label} part {info.filename}")


def check_pdf(data: bytes) -> None:
    """Refuse PDFs that need a password; an owner-password-only PDF stays readable."""
    from pdfminer.pdfdocument import PDFDocument, PDFEncryptionError, PDFPasswordIncorrect
    from pdfminer.pdfparser import PDFParser

    try:
        PDFDocument(PDFParser(io.BytesIO(data)), password="")
    except PDFPasswordIncorrect:
        raise SourceError("encrypted PDF: password required") from None
    except PDFEncryptionError as exc:
        raise SourceError(f"encrypted PDF: cannot decrypt ({one_line(exc)})") from None
    except Exception as exc:  # noqa: BLE001 - pdfminer has no common base for syntax errors
        raise SourceError(f"corrupt PDF: {type(exc).__name__}: {one_line(exc)}") from None
