"""Hostile input: every bad file fails alone with its reason, nothing blocks, no run aborts.

Bounds are asserted through failure reasons, never timers: a bomb that is refused by its
reason was never expanded.
"""

from __future__ import annotations

import io
import os
import threading
import time
import zipfile
from pathlib import Path

import pytest

from pipeline.discovery import discover
from pipeline.ingest import IngestOptions, ingest_candidate, ingest_paths
from pipeline.models import SourceStatus
from pipeline.parse_budget import ParseWorker
from pipeline.sources.base import Limits, MemoryBundle, ParseOptions, SourceError, decode_text
from pipeline.sources.documents import parse_document, strip_front_matter
from pipeline.store import SQLiteStore
from tests.hostile import _yaml_bomb, yaml_alias_bomb

GOOD_MD = b"# Guide\n\nAlways pin your base images.\n"


@pytest.fixture()
def store(tmp_path: Path) -> SQLiteStore:
    return SQLiteStore(tmp_path / "home" / "practice.sqlite3")


def by_name(report: object) -> dict[str, object]:
    return {Path(o.uri).name: o for o in report.outcomes}  # type: ignore[attr-defined]


# --- parsers with limits ---------------------------------------------------------------------


def test_yaml_alias_bomb_is_refused_by_its_reason() -> None:
    bomb = yaml_alias_bomb()
    assert len(bomb) < 400  # the 398-byte front matter of the report
    with pytest.raises(SourceError, match="alias"):
        strip_front_matter(bomb.decode())


def test_small_yaml_alias_bomb_fails_its_file(tmp_path: Path, store: SQLiteStore) -> None:
    # Depth 4 expands to only ~60k words, so the old reader finished (and ingested it).
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "bomb.md").write_text(_yaml_bomb(4))
    (tmp_path / "src" / "good.md").write_bytes(GOOD_MD)
    outcomes = by_name(ingest_paths(store, [tmp_path / "src"]))
    assert outcomes["bomb.md"].status == "failed" and "YAML alias" in outcomes["bomb.md"].error
    assert outcomes["good.md"].status == "new"


def _docx_with(document_xml: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", document_xml)
    return buf.getvalue()


def test_docx_with_entity_declarations_is_refused() -> None:
    xml = '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "lol">]><w:document>&a;</w:document>'
    with pytest.raises(SourceError, match="DTD"):
        parse_document("docx", _docx_with(xml), "x.docx")


def test_stack_exchange_dtd_behind_a_long_comment_is_refused(tmp_path: Path, store: SQLiteStore) -> None:
    dump = tmp_path / "dump"
    dump.mkdir()
    entities = '<!ENTITY a "lollollol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
    (dump / "Posts.xml").write_text(
        "<?xml version='1.0'?>\n<!-- " + "padding " * 1000 + "-->\n"
        f"<!DOCTYPE posts [{entities}]>\n"
        '<posts><row Id="1" PostTypeId="1" Title="T &b;" Body="&lt;p&gt;Q&lt;/p&gt;"/></posts>'
    )
    outcome = ingest_paths(store, [dump]).outcomes[0]
    assert outcome.status == "failed" and "DTD" in outcome.error


def test_deep_json_is_too_nested_not_an_internal_error(tmp_path: Path, store: SQLiteStore) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    (tmp_path / "deep.json").write_text(f'{{"meeting_transcripts": {deep}}}')
    outcome = ingest_paths(store, [tmp_path / "deep.json"]).outcomes[0]
    assert outcome.status == "failed"
    assert outcome.error.startswith("nested too deeply") and "internal error" not in outcome.error


def test_deep_jsonl_line_fails_its_file_without_aborting(tmp_path: Path, store: SQLiteStore) -> None:
    (tmp_path / "src").mkdir()
    deep = "[" * 100_000 + "]" * 100_000
    (tmp_path / "src" / "a-deep.jsonl").write_text(f'{{"id": "1", "text": "x", "thread": {deep}}}\n')
    (tmp_path / "src" / "b-good.md").write_bytes(GOOD_MD)
    outcomes = by_name(ingest_paths(store, [tmp_path / "src"]))
    assert "nested too deeply" in outcomes["a-deep.jsonl"].error
    assert outcomes["b-good.md"].status == "new"


def test_text_in_deeply_nested_html_gets_a_reason_not_no_text() -> None:
    html = "<html><body>" + "<div>" * 300 + "<p>Deep text.</p>" + "</div>" * 300 + "</body></html>"
    with pytest.raises(SourceError, match="levels deep") as info:
        parse_document("html", html.encode(), "deep.html")
    assert "no text" not in str(info.value)


def test_utf16_without_bom_is_read_not_called_binary() -> None:
    text = "Retros\n\nKeep retrospectives short and pick one owner per action.\n"
    for enc in ("utf-16-le", "utf-16-be"):
        parsed = parse_document("txt", text.encode(enc), "notes.txt")
        assert "one owner per action" in " ".join(p.text for p in parsed.passages)


def test_legacy_encodings_are_read_and_named_in_a_warning() -> None:
    for text, enc in (
        ("Предпочитайте маленькие запросы на слияние.\n" * 5, "cp1251"),
        ("Maßnahmen für kleine Änderungen, café.\n" * 5, "cp1252"),
        ("小さなプルリクエストを好む。\n" * 5, "shift_jis"),
    ):
        warnings: list[str] = []
        assert decode_text(text.encode(enc), "notes.txt", warnings) == text
        assert len(warnings) == 1 and "notes.txt is not UTF-8: read as" in warnings[0], warnings
    # a Latin-1 note whose bytes cp1252 reads alike is named by the more common one
    warnings = []
    assert decode_text("# Café notes\n".encode("latin-1"), "a.md", warnings) == "# Café notes\n"
    assert "read as cp1252" in warnings[0]


def test_bytes_no_encoding_explains_are_refused() -> None:
    with pytest.raises(SourceError, match=r"not valid UTF-8 .*no common encoding explains it"):
        decode_text(b"# Notes\n" + bytes(range(1, 256)) * 4)


# --- the per-file budget ---------------------------------------------------------------------


class SlowParser:
    """A parser that never finishes (stands in for a pathological input)."""

    name = "slow"
    version = "1"

    def parse(self, bundle: object, options: object) -> object:
        while True:
            time.sleep(0.05)


class HungryParser:
    """A parser that allocates without bound (stands in for an expanding input)."""

    name = "hungry"
    version = "1"

    def parse(self, bundle: object, options: object) -> object:
        hoard = []
        while True:
            hoard.append(bytearray(64 * 2**20))


class RecursiveParser:
    name = "recursive"
    version = "1"

    def parse(self, bundle: object, options: object) -> object:
        def down(n: int) -> int:
            return down(n + 1) + 1

        return down(0)


def test_budget_stops_a_parser_that_runs_too_long() -> None:
    from pipeline.sources.documents import PARSERS

    worker = ParseWorker(seconds=5, memory_bytes=1 << 30)
    try:
        # The first file of a fresh worker gets extra time for imports; the next ones do not.
        txt = next(p for p in PARSERS if p.name == "txt")
        worker.parse(txt, MemoryBundle("n.txt", {"": b"Warm up.\n"}), ParseOptions())
        with pytest.raises(SourceError, match="parse budget"):
            worker.parse(SlowParser(), MemoryBundle("x", {"": b""}), ParseOptions())  # type: ignore[arg-type]
    finally:
        worker.close()


def test_budget_stops_a_parser_that_eats_memory() -> None:
    worker = ParseWorker(seconds=120, memory_bytes=512 * 2**20)
    try:
        with pytest.raises(SourceError, match="memory budget"):
            worker.parse(HungryParser(), MemoryBundle("x", {"": b""}), ParseOptions())  # type: ignore[arg-type]
        # The worker is replaced: the next file parses normally.
        from pipeline.sources.documents import PARSERS

        md = next(p for p in PARSERS if p.name == "txt")
        parsed = worker.parse(md, MemoryBundle("n.txt", {"": b"Keep it short.\n"}), ParseOptions())
        assert parsed.passages[0].text == "Keep it short."
    finally:
        worker.close()


def test_recursion_is_reported_as_nesting_not_internal_error() -> None:
    worker = ParseWorker(seconds=60, memory_bytes=1 << 30)
    try:
        with pytest.raises(SourceError, match="^nested too deeply"):
            worker.parse(RecursiveParser(), MemoryBundle("x", {"": b""}), ParseOptions())  # type: ignore[arg-type]
    finally:
        worker.close()


# --- discovery that never aborts -------------------------------------------------------------


def test_undecodable_name_is_reported_and_the_run_goes_on(tmp_path: Path, store: SQLiteStore) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.md").write_bytes(GOOD_MD)
    with open(os.path.join(os.fsencode(src), b"caf\xe9.md"), "wb") as fh:
        fh.write(GOOD_MD)
    (src / "z.md").write_bytes(GOOD_MD)
    report = ingest_paths(store, [src])
    outcomes = by_name(report)
    assert outcomes["a.md"].status == "new" and outcomes["z.md"].status == "new"
    assert outcomes["caf\\xe9.md"].status == "failed" and "not valid UTF-8" in outcomes["caf\\xe9.md"].error
    # Given on the command line, the same name is reported the same way.
    explicit = ingest_paths(store, [os.path.join(os.fsencode(src), b"caf\xe9.md").decode(errors="surrogateescape")])
    assert "not valid UTF-8" in explicit.outcomes[0].error


def test_unreadable_folder_is_reported_and_the_run_goes_on(
    tmp_path: Path, store: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tests run as root, and chmod 000 does not stop root: listing the folder is made to fail
    # the way it fails for a user without permission (both listing calls, old and new code).
    src = tmp_path / "src"
    (src / "locked").mkdir(parents=True)
    (src / "locked" / "secret.md").write_bytes(GOOD_MD)
    (src / "open.md").write_bytes(GOOD_MD)
    real_scandir, real_listdir = os.scandir, os.listdir

    def guarded(real):  # noqa: ANN001, ANN202
        def call(path=".", *args):  # noqa: ANN001, ANN202
            if os.fspath(path).endswith("locked"):
                raise PermissionError(13, "Permission denied", os.fspath(path))
            return real(path, *args)

        return call

    monkeypatch.setattr(os, "scandir", guarded(real_scandir))
    monkeypatch.setattr(os, "listdir", guarded(real_listdir))
    outcomes = by_name(ingest_paths(store, [src]))
    assert outcomes["locked"].status == "failed" and "Permission denied" in outcomes["locked"].error
    assert outcomes["open.md"].status == "new"


def _unblock_readers(fifo: Path, stop: threading.Event) -> threading.Thread:
    """Feed the FIFO to any reader that opens it, so old code that reads pipes returns (no hang)."""

    def run() -> None:
        while not stop.is_set():
            try:
                fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:  # no reader yet (ENXIO)
                time.sleep(0.02)
                continue
            os.write(fd, b"# Piped\n\nText from a pipe.\n")
            os.close(fd)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_named_pipe_is_reported_never_read(tmp_path: Path, store: SQLiteStore) -> None:
    src = tmp_path / "src"
    src.mkdir()
    os.mkfifo(src / "notes.md")
    (src / "real.md").write_bytes(GOOD_MD)
    stop = threading.Event()
    thread = _unblock_readers(src / "notes.md", stop)
    try:
        in_folder = by_name(ingest_paths(store, [src]))
        explicit = ingest_paths(store, [src / "notes.md"]).outcomes[0]
    finally:
        stop.set()
        thread.join()
    assert in_folder["notes.md"].status == "skipped" and "named pipe" in in_folder["notes.md"].error
    assert in_folder["real.md"].status == "new"
    assert explicit.status == "failed" and "named pipe" in explicit.error


def test_links_to_devices_and_loops_are_reported(tmp_path: Path, store: SQLiteStore) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "zero.txt").symlink_to("/dev/zero")
    (src / "loop").symlink_to(src / "loop")
    outcomes = by_name(ingest_paths(store, [src]))
    assert outcomes["zero.txt"].status == "skipped" and "link" in outcomes["zero.txt"].error
    assert outcomes["loop"].status == "skipped"
    # Named as paths, the device and the loop fail with what they are.
    # (/dev/zero is a character device; reading it would never end.)
    report = ingest_paths(store, [src / "zero.txt", src / "loop"])
    errors = [o.error for o in report.outcomes]
    assert "character device" in errors[0] and "loop" in errors[1]


def test_file_vanishing_between_listing_and_reading_is_reported(tmp_path: Path, store: SQLiteStore) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for name in ("a.md", "b.md", "c.md"):
        (src / name).write_bytes(GOOD_MD)

    def delete_b(outcome: object) -> None:
        (src / "b.md").unlink(missing_ok=True)  # deleted while the run is on a.md

    outcomes = by_name(ingest_paths(store, [src], progress=delete_b))
    assert outcomes["b.md"].status == "failed" and "vanished" in outcomes["b.md"].error
    assert outcomes["c.md"].status == "new"


def test_file_vanishing_after_discovery_is_reported_not_stored(tmp_path: Path, store: SQLiteStore) -> None:
    (tmp_path / "a.md").write_bytes(GOOD_MD)
    candidates = list(discover([tmp_path / "a.md"]))  # the flow discovers first, ingests later
    (tmp_path / "a.md").unlink()
    outcome = ingest_candidate(store, candidates[0], IngestOptions())
    assert outcome.status == "failed" and "vanished" in outcome.error
    assert store.get_source(outcome.uri) is None


def test_folder_symlink_entries_are_not_followed(tmp_path: Path, store: SQLiteStore) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (tmp_path / "elsewhere.md").write_bytes(GOOD_MD)
    (src / "link.md").symlink_to(tmp_path / "elsewhere.md")
    outcomes = by_name(ingest_paths(store, [src]))
    assert outcomes["link.md"].status == "skipped"
    assert store.list_sources() == []


_PARENT = """
import sys
from pipeline.parse_budget import ParseWorker
from pipeline.sources.base import MemoryBundle, ParseOptions
from tests.test_hostile_inputs import SlowParser
worker = ParseWorker(seconds=600, memory_bytes=1 << 30)
worker._ensure_started()
print(worker._proc.pid, flush=True)
worker.parse(SlowParser(), MemoryBundle("x", {"": b""}), ParseOptions())
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as fh:
            return not any(line.startswith("State:") and "Z" in line.split()[1] for line in fh)
    except FileNotFoundError:
        return False


def test_a_killed_parent_leaves_no_parse_worker_behind() -> None:
    import signal
    import subprocess
    import sys

    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    parent = subprocess.Popen([sys.executable, "-c", _PARENT], stdout=subprocess.PIPE, env=env, text=True)
    worker_pid = int(parent.stdout.readline())
    time.sleep(1.0)  # let the worker enter the endless parse
    assert _alive(worker_pid)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    for _ in range(300):  # the watchdog checks every second; this only bounds a failing run
        if not _alive(worker_pid):
            break
        time.sleep(0.1)
    else:
        os.kill(worker_pid, signal.SIGKILL)  # clean up, then fail
        raise AssertionError("the parse worker outlived its killed parent")


def test_file_vanishing_during_a_pruning_run_is_removed_in_that_run(tmp_path: Path, store: SQLiteStore) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for name in ("a.md", "b.md"):
        (src / name).write_text(f"# {name}\n\nAlways pin your base images ({name}).\n")
    ingest_paths(store, [src])
    (src / "a.md").write_text("# a.md\n\nChanged: pin base images by digest.\n")

    def delete_b(outcome: object) -> None:
        (src / "b.md").unlink(missing_ok=True)

    report = ingest_paths(store, [src], prune_missing=True, progress=delete_b)
    statuses = sorted((Path(o.uri).name, o.status) for o in report.outcomes)
    assert statuses == [("a.md", "changed"), ("b.md", "failed"), ("b.md", "removed")]
    assert store.get_source(str(src / "b.md")).status == SourceStatus.removed
