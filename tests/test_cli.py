"""The `practice` command line: JSON shapes, exit codes, help text and README coverage."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import main
from tests.badfiles import write_broken_files
from tests.test_ingest import write_good_files

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture()
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("PRACTICE_HOME", str(tmp_path / "home"))
    return CliRunner()


def test_ingest_json_report_and_sources_listing(tmp_path: Path, runner: CliRunner) -> None:
    write_good_files(tmp_path / "src")
    result = runner.invoke(main, ["ingest", str(tmp_path / "src"), "--community", "sre", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["counts"]["new"] == 3 and report["counts"]["failed"] == 0
    assert report["passages_written"] == sum(s["passages"] for s in report["sources"])
    assert set(report["sources"][0]) == {"uri", "status", "source_id", "kind", "format", "passages", "error", "warnings"}

    result = runner.invoke(main, ["sources", "--json"])
    listing = json.loads(result.output)
    assert len(listing) == 3 and all(s["community"] == "sre" and s["status"] == "ok" for s in listing)
    assert {s["kind"] for s in listing} == {"transcript", "document"}

    again = json.loads(runner.invoke(main, ["ingest", str(tmp_path / "src"), "--community", "sre", "--json"]).output)
    assert again["counts"]["unchanged"] == 3 and again["passages_written"] == 0


def test_failures_are_named_and_exit_zero_unless_strict(tmp_path: Path, runner: CliRunner) -> None:
    write_good_files(tmp_path / "src")
    write_broken_files(tmp_path / "src" / "broken")
    result = runner.invoke(main, ["ingest", str(tmp_path / "src"), "--max-mb", "1"])
    assert result.exit_code == 0, result.output
    assert "Failed (12):" in result.output and "encrypted.pdf" in result.output
    assert "Traceback" not in result.output

    strict = runner.invoke(main, ["ingest", str(tmp_path / "src"), "--max-mb", "1", "--strict"])
    assert strict.exit_code == 1
    listing = runner.invoke(main, ["sources"]).output
    assert "error:" in listing and "bomb.docx" in listing


def test_every_command_has_help_and_is_in_the_readme(runner: CliRunner) -> None:
    readme = (ROOT / "README.md").read_text()
    for name, command in main.commands.items():
        assert command.help, f"`practice {name}` has no help text"
        result = runner.invoke(main, [name, "--help"])
        assert result.exit_code == 0 and "Usage:" in result.output
        assert f"practice {name}" in readme, f"`practice {name}` is not documented in README.md"


def test_ingest_summary_names_special_files_it_skipped(tmp_path: Path, runner: CliRunner) -> None:
    import os

    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "notes.md").write_text("# Notes\n\nKeep the build green.\n")
    os.mkfifo(tmp_path / "src" / "pipe.md")
    (tmp_path / "src" / "zero.txt").symlink_to("/dev/zero")
    result = runner.invoke(main, ["ingest", str(tmp_path / "src")])
    assert result.exit_code == 0, result.output
    assert "Skipped, not regular files (2):" in result.output
    assert "pipe.md: not a regular file: a named pipe" in result.output
    assert "zero.txt: symbolic link inside a folder" in result.output
