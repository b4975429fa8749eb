"""Builders for broken input files, one of each kind the product must survive."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path


def minimal_docx(text: str = "Always pin your base images.") -> bytes:
    """A small valid DOCX made with python-docx."""
    import docx

    document = docx.Document()
    document.add_heading("Guide", level=1)
    document.add_paragraph(text)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def encrypted_pdf() -> bytes:
    """A one-page PDF encrypted with a user password."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.encrypt(user_password="secret", owner_password="owner")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def zip_bomb(path: Path, member: str = "word/document.xml", size_mb: int = 64) -> None:
    """A zip whose one member expands from a few KB to `size_mb` MB of spaces (streamed, low memory)."""
    chunk = b" " * (1024 * 1024)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        with zf.open(member, "w", force_zip64=True) as fh:
            for _ in range(size_mb):
                fh.write(chunk)


def write_broken_files(folder: Path) -> dict[str, str]:
    """Write one broken file of each kind; returns file name -> a word its failure reason must contain."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "empty.md").write_bytes(b"")
    (folder / "empty.vtt").write_bytes(b"")
    good_docx = minimal_docx()
    (folder / "truncated.docx").write_bytes(good_docx[: len(good_docx) // 2])
    (folder / "corrupt.pptx").write_bytes(b"\x00\x01garbage that is not a zip archive" * 20)
    (folder / "encrypted.pdf").write_bytes(encrypted_pdf())
    # bytes no text encoding explains (a Latin-1 note is read since encodings are detected)
    (folder / "misencoded.md").write_bytes(b"# Notes\n\n" + bytes(range(1, 256)) * 4)
    (folder / "misnamed.docx").write_bytes(b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n")
    zip_bomb(folder / "bomb.docx")
    (folder / "huge.txt").write_text("Always write tests.\n" * 100_000)  # 2 MB: over a 1 MiB cap
    (folder / "not-a-transcript.vtt").write_text("this is not WebVTT at all\n")
    (folder / "broken.jsonl").write_text('{"text": "unterminated\n')
    export = folder / "slack-export"
    export.mkdir()
    (export / "channels.json").write_text("{not json")
    (export / "users.json").write_text("[]")
    return {
        "empty.md": "empty",
        "empty.vtt": "empty",
        "truncated.docx": "docx",
        "corrupt.pptx": "pptx",
        "encrypted.pdf": "encrypt",
        "misencoded.md": "no common encoding",
        "misnamed.docx": "pdf",
        "bomb.docx": "bomb",
        "huge.txt": "too large",
        "not-a-transcript.vtt": "webvtt",
        "broken.jsonl": "line",
        "slack-export": "slack",
    }
