"""Shapes of the feeds domain: every feed is a page of posts."""

from __future__ import annotations

from glint.paging import Page
from glint.posts.schemas import PostOut

FeedPage = Page[PostOut]
