"""Building a data export: every section read in pages and written into a streamed ZIP.

JSON files are spooled to temporary files while their section's photos go into the ZIP one by
one (only one ZIP entry can be open at a time); each JSON file joins the ZIP when its section
ends, and index.html, grown the same way, at the very end. What stays in memory is one page of
rows and one photo.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from functools import cache
from pathlib import Path
from typing import IO, Any

import jinja2
import orjson
import sqlalchemy as sa

from glint.infra.db import Database
from glint.infra.storage import ObjectNotFound, ObjectStore
from glint.media import imaging
from glint.media.imaging import RENDITION_SIZES
from glint.messaging.models import ConversationMember, Message
from glint.ownership import export_content as content
from glint.ownership.archive import ZipStream
from glint.posts.models import Post, PostMedia
from glint.schemas import format_timestamp
from glint.stories.models import Story

Report = Callable[[float], Awaitable[None]]
# Progress is saved (one small commit) after this many photos or sections.
PROGRESS_EVERY = 50
_EXTENSIONS = {"jpeg": "jpg", "png": "png", "webp": "webp", "avif": "avif", "heif": "heic"}


class ExportFailed(Exception):
    """The export cannot be complete; the message says why, in the member's words."""


@cache
def macros() -> Any:
    """The macros of index.html, one per piece of the page."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template("export_index.html").module


def photo_extension(data: bytes) -> str:
    """The file extension a photo's bytes call for."""
    return _EXTENSIONS.get(imaging.sniff(data) or "", "bin")


class JsonArray:
    """A JSON array spooled to a temporary file, item by item."""

    def __init__(self) -> None:
        self.file: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 (closed by json_file)
        self.count = 0
        self.file.write(b"[")

    def extend(self, items: Iterable[Any]) -> None:
        for item in items:
            self.file.write((b",\n" if self.count else b"\n") + orjson.dumps(item))
            self.count += 1

    def finish(self) -> IO[bytes]:
        self.file.write(b"\n]\n")
        return self.file


class ExportWriter:
    """One export being written: the ZIP, index.html growing aside, and the progress."""

    def __init__(
        self,
        db: Database,
        storage: ObjectStore,
        *,
        user_id: int,
        report: Report,
        progress_every: int = PROGRESS_EVERY,
    ) -> None:
        self.db = db
        self.storage = storage
        self.user_id = user_id
        self._report = report
        self.zip = ZipStream()
        self.html: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 (closed by the run)
        self.done = 0
        self.total = 1
        self._reported = 0
        self._every = progress_every

    def page(self, text: str) -> None:
        """Append to index.html."""
        self.html.write(text.encode())

    async def tick(self, units: int = 1) -> None:
        """Count finished work; report the progress every so many units."""
        self.done += units
        if self.done - self._reported >= self._every:
            self._reported = self.done
            await self._report(min(self.done / self.total, 0.99))

    async def photo(self, key: str, name: str) -> tuple[str, bytes]:
        """(the path inside the ZIP, the bytes to send) of one stored original."""
        try:
            data = (await self.storage.get(key)).data
        except ObjectNotFound as exc:
            # An export without one of the photos is not the complete copy it promises.
            raise ExportFailed(f"a photo is missing from storage ({name})") from exc
        path = f"{name}.{photo_extension(data)}"
        # Its CRC over megabytes, off the event loop (embedded, that loop serves requests).
        return path, await asyncio.to_thread(self.zip.add, path, data, compress=False)

    def json_file(self, name: str, array: JsonArray) -> Iterable[bytes]:
        """Add a spooled JSON array to the ZIP; the bytes to send."""
        try:
            yield from self.zip.add_file(name, array.finish())
        finally:
            array.file.close()

    async def table(self, section: content.TableSection) -> AsyncIterator[bytes]:
        """One plain section: its JSON file and its table in index.html."""
        page_macros = macros()
        array = JsonArray()
        columns: list[str] = []
        self.page(page_macros.section(Path(section.file).stem, section.title, section.file))
        async for rows in content.keyset_pages(self.db, section.query(self.user_id)):
            items = [content.item_of(row) for row in rows]
            if section.enrich is not None:
                await section.enrich(self.db, items)
            if not columns:
                columns = list(items[0])
                self.page(page_macros.table_start(columns))
            array.extend(items)
            self.page(page_macros.table_rows(columns, items))
        self.page(page_macros.table_end() if columns else "<p class='muted'>Nothing here.</p>")
        for piece in self.json_file(section.file, array):
            yield piece
        await self.tick()


async def _count(db: Database, query: content.AnySelect) -> int:
    async with db.session() as session:
        return int(await session.scalar(query) or 0)


async def count_work(db: Database, *, user_id: int) -> int:
    """How many photos and sections an export of this member writes (for its progress)."""
    count = sa.select(sa.func.count())
    photos = await _count(
        db, count.select_from(PostMedia).join(Post).where(Post.author_id == user_id)
    )
    photos += await _count(db, count.select_from(Story).where(Story.author_id == user_id))
    in_conversations = sa.select(ConversationMember.conversation_id).where(
        ConversationMember.user_id == user_id
    )
    photos += await _count(
        db,
        count.select_from(Message).where(
            Message.conversation_id.in_(in_conversations), Message.original_key.is_not(None)
        ),
    )
    return photos + len(content.TABLES) + 4


async def avatar_key(storage: ObjectStore, base_key: str | None) -> str | None:
    """The largest stored rendition of an avatar (avatars keep no original)."""
    if not base_key:
        return None
    keys = await storage.list_keys(base_key + "/")

    def rank(key: str) -> tuple[int, bool]:
        size, _, ext = key.rsplit("/", 1)[-1].partition(".")
        return (RENDITION_SIZES.index(size) if size in RENDITION_SIZES else -1, ext == "jpg")

    return max(keys, key=rank) if keys else None


def post_item(post: Post, photos: list[dict[str, Any]]) -> dict[str, Any]:
    """A post as posts.json has it."""
    location = None
    if post.location_name or post.location_lat is not None:
        location = {"name": post.location_name, "lat": post.location_lat, "lng": post.location_lng}
    times = {
        name: format_timestamp(value) if value else None
        for name, value in (
            ("created_at", post.created_at),
            ("published_at", post.published_at),
            ("edited_at", post.edited_at),
        )
    }
    return {
        "id": str(post.id),
        "caption": post.caption,
        "location": location,
        "filter": post.filter,
        "status": post.status,
        "like_count": post.like_count,
        "comment_count": post.comment_count,
        "comments_disabled": post.comments_disabled,
        **times,
        "photos": photos,
    }


def story_item(story: Story, file: str | None) -> dict[str, Any]:
    """A story as stories.json has it."""
    item = {
        name: content.json_value(name, getattr(story, name))
        for name in ("id", "caption", "alt_text", "audience", "status", "view_count")
    }
    for name in ("created_at", "published_at", "expires_at"):
        value: dt.datetime | None = getattr(story, name)
        item[name] = format_timestamp(value) if value else None
    item["file"] = file
    return item
