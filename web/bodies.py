"""The JSON API's request bodies (unknown fields refused, every string bounded)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from pipeline.review import EDITABLE
from web.limits import ID_PATTERN, NAME_PATTERN, VISIBILITY_PATTERN


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NoteBody(_Body):
    note: str | None = Field(None, max_length=4000)


class RejectBody(_Body):
    reason: str = Field(min_length=1, max_length=4000)


class EditBody(_Body):
    question: str | None = Field(None, max_length=8000)
    answer: str | None = Field(None, max_length=16000)
    name: str | None = Field(None, max_length=8000)
    context: str | None = Field(None, max_length=16000)
    problem: str | None = Field(None, max_length=16000)
    recommendation: str | None = Field(None, max_length=16000)
    items: list[str] | None = Field(None, max_length=200)
    note: str | None = Field(None, max_length=4000)


class MergeBody(_Body):
    into: str = Field(pattern=ID_PATTERN, description="id of the artefact this one folds into")
    note: str | None = Field(None, max_length=4000)


class WidenBody(_Body):
    visibility: str = Field(
        pattern=VISIBILITY_PATTERN,
        description='"public", or groups: "a,b" = member of a or b; "a;b" = member of a and of b',
    )
    note: str = Field(min_length=1, max_length=4000, description="why (goes to the audit log)")


class BulkBody(_Body):
    action: Literal["approve", "reject"]
    ids: list[str] = Field(min_length=1, max_length=200)
    reason: str | None = Field(None, max_length=4000)


class BulkFilterBody(_Body):
    action: Literal["approve", "reject", "stale"]
    kind: Literal["faq", "pattern"] | None = None
    community: str | None = Field(None, max_length=200)
    status: Literal["candidate", "approved", "rejected", "merged", "stale"] = "candidate"
    reason: str | None = Field(None, max_length=4000)
    confirm: str | None = Field(None, max_length=64, description="the token of the count: do it (left out: count only)")


class PublishBody(_Body):
    include_candidates: bool | None = None
    confirm: str | None = Field(None, max_length=64, description="the token of a preview: publish only while it holds")


class RollbackBody(_Body):
    to: str | None = Field(None, pattern=ID_PATTERN, description="the release to make current [default: the one before the current]")


class NewUserBody(_Body):
    name: str = Field(pattern=NAME_PATTERN)
    role: Literal["reader", "reviewer", "admin"]
    groups: list[str] = Field(default_factory=list, max_length=50)


EDIT_FIELDS = EDITABLE
