"""Shapes of discovery: search results, hashtags, trends and suggestions."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from glint.accounts.schemas import UserSummary
from glint.posts.schemas import PostOut
from glint.schemas import Schema

SearchType = Literal["users", "hashtags", "posts"]
HashtagSort = Literal["recent", "top"]


class HashtagSummary(Schema):
    """A hashtag in a list: its name and how many published posts carry it."""

    name: str
    post_count: int


class SearchCursors(Schema):
    """Where each list of a search goes on (`type=<list>&cursor=<this>`), null at its end."""

    users: str | None = None
    hashtags: str | None = None
    posts: str | None = None


class SearchOut(Schema):
    """GET /search: a page of each list asked for (all three when no `type` is given)."""

    users: list[UserSummary]
    hashtags: list[HashtagSummary]
    posts: list[PostOut]
    next_cursor: str | None  # the cursor of the one list asked for with `type`
    next_cursors: SearchCursors


class HashtagOut(Schema):
    """GET /hashtags/{name}."""

    name: str
    post_count: int
    following: bool | None = Field(default=None, exclude_if=lambda v: v is None)  # signed in


class TrendingHashtag(Schema):
    """A hashtag used by more people than usual in the last 24 hours."""

    name: str
    post_count_24h: int
    posters_24h: int


class TrendsOut(Schema):
    """GET /trends/hashtags."""

    items: list[TrendingHashtag]


class SuggestedUser(Schema):
    """An account suggested to follow, and why."""

    user: UserSummary
    reason: str
    mutual_count: int


class SuggestionsOut(Schema):
    """GET /suggestions/users."""

    items: list[SuggestedUser]
