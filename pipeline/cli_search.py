"""`practice search`: ask the current index release in plain language."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click


def _clip(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def print_hit(rank: int, hit: dict[str, Any]) -> None:
    """A hit as a person reads it: title, body, score, support and citations."""
    from index.relevance import MATCH_TEXT
    from pipeline.citations import format_citation

    s = hit["support"]
    title = hit["question"] if hit["kind"] == "faq" else hit["name"]
    flag = " (unreviewed candidate)" if hit["status"] == "candidate" else ""
    click.echo(f"{rank}. [{hit['kind']}] {title}{flag}")
    body = hit["answer"] if hit["kind"] == "faq" else (hit["recommendation"] or "; ".join(hit["items"]))
    click.echo(f"   {_clip(body or 'open question: no answer yet', 400)}")
    teams = f", in {s['communities']} communities" if s["communities"] > 1 else ""
    match = hit.get("match")
    judged = f"{MATCH_TEXT[match]} ({hit['relevance']:.2f})" if match else f"rank score {hit['score']:.4f}"
    click.echo(
        f"   {judged} · in {s.get('conversations', s['sources'])} conversation(s), "
        f"{s['sources']} source(s), {s['authors']} author(s){teams}"
    )
    for c in hit["citations"][:3]:
        click.echo(f"   · \"{_clip(c['quote'], 110)}\" — {format_citation(c)}")


@click.command()
@click.argument("query", required=False)
@click.option("-k", "k", default=5, show_default=True, help="How many results.")
@click.option("--kind", type=click.Choice(["faq", "pattern"]), help="Only FAQs or only patterns.")
@click.option("--community", help="Only artefacts backed by this community.")
@click.option("--status", type=click.Choice(["approved", "candidate"]), help="Only this review status.")
@click.option("--source-kind", type=click.Choice(["transcript", "thread", "document"]), help="Only artefacts with evidence from this kind of source.")
@click.option("--since", help="Only artefacts updated on or after this date (YYYY-MM-DD).")
@click.option("--until", help="Only artefacts updated on or before this date (YYYY-MM-DD).")
@click.option("--batch", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="File with one query a line: one JSON result a line.")
@click.option("--json", "as_json", is_flag=True, help="Print results as JSON.")
@click.option("--no-floor", is_flag=True, help="Keep hits below the relevance floor, unlabelled (to measure ranking alone).")
def search(
    query: str | None, k: int, kind: str | None, community: str | None, status: str | None,
    source_kind: str | None, since: str | None, until: str | None, batch: Path | None, as_json: bool, no_floor: bool,
) -> None:  # fmt: skip
    """Search the published index: dense and keyword retrieval, fused as [search] in practice.toml says."""
    from index.release import ReleaseError
    from index.relevance import NO_MATCH, overall
    from index.search import Searcher
    from pipeline.settings import load_settings
    from pipeline.stages import releases_root, shared_service

    if (query is None) == (batch is None):
        raise click.UsageError('give a QUERY or --batch FILE (not both)')
    if not 1 <= k <= 100:
        raise click.UsageError("-k must be between 1 and 100")
    settings = load_settings()
    options = {**settings.search.searcher_options(), **({"relevance": None} if no_floor else {})}
    try:
        searcher = Searcher.open(releases_root(), embed=shared_service(settings), **options)
    except ReleaseError as exc:
        raise click.ClickException(f"{exc} (run `practice run` or `practice publish`)") from None
    filters = dict(kind=kind, community=community, status=status, source_kind=source_kind, since=since, until=until)
    if batch is not None:
        queries = [q.strip() for q in batch.read_text(encoding="utf-8").splitlines() if q.strip()]
        for q, hits in zip(queries, searcher.search_batch(queries, k, **filters)):
            match = overall([h.match for h in hits], searcher.relevance is not None)
            out = {"query": q, "release": searcher.release_id, "match": match, "hits": [h.to_dict() for h in hits]}
            sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
        return
    hits = [h.to_dict() for h in searcher.search(query, k, **filters)]  # type: ignore[arg-type]
    match = overall([h["match"] for h in hits], searcher.relevance is not None)
    if as_json:
        out = {"query": query, "release": searcher.release_id, "match": match, "hits": hits}
        click.echo(json.dumps(out, indent=2, ensure_ascii=False))
        return
    if not hits:
        click.echo("No good match: nothing in the index answers this closely enough." if match == NO_MATCH else "No results.")
    for i, hit in enumerate(hits, start=1):
        print_hit(i, hit)
