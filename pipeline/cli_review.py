"""`practice review ...` and `practice users ...`: reviewer actions and user management from the shell.

Whoever can run these has the store file, so they act with full rights; `--as` names them in the
audit log. The web UI and the API check roles and tokens instead.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

from pipeline.store import Store


@contextmanager
def _store() -> Iterator[Store]:
    from pipeline.store import open_store

    store = open_store()
    try:
        yield store
    finally:
        store.close()


def actor_name(name: str | None) -> str:
    """Who acts, for the audit log: --as, else the login name."""
    if name:
        return name
    try:
        return getpass.getuser()
    except OSError:  # no login name (a container): still say who acted, generically
        return "cli"


def _act(fn: Callable[[Store], Any]) -> Any:
    from pipeline.review import ReviewError

    with _store() as store:
        try:
            return fn(store)
        except ReviewError as exc:
            raise click.ClickException(str(exc)) from None


def _say(outcomes: list[Any]) -> None:
    """One line per artefact: what was done, or why nothing was (a repeat is not an error)."""
    for o in outcomes:
        click.echo(o.message)


AS_OPTION = click.option("--as", "actor", help="Your name in the audit log [default: your login name].")


@click.group(name="review")
def review_group() -> None:
    """Reviewer actions: approve, reject, edit, merge, unmerge, stale; the queue and the audit log."""


@review_group.command()
@click.argument("ids", nargs=-1, required=True)
@click.option("--note", help="Why (kept in the audit log).")
@AS_OPTION
def approve(ids: tuple[str, ...], note: str | None, actor: str | None) -> None:
    """Approve one or more artefacts (published at the next publish)."""
    from pipeline.review import act_many

    _say(_act(lambda s: act_many(s, "approve", ids, actor_name(actor), note)))


@review_group.command()
@click.argument("ids", nargs=-1, required=True)
@click.option("--reason", required=True, help="Why it is rejected.")
@AS_OPTION
def reject(ids: tuple[str, ...], reason: str, actor: str | None) -> None:
    """Reject one or more artefacts, with a reason."""
    from pipeline.review import act_many

    _say(_act(lambda s: act_many(s, "reject", ids, actor_name(actor), reason)))


@review_group.command()
@click.argument("artefact_id")
@click.option("--question")
@click.option("--answer")
@click.option("--name")
@click.option("--context")
@click.option("--problem")
@click.option("--recommendation")
@click.option("--item", "items", multiple=True, help="Checklist item (repeat; replaces all items).")
@click.option("--note")
@AS_OPTION
def edit(artefact_id: str, items: tuple[str, ...], note: str | None, actor: str | None, **fields: str | None) -> None:
    """Edit an artefact's text (the previous text stays in the audit log)."""
    from pipeline.review import act

    changes: dict[str, Any] = {k: v for k, v in fields.items() if v is not None}
    if items:
        changes["items"] = list(items)
    if not changes:
        raise click.UsageError("nothing to change: give --question, --answer, --name, ... ")
    _say([_act(lambda s: act(s, artefact_id, "edit", actor_name(actor), changes=changes, note=note))])


@review_group.command()
@click.argument("source_id")
@click.argument("target_id")
@click.option("--note")
@AS_OPTION
def merge(source_id: str, target_id: str, note: str | None, actor: str | None) -> None:
    """Merge SOURCE into TARGET (evidence and support combine; reversible with unmerge)."""
    from pipeline.review import act

    outcome = _act(lambda s: act(s, source_id, "merge", actor_name(actor), target_id=target_id, note=note))
    _say([outcome])
    if outcome.changed:
        click.echo(f"{target_id} now has {outcome.result.support.sources} sources, {outcome.result.support.authors} authors.")


@review_group.command()
@click.argument("source_id")
@click.option("--note")
@AS_OPTION
def unmerge(source_id: str, note: str | None, actor: str | None) -> None:
    """Undo the merge of SOURCE: both artefacts come back as they were."""
    from pipeline.review import act

    _say([_act(lambda s: act(s, source_id, "unmerge", actor_name(actor), note=note))])


@review_group.command()
@click.argument("artefact_id")
@click.option("--note")
@AS_OPTION
def stale(artefact_id: str, note: str | None, actor: str | None) -> None:
    """Mark an artefact stale (outdated): it leaves the index at the next publish."""
    from pipeline.review import act

    _say([_act(lambda s: act(s, artefact_id, "stale", actor_name(actor), note=note))])


@review_group.command()
@click.argument("artefact_id")
@click.option("--visibility", required=True, help='"public" or groups, e.g. "sre,platform".')
@click.option("--note", required=True, help="Why this may be seen more widely.")
@AS_OPTION
def widen(artefact_id: str, visibility: str, note: str, actor: str | None) -> None:
    """Widen who may see an artefact (an audited admin decision)."""
    from pipeline.review import act

    _say([_act(lambda s: act(s, artefact_id, "visibility", actor_name(actor), visibility=visibility, note=note))])


@review_group.command()
@AS_OPTION
def undo(actor: str | None) -> None:
    """Undo your last review action (a merge is undone by an unmerge; one level of undo)."""
    from pipeline.review_undo import undo as undo_last

    click.echo(_act(lambda s: undo_last(s, actor_name(actor))).message)


FILTER_STATUSES = click.Choice(["candidate", "approved", "rejected", "merged", "stale"])


@review_group.command("bulk")
@click.argument("action", type=click.Choice(["approve", "reject", "stale"]))
@click.option("--kind", type=click.Choice(["faq", "pattern"]))
@click.option("--community")
@click.option("--status", default="candidate", show_default=True, type=FILTER_STATUSES)
@click.option("--reason", help="Why (required to reject).")
@click.option("--yes", is_flag=True, help="Do it without asking (the count is still printed).")
@AS_OPTION
def bulk_filter(action: str, kind: str | None, community: str | None, status: str, reason: str | None,
                yes: bool, actor: str | None) -> None:  # fmt: skip
    """ACTION every artefact the filters match, after showing the count and asking to confirm."""
    from pipeline.review_bulk import Filters, plan_bulk, run_bulk
    from pipeline.users import Role, User

    admin = User(name="cli", role=Role.admin)  # shell users hold the store: they see everything
    filters = Filters(kind, community, status)
    plan = _act(lambda s: plan_bulk(s, admin, action, filters, reason))
    click.echo(plan.question())
    if not plan.ids or not (yes or click.confirm("Confirm", default=False)):
        click.echo("Nothing done.")
        return
    outcomes = _act(lambda s: run_bulk(s, admin, actor_name(actor), action, filters, plan.token, reason))
    click.echo(f"Done: {sum(o.changed for o in outcomes)} artefact(s). `practice review undo` takes them back.")


@review_group.command()
@click.option("--kind", type=click.Choice(["faq", "pattern"]))
@click.option("--community")
@click.option("--status", default="candidate", show_default=True,
              type=click.Choice(["candidate", "approved", "rejected", "merged", "stale"]))  # fmt: skip
@click.option("--limit", default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def queue(kind: str | None, community: str | None, status: str, limit: int, as_json: bool) -> None:
    """Artefacts waiting for review (or in STATUS), most impact first, with the actions each offers."""
    from pipeline.review import impact, offered, review_queue
    from pipeline.users import Role, User

    admin = User(name="cli", role=Role.admin)  # shell users hold the store: they see everything
    items = _act(lambda s: review_queue(s, admin, kind, community, status=status, limit=limit))
    if as_json:
        click.echo(json.dumps([{"id": a.id, "kind": a.kind.value, "status": a.status.value, "title": a.title,
                                "impact": impact(a), "support": a.support.model_dump(),
                                "actions": list(offered(a, admin))} for a in items], indent=2))  # fmt: skip
        return
    for a in items:
        click.echo(f"{a.id}  {impact(a):6.2f}  [{a.kind.value}] {a.title[:90]}  ({a.support.conversations} conversations, {a.support.sources} sources)")
        click.echo(f"{'':18}{a.status.value}: {' · '.join(offered(a, admin))}")


@review_group.command()
@click.argument("artefact_id", required=False)
@click.option("--limit", default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def log(artefact_id: str | None, limit: int, as_json: bool) -> None:
    """The audit log (newest first), for one artefact or all."""
    from pipeline.review import audit_log
    from pipeline.shapes import event_json

    events = _act(lambda s: audit_log(s, artefact_id, limit))
    if as_json:
        click.echo(json.dumps([event_json(e) for e in events], indent=2))
        return
    for e in events:
        click.echo(f"{e.at:%Y-%m-%d %H:%M}  {e.actor:12} {e.action:16} {e.artefact_id}  {e.note or ''}")


@click.group(name="users")
def users_group() -> None:
    """Users and API tokens: add (prints the token once), list, revoke."""


@users_group.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["reader", "reviewer", "admin"]), required=True)
@click.option("--group", "groups", multiple=True, help="Group membership (repeat), for restricted sources.")
def users_add(name: str, role: str, groups: tuple[str, ...]) -> None:
    """Create a user and print its API token (shown once, stored hashed)."""
    from pipeline.users import UserError, add_user

    with _store() as store:
        try:
            _, token = add_user(store, name, role, groups)
        except UserError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(token)


@users_group.command("list")
@click.option("--json", "as_json", is_flag=True)
def users_list(as_json: bool) -> None:
    """List users with role, groups and whether revoked (never tokens)."""
    from pipeline.shapes import user_json
    from pipeline.users import list_users

    with _store() as store:
        users = list_users(store)
    if as_json:
        click.echo(json.dumps([user_json(u) for u in users], indent=2))
        return
    for u in users:
        click.echo(f"{u.name:16} {u.role.value:9} {','.join(u.groups) or '-':20} {'revoked' if u.revoked else ''}")


@users_group.command("revoke")
@click.argument("name")
def users_revoke(name: str) -> None:
    """Revoke a user's token at once."""
    from pipeline.users import UserError, revoke_user

    with _store() as store:
        try:
            revoke_user(store, name)
        except UserError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"Revoked {name}.")
