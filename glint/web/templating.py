"""The Jinja2 environment of the web pages: autoescaped templates and the filters they use."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from glint.media import imaging
from glint.posts import text as post_text
from glint.posts.schemas import MediaOut, SizeUrls

HERE = Path(__file__).resolve().parent
TEMPLATES_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"

# Rendition widths from API.md (Media): the thumbnail is a 150 x 150 centre crop, the other
# sizes keep the photo's aspect ratio and are never upscaled past the original.
SIZE_WIDTHS = tuple(imaging.RENDITION_WIDTHS.items())

# Hashtags and mentions as the server parses them (glint.posts.text), in one pass.
_ENTITY = re.compile(f"{post_text.HASHTAG.pattern}|{post_text.MENTION.pattern}", re.UNICODE)


def relative_time(value: dt.datetime, now: dt.datetime | None = None) -> str:
    """A short age like Instagram's: "just now", "5m", "3h", "2d", "4w", then the date."""
    current = now or dt.datetime.now(dt.UTC)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    seconds = int((current - value).total_seconds())
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h"
    days = seconds // 86400
    if days < 7:
        return f"{days}d"
    if days < 28:
        return f"{days // 7}w"
    if value.year == current.year:
        return f"{value:%b} {value.day}"
    return f"{value:%b} {value.day}, {value.year}"


def iso_time(value: dt.datetime) -> str:
    """RFC 3339 UTC, for <time datetime>."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def full_time(value: dt.datetime) -> str:
    """A readable absolute time, for tooltips."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).strftime("%d %B %Y, %H:%M UTC").lstrip("0")


def compact_count(value: int) -> str:
    """1234 -> "1,234"; a million and more -> "1.2M" (profile header counts)."""
    if value >= 1_000_000:
        return f"{value / 1_000_000:.1f}".rstrip("0").rstrip(".") + "M"
    if value >= 10_000:
        return f"{value / 1000:.1f}".rstrip("0").rstrip(".") + "K"
    return f"{value:,}"


def linkify(value: str) -> Markup:
    """Caption or comment text as HTML: every character escaped, #tags and @names linked.

    Only text between the matches and the matched names go into the output, each escaped on
    its own; the link targets are built from characters the patterns allow, URL-quoted.
    """
    parts: list[str] = []
    position = 0
    for match in _ENTITY.finditer(value):
        tag, name = match.group(1), match.group(2)
        if tag is not None and tag.isdigit():
            continue  # '#1' is a number, not a topic (as glint.posts.text decides)
        parts.append(str(escape(value[position : match.start()])))
        if tag is not None:
            href = "/explore/tags/" + quote(tag.lower(), safe="")
            parts.append(f'<a class="tag" href="{escape(href)}">#{escape(tag)}</a>')
            position = match.end()
            continue
        trimmed = name.rstrip(".")
        if len(trimmed) < 3:
            parts.append(str(escape(match.group(0))))
            position = match.end()
            continue
        href = "/" + quote(trimmed.lower(), safe="")
        parts.append(f'<a class="mention" href="{escape(href)}">@{escape(trimmed)}</a>')
        position = match.start() + 1 + len(trimmed)
    parts.append(str(escape(value[position:])))
    return Markup("".join(parts))  # noqa: S704 (every piece above was escaped)


def _true_widths(media: MediaOut) -> dict[str, int]:
    return {
        name: (width if name == "thumbnail" else min(width, media.width))
        for name, width in SIZE_WIDTHS
    }


def _square_srcset(media: MediaOut, urls: SizeUrls) -> str:
    """Square tiles (grids): the 150 px square thumbnail, then the 640 and 1080 renditions,
    each described by the side of the square the tile's CSS crops out of it (its shorter
    side), so a ~300 px tile at 2x gets a crop with 600 real pixels, never a stretched 320."""
    candidates = [f"{urls.thumbnail} {imaging.THUMBNAIL}w"]
    seen = {imaging.THUMBNAIL}
    for name in ("medium", "large"):
        width = min(imaging.RENDITION_WIDTHS[name], media.width)
        side = min(width, max(1, round(media.height * width / media.width)))
        if side in seen:
            continue
        seen.add(side)
        candidates.append(f"{getattr(urls, name)} {side}w")
    return ", ".join(candidates)


def srcset(media: MediaOut, *, fmt: str = "webp", square: bool = False) -> str:
    """A srcset over the renditions, each with its true width.

    square=True is for square tiles (grids): see _square_srcset. Otherwise the thumbnail only
    joins when the photo itself is square, so a full photo is never swapped for a crop of it.
    """
    urls = media.urls if fmt == "webp" else media.jpeg_urls
    if square:
        return _square_srcset(media, urls)
    include_thumbnail = media.width == media.height
    seen: set[int] = set()
    candidates: list[str] = []
    for name, width in _true_widths(media).items():
        if name == "thumbnail" and not include_thumbnail:
            continue
        if width in seen:
            continue  # a small original: two sizes are the same file width
        seen.add(width)
        candidates.append(f"{getattr(urls, name)} {width}w")
    return ", ".join(candidates)


def average_colour(blurhash: str) -> str:
    """The photo's average colour as #rrggbb, read from the blurhash's DC component."""
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~"
    if len(blurhash) < 6:
        return "#dbdbdb"
    value = 0
    for char in blurhash[2:6]:
        index = alphabet.find(char)
        if index < 0:
            return "#dbdbdb"
        value = value * 83 + index
    return f"#{value & 0xFFFFFF:06x}"


@cache
def static_version() -> str:
    """A digest of every static file: part of their URLs, so a release busts every cache."""
    digest = hashlib.sha256()
    for path in sorted(STATIC_DIR.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(STATIC_DIR).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def static_url(path: str) -> str:
    """The versioned URL of a static file (relative imports between modules keep the version)."""
    return f"/static/{static_version()}/{path.lstrip('/')}"


def plural(count: int, singular: str, many: str | None = None) -> str:
    """ "1 like", "2 likes"."""
    word = singular if count == 1 else (many or singular + "s")
    return f"{count:,} {word}"


@cache
def environment() -> Environment:
    """The one Environment: autoescape on for every template, undefined names are errors."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        reltime=relative_time,
        isotime=iso_time,
        fulltime=full_time,
        compact=compact_count,
        linkify=linkify,
        srcset=srcset,
        avg_colour=average_colour,
    )
    env.globals.update(static=static_url, plural=plural)
    return env


def render_template(name: str, context: dict[str, Any]) -> str:
    """A template rendered to a string."""
    return environment().get_template(name).render(context)
