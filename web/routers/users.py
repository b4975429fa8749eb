"""Users: who am I (API), and user management for admins (API and page)."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from pipeline.shapes import user_json
from pipeline.users import UserError, add_user, list_users, revoke_user
from web.bodies import NewUserBody
from web.html import redirect, render
from web.limits import GROUP_PATTERN, NAME_PATTERN
from web.state import practice

router = APIRouter()


@router.get("/api/me", tags=["auth"], summary="Who the bearer token belongs to")
def api_me(request: Request) -> dict[str, Any]:
    with practice(request).api(request, "reader") as (_, user):
        assert user is not None
        return user_json(user)


@router.get("/api/users", tags=["users"], summary="Users (admins only)")
def api_users(request: Request) -> list[dict[str, Any]]:
    with practice(request).api(request, "admin") as (store, _):
        return [user_json(u) for u in list_users(store)]


@router.post("/api/users", tags=["users"], summary="Add a user; the token is shown once", status_code=201)
def api_add_user(request: Request, body: NewUserBody) -> dict[str, Any]:
    with practice(request).api(request, "admin") as (store, _):
        user, token = add_user(store, body.name, body.role, body.groups)
        return {"user": user_json(user), "token": token}


@router.post("/api/users/{name}/revoke", tags=["users"], summary="Revoke a user's token (admins only)")
def api_revoke_user(request: Request, name: str) -> dict[str, Any]:
    with practice(request).api(request, "admin") as (store, _):
        revoke_user(store, name)
        return {"name": name, "revoked": True}


@router.get("/users", include_in_schema=False)
def users_page(request: Request) -> Response:
    with practice(request).web(request, "admin") as w:
        return render(w, "users.html", {"users": list_users(w.store)})


@router.post("/users", include_in_schema=False)
def users_add(
    request: Request,
    csrf_token: str = Form(""),
    name: str = Form("", max_length=64),
    role: str = Form("reader"),
    groups: str = Form("", max_length=1000),
) -> Response:
    with practice(request).web(request, "admin", csrf=csrf_token, check_csrf=True) as w:
        group_list = [g.strip() for g in groups.split(",") if g.strip()]
        if not re.match(NAME_PATTERN, name) or role not in ("reader", "reviewer", "admin") or not all(
            re.match(GROUP_PATTERN, g) for g in group_list
        ):
            w.flash("Invalid name, role or group (letters, digits, _ . - only).", "error")
        else:
            try:
                _, token = add_user(w.store, name, role, group_list)
                w.flash(f"Added {name}. Their token (shown once): {token}", "token")
            except UserError as exc:
                w.flash(str(exc), "error")
        return redirect(w, "/users")


@router.post("/users/{name}/revoke", include_in_schema=False)
def users_revoke(request: Request, name: str, csrf_token: str = Form("")) -> Response:
    with practice(request).web(request, "admin", csrf=csrf_token, check_csrf=True) as w:
        try:
            revoke_user(w.store, name)
            w.flash(f"Revoked {name}.")
        except UserError as exc:
            w.flash(str(exc), "error")
        return redirect(w, "/users")
