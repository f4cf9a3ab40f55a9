"""Imports every domain's tables so Alembic and the tests see the whole schema."""

from __future__ import annotations

import sqlalchemy as sa

from glint.infra.db import Base


def metadata() -> sa.MetaData:
    """The metadata of every table, all models imported."""
    from glint.accounts import models as _accounts  # noqa: F401

    return Base.metadata
