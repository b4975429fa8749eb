"""Discovery: find the sources under the paths a run was given, and never abort doing so.

Every path that cannot be a source (a name that is not UTF-8, a folder that cannot be listed,
a named pipe, a device, a socket, a symbolic link loop, a file deleted while the run looks at
it) becomes a `Candidate` with no bundle and the reason, so the report names it and the
walk goes on. Special files are recognised from `stat` alone: nothing here opens them, so a
FIFO or `/dev/zero` can never block or flood the run.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pipeline.sources.base import Bundle, DirBundle, FileBundle, Limits, ZipBundle

__all__ = ["Candidate", "EXPORT_MARKERS", "discover", "display_path", "source_uri"]

# A folder holding one of these at its root is one source (an export), not a folder of sources.
EXPORT_MARKERS = ("channels.json", "Posts.xml")
# Files that sit beside real material and are not sources themselves.
_SKIP_NAMES = {".DS_Store", "Thumbs.db"}

_VANISHED = "vanished: deleted during the run, after its folder was listed"
_SPECIAL = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


@dataclass
class Candidate:
    """A source found on disk, or a path that could not be used (with the reason).

    `skip` marks entries found inside a folder that are not sources at all (a link, a
    pipe): they are reported as skipped, not failed.
    """

    uri: str
    bundle: Bundle | None
    explicit: bool  # named on the command line, rather than found inside a folder
    problem: str | None = None
    skip: bool = False


def display_path(path: Path | str) -> str:
    """An absolute path as printable text; bytes that are not UTF-8 are shown as \\xNN."""
    raw = os.fsencode(os.path.abspath(path))
    return raw.decode("utf-8", "backslashreplace")


def source_uri(path: Path) -> str:
    """Sources are keyed by absolute path, so the same file is the same source from any cwd."""
    try:
        return str(path.resolve())
    except (OSError, RuntimeError):  # a link loop: resolve() gives up
        return display_path(path)


def discover(paths: Iterable[Path | str], limits: Limits | None = None) -> Iterator[Candidate]:
    """Walk the given files and folders, yielding each source (or problem) in a stable order."""
    limits = limits or Limits()
    for raw in paths:
        yield from _explicit(Path(raw), limits)


def _explicit(path: Path, limits: Limits) -> Iterator[Candidate]:
    bad_name = _bad_name(path)
    if bad_name:
        yield Candidate(display_path(path), None, True, problem=bad_name)
        return
    try:
        st = os.stat(path)  # follows links: a path given by the user is read through its link
    except OSError as exc:
        yield Candidate(display_path(path), None, True, problem=_stat_problem(path, exc))
        return
    if stat.S_ISDIR(st.st_mode):
        yield from _walk(path, limits, explicit=True)
    elif stat.S_ISREG(st.st_mode):
        yield Candidate(source_uri(path), _file_bundle(path, limits), True)
    else:
        yield Candidate(display_path(path), None, True, problem=_special_problem(st.st_mode))


def _walk(folder: Path, limits: Limits, explicit: bool) -> Iterator[Candidate]:
    try:
        if any(_is_regular(folder / marker) for marker in EXPORT_MARKERS):
            yield Candidate(source_uri(folder), DirBundle(folder), explicit)
            return
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        what = "vanished during the run" if exc.errno == errno.ENOENT else "cannot read"
        reason = f"folder {what}: {exc.strerror or exc}"
        yield Candidate(display_path(folder), None, explicit, problem=reason)
        return
    for entry in entries:
        if entry.name.startswith(".") or entry.name in _SKIP_NAMES:
            continue
        yield from _entry(entry, limits)


def _entry(entry: os.DirEntry[str], limits: Limits) -> Iterator[Candidate]:
    path = Path(entry.path)
    bad_name = _bad_name(path)
    if bad_name:
        yield Candidate(display_path(path), None, False, problem=bad_name)
        return
    try:
        st = entry.stat(follow_symlinks=False)
    except FileNotFoundError:
        yield Candidate(display_path(path), None, False, problem=_VANISHED)
        return
    except OSError as exc:
        yield Candidate(display_path(path), None, False, problem=_stat_problem(path, exc))
        return
    mode = st.st_mode
    if stat.S_ISLNK(mode):
        # Links inside folders are not followed: they can loop, leave the folder or point at
        # a device. Naming the link on the command line reads its target.
        reason = "symbolic link inside a folder, not followed (name it as a path to read its target)"
        yield Candidate(display_path(path), None, False, problem=reason, skip=True)
    elif stat.S_ISDIR(mode):
        yield from _walk(path, limits, explicit=False)
    elif stat.S_ISREG(mode):
        yield Candidate(source_uri(path), _file_bundle(path, limits), False)
    else:
        yield Candidate(display_path(path), None, False, problem=_special_problem(mode), skip=True)


def _file_bundle(path: Path, limits: Limits) -> Bundle:
    # Only .zip archives are opened as folders; DOCX/PPTX/ODT are zips too but are documents.
    if path.suffix.lower() == ".zip":
        return ZipBundle(path, limits)
    return FileBundle(path)


def _is_regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except FileNotFoundError:
        return False


def _bad_name(path: Path) -> str | None:
    """The reason a path cannot be stored (its name is not UTF-8), or None."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        return (
            "file name is not valid UTF-8 (shown with \\x escapes); rename it to ingest it "
            "(for example with `convmv -f latin1 -t utf8`)"
        )
    return None


def _stat_problem(path: Path, exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "symbolic link loop: the link never reaches a file"
    if exc.errno == errno.ENOENT:
        if os.path.lexists(path):
            return "broken symbolic link: its target does not exist"
        return "no such file or folder"
    return f"cannot read: {exc.strerror or exc}"


def _special_problem(mode: int) -> str:
    for test, what in _SPECIAL:
        if test(mode):
            return f"not a regular file: {what}, never read (reading it could block or never end)"
    return "not a regular file or folder, never read"
