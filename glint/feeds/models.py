"""Tables of the feeds domain: the timeline generation and the explore candidates."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from glint.infra.db import Base, UTCDateTime


class FeedGeneration(Base):
    """One row: the generation every fresh timeline must carry.

    Bumped when a timeline write was lost (the timeline store was down), which makes every
    stored timeline stale at once; each is rebuilt from the database at its owner's next read.
    """

    __tablename__ = "feed_generation"

    id: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True, autoincrement=False)
    generation: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    bumped_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


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
