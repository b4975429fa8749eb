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
from pipeline.cli_ops import WAIT_OPTION, holding_writer_lease
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
@click.option(
    "--visibility",
    help="Who may see what comes from these sources: public or group names [default: unchanged; a new source is public].",
)
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
@WAIT_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print the run report as JSON.")
def ingest(
    paths: tuple[Path, ...],
    community: str | None,
    visibility: str | None,
    kind: str | None,
    prune: bool,
    strict: bool,
    include_bots: bool,
    max_mb: float | None,
    via_flow: bool,
    wait: float,
    as_json: bool,
) -> None:
    """Read sources (files or folders) into the store, incrementally.

    Unchanged sources are skipped; changed ones are re-read; bad files are reported and the
    run goes on.
    """
    from pipeline.ingest import IngestOptions, IngestReport, ingest_paths
    from pipeline.store import open_store

    max_bytes = _max_bytes(max_mb)
    with holding_writer_lease(wait):
        if via_flow:
            from flows.prefect_env import prefect_api

            with prefect_api("flows.ingest"):  # Prefect's server dies with this command, even killed
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


def _progress_bar(enabled: bool, desc: str = "ingesting") -> Any:
    """A progress bar on a terminal; nothing when piped (scripts read our output)."""
    if not enabled or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(desc=desc, unit=" sources", file=sys.stderr, leave=False)


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
    # Links, pipes, devices and sockets found in folders are named; stray non-source files
    # (images, licences: "unsupported format") only count, or they would drown the summary.
    special = [o for o in report.outcomes if o.status == "skipped" and o.error and not o.error.startswith("unsupported")]
    if special:
        click.echo(f"Skipped, not regular files ({len(special)}):")
        for o in special:
            click.echo(f"  {o.uri}: {o.error}")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the sources as JSON.")
def sources(as_json: bool) -> None:
    """List ingested sources with kind, passage count, status and error."""
    from pipeline.shapes import source_json
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


@main.command()
@click.option("--extractor", "names", multiple=True, help="Extractor to run (repeatable) [default: threads, transcripts, documents].")
@click.option("--llm-model", help="Chat model for the llm extractor, e.g. openai:gpt-4o-mini [default: $PRACTICE_LLM_MODEL].")
@click.option("--flow", "via_flow", is_flag=True, help="Run as a Prefect flow.")
@WAIT_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print the run report as JSON.")
def extract(names: tuple[str, ...], llm_model: str | None, via_flow: bool, wait: float, as_json: bool) -> None:
    """Extract FAQ and pattern candidates from sources not yet extracted (incremental)."""
    from pipeline.extract import ExtractReport
    from pipeline.stages import run_extract

    try:
        with holding_writer_lease(wait):
            if via_flow:
                from flows.prefect_env import prefect_api

                with prefect_api("flows.extract"):
                    from flows.extract import extract_flow

                    data = extract_flow(extractors=list(names) or None, llm_model=llm_model)
            else:
                bar = _progress_bar(enabled=not as_json, desc="extracting")
                try:
                    report = run_extract(list(names) or None, llm_model, progress=(lambda s: bar.update(1)) if bar else None)
                finally:
                    if bar:
                        bar.close()
                data = report.to_json()
    except KeyError as exc:  # an unknown extractor name
        raise click.ClickException(str(exc.args[0])) from None
    if as_json:
        _emit_json(data)
        return
    report = ExtractReport.from_json(data)
    counts = data["counts"]
    click.echo(
        f"Extracted {counts['extracted']} (source, extractor) runs, {counts['unchanged']} unchanged, "
        f"{counts['failed']} failed: {report.created} candidates created, {report.deleted} removed, "
        f"{report.dropped} dropped for unverified quotes."
    )
    for o in report.outcomes:
        if o.status == "failed" or o.failures:
            click.echo(f"  {o.extractor} on {o.uri}: {'; '.join(o.failures)[:500]}")


@main.command()
@click.option("--kind", type=click.Choice(["faq", "pattern"]), help="Only FAQs or only patterns.")
@click.option("--status", type=click.Choice(["candidate", "approved", "rejected", "merged", "stale"]), help="Only this review status.")
@click.option("--open", "open_only", is_flag=True, help="Only open (unanswered) questions.")
@click.option("--source", "source_text", help="Only those citing a source whose name or path contains this text.")
@click.option("--decisions", is_flag=True, help="Only decisions and actions marked in meetings and minutes.")
@click.option("--limit", type=int, help="Show at most N.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON, with cited evidence.")
def artefacts(
    kind: str | None, status: str | None, open_only: bool, source_text: str | None, decisions: bool,
    limit: int | None, as_json: bool,
) -> None:
    """List artefacts and not-yet-folded candidates with their evidence (source, speaker/author, time or section, quote)."""
    from pipeline.citations import format_citation, item_json
    from pipeline.store import open_store

    store = open_store()
    try:
        items: list[Any] = [*store.artefacts(kind=kind, status=status)]
        if status in (None, "candidate"):
            items += [c for c in store.unassigned_candidates() if kind is None or c.kind.value == kind]
        if open_only:
            items = [c for c in items if c.is_open_question]
        if decisions:  # the extractors put the category first in a decision's context
            items = [c for c in items if (c.context or "").startswith(("decision ·", "action ·"))]
        passages = store.passages_by_id(e.passage_id for c in items for e in c.evidence)
        sources = {s.id: s for s in store.list_sources()}
    finally:
        store.close()
    if source_text:
        wanted = {sid for sid, s in sources.items() if source_text.lower() in s.uri.lower()}
        items = [c for c in items if any(passages[e.passage_id].source_id in wanted for e in c.evidence if e.passage_id in passages)]
    items = items[:limit] if limit else items
    rows = [item_json(c, passages, sources) for c in items]
    if as_json:
        _emit_json(rows)
        return
    if not rows:
        click.echo("Nothing yet: run `practice extract` after `practice ingest` (or `practice run`).")
    for r in rows:
        support = r["support"]
        seen = f" · {support['sources']} sources, {support['authors']} authors" if support else " · not deduplicated yet"
        if r["kind"] == "faq":
            click.echo(f"[FAQ{' · open' if r['open_question'] else ''}] {r['question']}")
            if r["answer"]:
                click.echo(f"    A: {_clip(r['answer'], 300)}")
        else:
            click.echo(f"[pattern] {r['name']}  ({r['context'] or ''})")
            body = r["recommendation"] or "; ".join(r["items"])
            click.echo(f"    {_clip(body, 300)}")
        for ev in r["evidence"][:4]:
            click.echo(f"    · {ev['role']}: \"{_clip(ev['quote'], 120)}\" — {format_citation(ev)}")
        click.echo(f"    ({', '.join(r['extractors'])}, confidence {r['confidence']:.2f}, {r['status']}{seen})")


def _clip(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _register_subcommands() -> None:
    from pipeline.cli_bench import bench_command
    from pipeline.cli_eval import eval_group
    from pipeline.cli_eval_disentangle import disentangle_command
    from pipeline.cli_eval_duplicates import duplicates_command
    from pipeline.cli_eval_floor import floor_command
    from pipeline.cli_eval_search import search_command
    from pipeline.cli_mcp import mcp_command
    from pipeline.cli_pull import pull_group
    from pipeline.cli_ops import COMMANDS as OPS_COMMANDS
    from pipeline.cli_deploy import deploy
    from pipeline.cli_review import review_group, users_group
    from pipeline.cli_run import COMMANDS
    from pipeline.cli_search import search
    from pipeline.cli_serve import serve_command

    eval_group.add_command(search_command)
    eval_group.add_command(duplicates_command)
    eval_group.add_command(disentangle_command)
    eval_group.add_command(floor_command)
    front = [search, review_group, users_group, serve_command, deploy, mcp_command, pull_group, bench_command]
    for command in [*COMMANDS, *OPS_COMMANDS, *front]:
        main.add_command(command)
    main.add_command(eval_group)


_register_subcommands()

if __name__ == "__main__":  # pragma: no cover
    main()
