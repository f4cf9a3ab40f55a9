"""API shapes of account deletion."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import StringConstraints

from glint.accounts.schemas import MAX_PASSWORD
from glint.schemas import InputSchema, Schema, Timestamp


class DeletionIn(InputSchema):
    """DELETE /users/me: the password, and the second factor's code when it is on."""

    password: Annotated[str, StringConstraints(min_length=1, max_length=MAX_PASSWORD * 4)]
    # A TOTP code or a recovery code, with room for stray spaces.
    code: Annotated[str, StringConstraints(max_length=64)] | None = None


class DeletionOut(Schema):
    """The deletion asked for: everything goes at `purge_after` unless the member signs in
    before then."""

    status: Literal["pending"] = "pending"
    purge_after: Timestamp
