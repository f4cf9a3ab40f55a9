"""Tables of the feeds domain: the explore candidates (timelines live in glint.infra.timelines)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from glint.infra.db import Base, UTCDateTime


class ExploreCandidate(Base):
    """A post on the explore page, scored by the periodic refresh (never per request)."""

    __tablename__ = "explore_candidates"

    post_id: Mapped[int] = mapped_column(
        sa.BigInteger, sa.ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    author_id: Mapped[int] = mapped_column(sa.BigInteger)
    score: Mapped[float] = mapped_column(sa.Float)
    computed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    __table_args__ = (sa.Index("ix_explore_candidates_score_post_id", "score", "post_id"),)
