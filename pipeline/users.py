"""Users, roles and API tokens; and who may see what (DESIGN.md invariant 7).

Tokens are random and shown once; only their sha256 is stored (a 256-bit random token needs no
slow hash: there is nothing to brute-force). Visibility strings:

- "public": anyone, signed in or not;
- otherwise clauses joined by ';', each a comma-separated list of groups: the viewer must belong
  to at least one group of *every* clause. A source restricted to "sre,platform" contributes one
  clause; an artefact with evidence from two restricted sources carries both clauses.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime
from enum import Enum

from pydantic import BaseModel, Field

from pipeline.models import utcnow
from pipeline.store import Store

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


class Role(str, Enum):
    """What a user may do: read, also review, also manage users and widen visibility."""

    reader = "reader"
    reviewer = "reviewer"
    admin = "admin"


class User(BaseModel):
    """A person or service with a token."""

    name: str
    role: Role
    groups: list[str] = Field(default_factory=list)
    revoked: bool = False
    created_at: datetime = Field(default_factory=utcnow)


class UserError(ValueError):
    """A user-management request that cannot be done (bad name, duplicate, unknown user)."""


class UnknownUser(UserError):
    """No user of that name."""


class UserExists(UserError):
    """A user of that name exists already."""


def hash_token(token: str) -> str:
    """What is stored for a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def add_user(store: Store, name: str, role: Role | str, groups: list[str] | tuple[str, ...] = ()) -> tuple[User, str]:
    """Create a user; returns it with its token (shown once, never stored)."""
    if not _NAME.match(name):
        raise UserError(f"invalid user name {name!r}: letters, digits and . _ @ - only")
    if any(u["name"] == name for u in store.users()):
        raise UserExists(f"user {name!r} already exists")
    role = Role(role)
    token = f"pi_{secrets.token_urlsafe(32)}"
    clean_groups = sorted({g.strip() for g in groups if g.strip()})
    store.add_user(name, role.value, clean_groups, hash_token(token))
    user = authenticate(store, token)
    assert user is not None  # just written
    return user, token


def authenticate(store: Store, token: str | None) -> User | None:
    """The user a token belongs to; None for a missing, unknown or revoked token."""
    if not token:
        return None
    row = store.user_by_token_hash(hash_token(token))
    if row is None or row["revoked"]:
        return None
    return User(**row)


def list_users(store: Store) -> list[User]:
    """Every user (revoked ones too, marked)."""
    return [User(**row) for row in store.users()]


def revoke_user(store: Store, name: str) -> None:
    """Revoke a user's token at once."""
    if not store.revoke_user(name):
        raise UnknownUser(f"no user {name!r}")


def can_review(user: User | None) -> bool:
    """Reviewers and admins may act on artefacts."""
    return user is not None and user.role in (Role.reviewer, Role.admin)


def is_admin(user: User | None) -> bool:
    """Admins manage users and widen visibility."""
    return user is not None and user.role == Role.admin


def can_see(user: User | None, visibility: str | None) -> bool:
    """Whether `user` (None: anonymous) may see something with this visibility string."""
    if not visibility or visibility == "public":
        return True
    if user is None:
        return False
    if user.role == Role.admin:
        return True  # admins manage visibility, so they must be able to see what they manage
    groups = set(user.groups)
    for clause in visibility.split(";"):
        allowed = {g.strip() for g in clause.split(",") if g.strip()}
        if allowed and not (allowed & groups) and "public" not in allowed:
            return False
    return True
