"""The `practice` command: a thin skin over pipeline functions.

Domain errors become one clear message and a non-zero exit, never a traceback. `--json`
output shapes are documented in the README and are what scripts consume.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from pipeline import config  # noqa: F401  (offline environment before anything else loads)
from pipeline.models import SourceKind


def _emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def _max_bytes(max_mb: float | None) -> int | None:
    """The per-source size cap: --max-mb, else $PRACTICE_MAX_SOURCE_MB, else the built-in default."""
    env = os.environ.get("PRACTICE_MAX_SOURCE_MB")
    mb = max_mb if max_mb is not None else (float(env) if env else None)
    return int(mb * 1024 * 1024) if mb is not None else None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="practice-index")
def main() -> None:
    """Practice Index: turn transcripts, threads and documents into a reviewed index of practices and FAQs.

    State lives under $PRACTICE_HOME (default ./.practice).
    """


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--community", help="Community the sources belong to (e.g. a team or guild).")
@click.option("--visibility", default="public", show_default=True, help="Who may see what comes from these sources.")
@click.option(
    "--kind",
    type=click.Choice([k.value for k in SourceKind]),
    help="Read the sources as this kind only (transcript, thread or document).",
)
@click.option("--prune", is_flag=True, help="Mark stored sources under the given folders that no longer exist as removed.")
@click.option("--strict", is_flag=True, help="Exit non-zero if any source failed.")
@click.option("--include-bots", is_flag=True, help="Keep chat bot messages (skipped by default).")
@click.option("--max-mb", type=float, help="Size cap per source in MiB [default: $PRACTICE_MAX_SOURCE_MB or 200].")
@click.option("--flow", "via_flow", is_flag=True, help="Run as a Prefect flow (ephemeral local server, or $PREFECT_API_URL).")
@click.option("--json", "as_json", is_flag=True, help="Print the run report as JSON.")
def ingest(
    paths: tuple[Path, ...],
    community: str | None,
    visibility: str,
    kind: str | None,
    prune: bool,
    strict: bool,
    include_bots: bool,
    max_mb: float | None,
    via_flow: bool,
    as_json: bool,
) -> None:
    """Read sources (files or folders) into the store, incrementally.

    Unchanged sources are skipped; changed ones are re-read; bad files are reported and the
    run goes on.
    """
    from pipeline.ingest import IngestOptions, IngestReport, ingest_paths
    from pipeline.store import open_store

    max_bytes = _max_bytes(max_mb)
    if via_flow:
        from flows.ingest import ingest_flow

        report = IngestReport.from_json(
            ingest_flow(
                paths=[str(p) for p in paths], community=community, visibility=visibility, kind=kind,
                prune_missing=prune, max_source_bytes=max_bytes, include_bots=include_bots,
            )  # fmt: skip
        )
    else:
        options = IngestOptions.build(community, visibility, kind, max_bytes, include_bots)
        store = open_store()
        bar = _progress_bar(enabled=not as_json)
        try:
            report = ingest_paths(
                store, paths, options, prune_missing=prune, progress=(lambda o: bar.update(1)) if bar else None
            )
        finally:
            if bar:
                bar.close()
            store.close()

    if as_json:
        _emit_json(report.to_json())
    else:
        _print_ingest_summary(report)
    if strict and report.failures:
        sys.exit(1)


def _progress_bar(enabled: bool) -> Any:
    """A progress bar on a terminal; nothing when piped (scripts read our output)."""
    if not enabled or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(desc="ingesting", unit=" sources", file=sys.stderr, leave=False)


def _print_ingest_summary(report: Any) -> None:
    counts = report.counts
    parts = [f"{n} {k}" for k, n in counts.items() if n]
    click.echo(f"Ingested: {', '.join(parts) or 'nothing found'}; {report.passages_written} passages written.")
    for o in report.outcomes:
        if o.status in ("new", "changed"):
            click.echo(f"  {o.status:9} {o.kind or '?':10} {o.format or '?':14} {o.passages:6} passages  {o.uri}")
    for o in report.outcomes:
        if o.status == "removed":
            click.echo(f"  removed   {o.uri}")
    if report.failures:
        click.echo(f"Failed ({len(report.failures)}):")
        for o in report.failures:
            click.echo(f"  {o.uri}: {o.error}")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the sources as JSON.")
def sources(as_json: bool) -> None:
    """List ingested sources with kind, passage count, status and error."""
    from pipeline.store import open_store

    store = open_store()
    try:
        rows = store.list_sources()
    finally:
        store.close()
    if as_json:
        _emit_json([source_json(s) for s in rows])
        return
    if not rows:
        click.echo("No sources yet: run `practice ingest PATH`.")
        return
    for s in rows:
        kind = s.kind.value if s.kind else "?"
        line = f"{s.status.value:8} {kind:10} {s.format or '?':14} {s.passage_count:6}  {s.uri}"
        click.echo(line)
        if s.error:
            click.echo(f"{'':8} error: {s.error}")


def source_json(s: Any) -> dict[str, Any]:
    """The documented JSON shape of one source (`practice sources --json`)."""
    return {
        "id": s.id,
        "uri": s.uri,
        "kind": s.kind.value if s.kind else None,
        "format": s.format,
        "community": s.community,
        "visibility": s.visibility,
        "status": s.status.value,
        "error": s.error,
        "warnings": s.warnings,
        "passages": s.passage_count,
        "size_bytes": s.size_bytes,
        "content_hash": s.content_hash,
        "ingested_at": s.ingested_at.isoformat(),
    }


if __name__ == "__main__":  # pragma: no cover
    main()
