"""`practice run`, `dedupe`, `publish`, `schedule`, `releases`: the pipeline past extraction."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from pipeline.cli_ops import WAIT_OPTION, holding_writer_lease

CONFIG_OPTION = click.option(
    "--config", "config", type=click.Path(path_type=Path), help="practice.toml to use [default: $PRACTICE_CONFIG or ./practice.toml]."
)


def _settings(config: Path | None) -> Any:
    from pipeline.settings import load_settings

    try:
        return load_settings(config)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None


def _emit(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


@click.command()
@CONFIG_OPTION
@WAIT_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def dedupe(config: Path | None, wait: float, as_json: bool) -> None:
    """Fold new candidates into artefacts by embedding similarity; suggest possible duplicates."""
    from pipeline.stages import run_dedupe

    settings = _settings(config)
    with holding_writer_lease(wait):
        report = run_dedupe(settings).to_json()  # type: ignore[attr-defined]
    if as_json:
        _emit(report)
        return
    click.echo(
        f"Folded {report['folded']} candidates: {report['created']} new artefacts, {report['updated']} updated, "
        f"{report['stale']} stale; {report['suggestions']} possible-duplicate suggestions; "
        f"{report['embeddings_computed']} embeddings computed."
        + (f" {report['deferred']} artefacts changed by reviewers meanwhile: the next run finishes them." if report.get("deferred") else "")
    )


def _echo_heal(heal: dict[str, Any]) -> None:
    """Say what reconciling the releases folder repaired, if anything."""
    if heal.get("switched_to"):
        click.echo(f"repaired: release {heal['switched_to']}, left unswitched by a crashed publish, is now current")
    for release_id, reason in zip(heal.get("discarded", []), heal.get("reasons", [])):
        click.echo(f"repaired: discarded release {release_id} ({reason}); publish rebuilds it")


@click.command()
@CONFIG_OPTION
@click.option("--include-candidates", is_flag=True, default=None, help="Publish unreviewed candidates too, marked as such.")
@click.option("--dry-run", is_flag=True, help="Print what a publish would add, remove and change; build nothing.")
@click.option("--as", "actor", help="Your name in the audit log [default: your login name].")
@WAIT_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def publish(config: Path | None, include_candidates: bool | None, dry_run: bool, actor: str | None, wait: float,
            as_json: bool) -> None:  # fmt: skip
    """Build an immutable index release of approved artefacts and make it current (logged in the audit log)."""
    from pipeline.cli_review import actor_name
    from pipeline.stages import run_publish

    settings = _settings(config)
    if dry_run:
        _echo_preview(settings, include_candidates, as_json)
        return
    with holding_writer_lease(wait):
        report = run_publish(settings, include_candidates=include_candidates, actor=actor_name(actor)).to_json()  # type: ignore[attr-defined]
    if as_json:
        _emit(report)
        return
    _echo_heal(report["heal"])
    if report["published"]:
        click.echo(f"Published release {report['release_id']} with {report['artefacts']} artefacts.")
    else:
        click.echo(f"No new release: {report['reason']} ({report['artefacts']} artefacts).")


def _echo_preview(settings: Any, include_candidates: bool | None, as_json: bool) -> None:
    """`practice publish --dry-run`: the preview the web UI shows before its confirmation."""
    from pipeline.publish_preview import preview_publish
    from pipeline.stages import releases_root
    from pipeline.store import open_store

    include = settings.publish.include_candidates if include_candidates is None else include_candidates
    store = open_store()
    try:
        preview = preview_publish(store, releases_root(), include)
    finally:
        store.close()
    if as_json:
        _emit(preview.to_json())
        return
    click.echo(f"Against release {preview.current or '(none yet)'}: {preview.summary()}"
               + (" (candidates included)" if include else ""))  # fmt: skip
    for warning in preview.warnings():
        click.echo(f"warning: {warning}")
    for sign, rows in (("+", preview.added), ("-", preview.removed), ("~", preview.changed)):
        for r in rows:
            click.echo(f"  {sign} {r['id']}  [{r['kind']}] {r['title'][:90]}")
    click.echo("Dry run: nothing published." if preview.differs else "Publishing now would change nothing search serves.")


@click.command()
@click.argument("release_id", required=False)
@click.option("--as", "actor", help="Your name in the audit log [default: your login name].")
def rollback(release_id: str | None, actor: str | None) -> None:
    """Make the previous release (or RELEASE_ID) current again; search serves it from the next query."""
    from pipeline.cli_review import actor_name
    from pipeline.publish_preview import rollback_release
    from pipeline.review import ReviewError
    from pipeline.stages import releases_root
    from pipeline.store import open_store

    store = open_store()
    try:
        m = rollback_release(store, releases_root(), actor_name(actor), release_id)
    except ReviewError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        store.close()
    click.echo(f"Rolled back: release {m.release_id} ({m.count} artefacts) is current again.")


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--community", help="Community of the given paths (with PATH arguments).")
@click.option(
    "--visibility",
    help="Who may see what comes from the given paths [default: each source keeps its configured or stored visibility; a new one is public].",
)
@CONFIG_OPTION
@click.option("--include-candidates", is_flag=True, default=None, help="Publish unreviewed candidates too.")
@WAIT_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print every stage's report as JSON.")
def run(
    paths: tuple[Path, ...], community: str | None, visibility: str | None, config: Path | None,
    include_candidates: bool | None, wait: float, as_json: bool,
) -> None:  # fmt: skip
    """Run the whole flow (ingest → extract → dedupe → publish) as one Prefect flow.

    With PATH arguments those are read; otherwise the sources in practice.toml. Sources keep their
    visibility unless --visibility (or practice.toml) says otherwise. One run writes a store at a
    time: another one waits (--wait) or stops, naming the run that writes.
    """
    settings = _settings(config)
    if not paths and not settings.sources:
        raise click.ClickException("nothing to read: give PATH arguments or list [[sources]] in practice.toml")
    from flows.prefect_env import prefect_api

    # Prefect's server starts first and dies with us; the flow's imports run while it starts.
    with prefect_api("flows.run"), holding_writer_lease(wait):
        from flows.run import run_flow

        report = run_flow(
            paths=[str(p) for p in paths] or None, community=community, visibility=visibility,
            config=str(config) if config else None, include_candidates=include_candidates,
        )  # fmt: skip
    if as_json:
        _emit(report)
        return
    ing, ext, ded, pub = report["ingest"], report["extract"], report["dedupe"], report["publish"]
    _echo_heal(report["heal"])
    counts = ", ".join(f"{n} {k}" for k, n in ing["counts"].items() if n)
    click.echo(f"ingest:  {counts}; {ing['passages_written']} passages written")
    for s in ing["sources"]:
        if s["status"] == "failed":
            click.echo(f"         failed: {s['uri']}: {s['error']}")
    click.echo(f"extract: {ext['candidates_created']} candidates created, {ext['candidates_deleted']} removed")
    click.echo(f"dedupe:  {ded['folded']} folded into {ded['created']} new / {ded['updated']} updated artefacts, {ded['stale']} stale")
    click.echo(f"publish: {'release ' + pub['release_id'] if pub['published'] else 'no new release (' + pub['reason'] + ')'}"
               f"; {pub['artefacts']} artefacts; embeddings computed: {ded['embeddings_computed'] + pub['embeddings_computed']}")
    click.echo(f"check:   {report['check']['drift']} drift" + ("; `practice check --repair` mends what it can" if report["check"]["drift"] else ""))
    _echo_check(report["check"], prefix="         ")


@click.command()
@click.option("--cron", help="Cron expression [default: [schedule] cron in practice.toml, else hourly].")
@CONFIG_OPTION
def schedule(cron: str | None, config: Path | None) -> None:
    """Serve the whole flow as a Prefect deployment on a cron schedule (runs until stopped)."""
    settings = _settings(config)
    if not settings.sources:
        raise click.ClickException("a schedule needs [[sources]] in practice.toml")
    from flows.prefect_env import prefect_api
    from pipeline.settings import config_path

    path = config_path(config)
    with prefect_api("flows.run"):
        from flows.run import serve_scheduled

        serve_scheduled(cron or settings.schedule.cron, str(path) if path else None, settings.schedule.timezone)


@click.command()
@click.option("--rollback", "rollback_to", metavar="RELEASE_ID", help="Make an older release current again.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def releases(rollback_to: str | None, as_json: bool) -> None:
    """List index releases (the current one marked), or roll back to an older one."""
    from index.release import current_release, list_releases
    from pipeline.stages import releases_root

    root = releases_root()
    if rollback_to:
        rollback.callback(rollback_to, None)  # type: ignore[misc]  # `practice rollback RELEASE_ID`, audited
        return
    current = current_release(root)
    rows = [m.to_dict() for m in list_releases(root)]
    if as_json:
        _emit({"current": current.release_id if current else None, "releases": rows})
        return
    if not rows:
        click.echo("No releases yet: run `practice publish`.")
    for r in rows:
        mark = "*" if current and r["release_id"] == current.release_id else " "
        click.echo(f"{mark} {r['release_id']}  {r.get('created_at', '')}  {r.get('count', 0)} artefacts")


def _echo_check(report: dict[str, Any], prefix: str = "") -> None:
    """One line per kind of drift, with its ids (the first ones) and whether --repair mends it."""
    for kind, d in report["kinds"].items():
        more = f" (+{d['count'] - len(d['ids'])} more)" if d["count"] > len(d["ids"]) else ""
        click.echo(f"{prefix}drift {kind}: {d['count']}: {', '.join(d['ids'][:5])}{more}"
                   + (f" [{d['details'][0]}]" if d["details"] else ""))  # fmt: skip
        click.echo(f"{prefix}    --repair: {d['repair'] if d['repairable'] else 'cannot: ' + d['repair']}")


@click.command()
@CONFIG_OPTION
@click.option("--repair", "repair_drift", is_flag=True, help="Repair what can be repaired (holding the writer lease), then check again.")
@WAIT_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def check(config: Path | None, repair_drift: bool, wait: float, as_json: bool) -> None:
    """Check that sources, passages, candidates, artefacts and the current release agree.

    Exits with status 1 when drift remains (after --repair: drift it could not repair).
    """
    import contextlib

    from pipeline.check import check_home

    settings = _settings(config)
    # Repairs write: one writer at a time, as for a run. A plain check only reads.
    with holding_writer_lease(wait) if repair_drift else contextlib.nullcontext():
        report = check_home(settings, repair_drift=repair_drift).to_json()
    if as_json:
        _emit(report)
    else:
        for kind, n in report["repaired"].items():
            click.echo(f"repaired {kind}: {n}")
        _echo_check(report)
        for note in report["notes"]:
            click.echo(f"note: {note}")
        checked = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in report["checked"].items())
        click.echo(f"check: {report['drift']} drift ({checked}; release {report['release_id'] or 'none'})")
    if report["drift"]:
        raise SystemExit(1)


COMMANDS = [dedupe, publish, rollback, run, schedule, releases, check]
