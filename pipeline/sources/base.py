"""The parser contract: a source arrives as a Bundle of bytes, a parser returns passages.

Parsers are pure: they never open files themselves. `Bundle` hides whether a source is one
file, a folder (a Slack export, a Stack Exchange dump) or a zip archive, so parsers can be
tested on in-memory bytes and ingestion keeps all file access at the edge.
"""

from __future__ import annotations

import codecs
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Protocol, runtime_checkable

from pipeline.models import PassageDraft, SourceKind


class SourceError(Exception):
    """A source that cannot be read. The message is the reason shown to the user."""


@dataclass(frozen=True)
class Limits:
    """Caps that keep one hostile or oversized source from taking the run down."""

    max_source_bytes: int = 200 * 1024 * 1024  # on disk (a folder counts all its files)
    max_uncompressed_bytes: int = 1024 * 1024 * 1024  # what an archive may expand to
    max_compression_ratio: float = 200.0  # per member; zip bombs sit far above this


class Bundle(Protocol):
    """The bytes of one source: a single file (member "") or the files of a folder/archive."""

    name: str  # what the user calls it: a path or file name

    def members(self) -> list[str]:
        """Relative POSIX paths of the files inside ([""] for a single file)."""

    def read(self, member: str = "") -> bytes:
        """The bytes of one member."""


@dataclass
class MemoryBundle:
    """A bundle held in memory: for tests, and for sources that arrive as bytes."""

    name: str
    files: dict[str, bytes]

    def members(self) -> list[str]:
        return sorted(self.files)

    def read(self, member: str = "") -> bytes:
        try:
            return self.files[member]
        except KeyError:
            raise SourceError(f"{self.name}: no member {member!r}") from None


@dataclass
class FileBundle:
    """One file on disk."""

    path: Path

    @property
    def name(self) -> str:
        return str(self.path)

    def members(self) -> list[str]:
        return [""]

    def read(self, member: str = "") -> bytes:
        if member:
            raise SourceError(f"{self.name}: a single file has no member {member!r}")
        return self.path.read_bytes()


@dataclass
class DirBundle:
    """A folder read as one source (a Slack export, a Stack Exchange dump)."""

    path: Path

    @property
    def name(self) -> str:
        return str(self.path)

    def members(self) -> list[str]:
        return sorted(
            p.relative_to(self.path).as_posix() for p in self.path.rglob("*") if p.is_file()
        )

    def read(self, member: str = "") -> bytes:
        target = (self.path / member).resolve()
        if self.path.resolve() not in target.parents:
            raise SourceError(f"{self.name}: member {member!r} is outside the folder")
        return target.read_bytes()


@dataclass
class ZipBundle:
    """A zip archive read as one source, refusing decompression bombs before expanding anything."""

    path: Path
    limits: Limits = field(default_factory=Limits)

    @property
    def name(self) -> str:
        return str(self.path)

    def _zip(self) -> zipfile.ZipFile:
        try:
            return zipfile.ZipFile(self.path)
        except zipfile.BadZipFile as exc:
            raise SourceError(f"not a valid zip archive ({exc})") from None

    def members(self) -> list[str]:
        with self._zip() as zf:
            check_zip_bomb(zf.infolist(), self.limits)
            return sorted(
                i.filename for i in zf.infolist() if not i.is_dir() and _safe_member(i.filename)
            )

    def read(self, member: str = "") -> bytes:
        with self._zip() as zf:
            try:
                info = zf.getinfo(member)
            except KeyError:
                raise SourceError(f"no member {member!r} in the archive") from None
            check_zip_bomb([info], self.limits)
            try:
                return zf.read(info)
            except (zipfile.BadZipFile, RuntimeError, EOFError, OSError) as exc:
                # RuntimeError is how zipfile reports an encrypted member.
                raise SourceError(f"cannot read {member!r} from the archive: {exc}") from None


def _safe_member(name: str) -> bool:
    p = PurePosixPath(name)
    return not p.is_absolute() and ".." not in p.parts and not name.startswith("__MACOSX/")


def check_zip_bomb(infos: list[zipfile.ZipInfo], limits: Limits) -> None:
    """Refuse an archive whose declared sizes say it would expand past the limits.

    Reads only the central directory, so nothing is decompressed. The declared sizes of a
    crafted archive can lie, but zipfile stops reading a member at its declared size, so
    the declared total is what reading can cost.
    """
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > 1024 * 1024 and info.compress_size > 0:
            ratio = info.file_size / info.compress_size
            if ratio > limits.max_compression_ratio:
                raise SourceError(
                    f"refused: archive member {info.filename!r} would expand {ratio:.0f}x "
                    f"({info.file_size} bytes), a likely decompression bomb"
                )
    if total > limits.max_uncompressed_bytes:
        raise SourceError(
            f"refused: archive would expand to {total} bytes, over the "
            f"{limits.max_uncompressed_bytes}-byte limit (a likely decompression bomb)"
        )


def decode_text(data: bytes, what: str = "file") -> str:
    """Decode text that should be UTF-8 (BOM allowed) or UTF-16 with a BOM.

    Raises SourceError naming the offset of the first bad byte: a mis-encoded file fails
    with a reason rather than being silently turned into mojibake.
    """
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise SourceError(f"{what} is not valid UTF-16 ({exc.reason} at byte {exc.start})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(
            f"{what} is not valid UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "re-save it as UTF-8"
        ) from None
    if "\x00" in text:
        raise SourceError(f"{what} contains NUL bytes: binary data, not text")
    return text


@dataclass
class Parsed:
    """What a parser returns for one source."""

    kind: SourceKind
    format: str
    passages: list[PassageDraft]
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ParseOptions:
    """Per-run switches a parser may honour."""

    include_bots: bool = False  # Slack bot messages are skipped unless asked for


@runtime_checkable
class Parser(Protocol):
    """A source format. `sniff` is cheap and decides; `parse` does the work."""

    name: str  # format name stored on the source: "vtt", "slack", "docx"...
    kind: SourceKind
    version: str  # bump to make unchanged sources re-parse after a parser fix

    def sniff(self, bundle: Bundle) -> bool:
        """True if this parser reads the bundle (by extension, layout or first bytes)."""

    def parse(self, bundle: Bundle, options: ParseOptions) -> Parsed:
        """Read the bundle into passages; raise SourceError with the reason if it cannot."""
