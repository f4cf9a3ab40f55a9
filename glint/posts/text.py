"""Hashtags and mentions parsed out of captions and comments."""

from __future__ import annotations

import re

# A hashtag is '#' then word characters (any script), not glued to a preceding word.
HASHTAG = re.compile(r"(?<![\w&])#(\w{1,100})", re.UNICODE)
MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9._]{3,30})")
# A web address as people type it: with a scheme, or www., or a name.tld/path.
LINK = re.compile(r"(?i)\b(?:https?://|www\.)\S+|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}/\S*")
MAX_TAGS = 30


def hashtags(text: str) -> list[str]:
    """Distinct lower-cased hashtags in order of first use (at most 30)."""
    seen: dict[str, None] = {}
    for match in HASHTAG.finditer(text):
        tag = match.group(1).lower()
        if not tag.isdigit():  # '#1' is a number, not a topic
            seen.setdefault(tag, None)
    return list(seen)[:MAX_TAGS]


def mentions(text: str) -> list[str]:
    """Distinct lower-cased usernames mentioned, in order of first use."""
    seen: dict[str, None] = {}
    for match in MENTION.finditer(text):
        name = match.group(1).lower().rstrip(".")
        if len(name) >= 3:
            seen.setdefault(name, None)
    return list(seen)[:MAX_TAGS]


def link_count(text: str) -> int:
    """How many web addresses a text holds."""
    return len(LINK.findall(text))
