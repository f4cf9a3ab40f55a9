"""Imports every domain's tables so Alembic and the tests see the whole schema."""

from __future__ import annotations

import sqlalchemy as sa

from glint.infra.db import Base


def metadata() -> sa.MetaData:
    """The metadata of every table, all models imported."""
    from glint.accounts import models as _accounts  # noqa: F401
    from glint.discovery import models as _discovery  # noqa: F401
    from glint.feeds import models as _feeds  # noqa: F401
    from glint.infra import eventlog as _eventlog  # noqa: F401
    from glint.infra import periodic as _periodic  # noqa: F401
    from glint.infra import queue as _queue  # noqa: F401
    from glint.infra import timelines as _timelines  # noqa: F401
    from glint.infra import trays as _trays  # noqa: F401
    from glint.messaging import models as _messaging  # noqa: F401
    from glint.moderation import models as _moderation  # noqa: F401
    from glint.notifications import models as _notifications  # noqa: F401
    from glint.ownership import models as _ownership  # noqa: F401
    from glint.posts import models as _posts  # noqa: F401
    from glint.social import models as _social  # noqa: F401
    from glint.stories import models as _stories  # noqa: F401

    return Base.metadata
