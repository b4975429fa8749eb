"""The parser contract: a source arrives as a Bundle of bytes, a parser returns passages.

Parsers are pure: they never open files themselves. `Bundle` hides whether a source is one
file, a folder (a Slack export, a Stack Exchange dump) or a zip archive, so parsers can be
tested on in-memory bytes and ingestion keeps all file access at the edge.
"""

from __future__ import annotations

import codecs
import errno
import os
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Protocol, runtime_checkable

from pipeline.models import PassageDraft, SourceKind


class SourceError(Exception):
    """A source that cannot be read. The message is the reason shown to the user."""


@dataclass(frozen=True)
class Limits:
    """Caps that keep one hostile or oversized source from taking the run down."""

    max_source_bytes: int = 200 * 1024 * 1024  # on disk (a folder counts all its files)
    max_uncompressed_bytes: int = 1024 * 1024 * 1024  # what an archive may expand to
    max_compression_ratio: float = 200.0  # per member; zip bombs sit far above this
    # Per-file parse budget (pipeline.parse_budget): wall time, and the parser process's
    # data segment, which holds ~0.45 GiB once unstructured is imported. 0 s: no budget.
    parse_seconds: float = 120.0
    parse_memory_bytes: int = 1536 * 1024 * 1024


def open_regular_file(path: Path) -> BinaryIO:
    """Open a regular file for reading; SourceError for anything else, or if it vanished.

    Opened non-blocking and checked with fstat before any read: a file swapped for a named
    pipe or a device after discovery is refused instead of blocking the run forever.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            raise SourceError("vanished: the file was deleted during the run") from None
        raise SourceError(f"cannot read: {exc.strerror or exc}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise SourceError("not a regular file (a pipe, device or socket), never read")
    return os.fdopen(fd, "rb")


def read_regular_file(path: Path) -> bytes:
    """The bytes of a regular file (see `open_regular_file`)."""
    with open_regular_file(path) as fh:
        return fh.read()


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
        return read_regular_file(self.path)


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
        return read_regular_file(target)


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


def decode_text(data: bytes, what: str = "file", warnings: list[str] | None = None) -> str:
    """Decode text in any common encoding: UTF-8 (BOM allowed), UTF-16/32 (with a BOM or
    without), else the legacy encoding charset-normalizer detects (Latin-1, cp1252, Shift-JIS…).

    A legacy encoding is read, not refused (any editor opens such a note), and said in
    `warnings` when the caller keeps them, so a reviewer knows the text was decoded by a guess.
    Raises SourceError only for what no encoding explains (binary data, bytes no detector
    accepts), naming the offset of the first byte that is not UTF-8.
    UTF-16 and UTF-32 without a BOM are unambiguous (a NUL in every other or every fourth
    byte of plain text) and are read, not called binary.
    """
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return _decode_wide(data, "utf-32", what)
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _decode_wide(data, "utf-16", what)
    wide = _bomless_wide_encoding(data)
    if wide:
        return _decode_wide(data, wide, what)
    if b"\x00" in data[: 1 << 16]:  # text never holds NUL; say "binary" before "not UTF-8"
        raise SourceError(f"{what} contains NUL bytes: binary data, not text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        text = _decode_legacy(data, what, exc, warnings)
    if "\x00" in text:
        raise SourceError(f"{what} contains NUL bytes: binary data, not text")
    return text


def _decode_legacy(data: bytes, what: str, exc: UnicodeDecodeError, warnings: list[str] | None) -> str:
    """`data` in the legacy encoding that explains it, or SourceError when none does."""
    guess = _guess_encoding(data)
    if guess is not None:
        try:
            text = data.decode(guess)
        except UnicodeDecodeError:  # the guess read the first 64 KiB only; the rest disagrees
            pass
        else:
            if warnings is not None:
                warnings.append(
                    f"{what} is not UTF-8: read as {guess} (detected by charset-normalizer, "
                    f"first non-UTF-8 byte 0x{data[exc.start]:02x} at offset {exc.start})"
                )
            return text
    raise SourceError(
        f"{what} is not valid UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}) "
        "and no common encoding explains it"
    ) from None


def _decode_wide(data: bytes, encoding: str, what: str) -> str:
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        label = encoding.upper().replace("-LE", " (little-endian)").replace("-BE", " (big-endian)")
        raise SourceError(f"{what} is not valid {label} ({exc.reason} at byte {exc.start})") from None
    return text.lstrip("\ufeff")


def _bomless_wide_encoding(data: bytes) -> str | None:
    """"utf-16-le"/"utf-16-be"/"utf-32-le"/"utf-32-be" when the NUL pattern says so, else None.

    Text in those encodings without a BOM has a NUL byte at fixed positions of (almost) every
    code unit, while binary data has NULs scattered anywhere; 90% is far above chance.
    """
    sample = data[: 1 << 16]
    if len(sample) < 4 or b"\x00" not in sample:
        return None
    for unit, name in ((4, "utf-32"), (2, "utf-16")):
        n = len(sample) // unit
        if n == 0:
            continue
        for endian in ("le", "be"):
            # Little-endian ASCII has its NULs after the letter, big-endian before it.
            if unit == 2:
                pos = (1,) if endian == "le" else (0,)
            else:
                pos = (1, 2, 3) if endian == "le" else (0, 1, 2)
            zero = sum(all(sample[i * unit + p] == 0 for p in pos) for i in range(n))
            if zero >= 0.9 * n and sample[(0 if endian == "le" else unit - 1)] != 0:
                return f"{name}-{endian}"
    return None


# Encodings text files are actually found in; without this list the guess for short
# Western text can be an exotic code page (cp775) that only confuses.
_COMMON_ENCODINGS = (
    "cp1252 latin_1 iso8859_15 cp1250 iso8859_2 cp1251 koi8_r cp1253 cp1254 cp1255 cp1256 "
    "mac_roman cp437 cp850 cp932 shift_jis euc_jp gb18030 big5 euc_kr"
).split()


def _guess_encoding(data: bytes) -> str | None:
    """The legacy encoding charset-normalizer detects for bytes that are not UTF-8, or None
    when none explains them (its "chaos" too high for every candidate)."""
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # pragma: no cover - it ships with the stack; the reason just gets shorter
        return None
    matches = from_bytes(data[: 1 << 16], cp_isolation=list(_COMMON_ENCODINGS))
    best = matches.best()
    if best is None or best.encoding in ("utf_8", "ascii"):
        return None
    # Short text often fits several code pages equally well (an "é" is the same byte in cp1250
    # and cp1252); among the equally good, take the most widely used, the order of the list.
    # The detector also skips a code page that reads the bytes exactly like one it has tried.
    tied = [m.encoding for m in matches if m.chaos <= best.chaos and m.coherence >= best.coherence]
    rank = {name: k for k, name in enumerate(_COMMON_ENCODINGS)}
    guess = min(tied, key=lambda e: rank.get(e, len(rank)))
    sample = data[: 1 << 16]
    text = sample.decode(guess, errors="replace")
    for name in _COMMON_ENCODINGS[: rank.get(guess, len(rank))]:
        if sample.decode(name, errors="replace") == text:
            guess = name
            break
    return guess.replace("_", "-")


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
