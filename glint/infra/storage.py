"""Object storage through obstore: files under the data folder embedded, S3-compatible at scale."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlparse

import obstore
from obstore.exceptions import BaseError, NotFoundError
from obstore.store import LocalStore, S3Store

_VALID_KEY = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")
_TYPES_BY_EXTENSION = {
    ".webp": "image/webp",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".avif": "image/avif",
    ".heic": "image/heic",
    ".json": "application/json",
    ".zip": "application/zip",
}
# Streamed writes go up in parts of this size (S3 wants at least 5 MiB per part but the last),
# at most two at a time: the memory a streamed upload holds stays near 2 parts.
STREAM_PART_BYTES = 8 * 1024 * 1024
STREAM_PARTS_IN_FLIGHT = 2
# Streamed reads fetch one range per chunk: each is its own short request, so a slow reader
# never outlives the client's timeout the way one long body would.
STREAM_READ_BYTES = 1024 * 1024


class ObjectNotFound(KeyError):
    """No object under that key."""


class StorageUnavailable(Exception):
    """The store did not answer (connection refused, timeout, bad credentials)."""


@dataclass(frozen=True, slots=True)
class ObjectMeta:
    """What a HEAD tells about an object."""

    size: int
    etag: str | None
    content_type: str | None
    last_modified: dt.datetime | None


@dataclass(frozen=True, slots=True)
class StoredObject:
    """An object's bytes with its metadata."""

    data: bytes
    meta: ObjectMeta


class ObjectStore(Protocol):
    """Where media bytes live; keys are relative paths of [A-Za-z0-9_.-] segments."""

    async def put(self, key: str, data: bytes, *, content_type: str) -> None:
        """Store (or replace) an object."""
        ...

    async def get(self, key: str) -> StoredObject:
        """An object's bytes; ObjectNotFound when missing."""
        ...

    async def get_range(self, key: str, start: int, end: int) -> bytes:
        """Bytes [start, end) of an object."""
        ...

    async def head(self, key: str) -> ObjectMeta:
        """An object's metadata; ObjectNotFound when missing."""
        ...

    async def put_stream(self, key: str, chunks: AsyncIterable[bytes], *, content_type: str) -> int:
        """Store an object from chunks without holding it whole; its size. Nothing is left
        under the key when the chunks raise (their error passes through)."""
        ...

    def iter_bytes(self, key: str, *, chunk_size: int = STREAM_READ_BYTES) -> AsyncIterator[bytes]:
        """An object's bytes in chunks of at most chunk_size; ObjectNotFound when missing."""
        ...

    async def delete_many(self, keys: Sequence[str]) -> None:
        """Delete objects; missing ones are fine."""
        ...

    async def list_keys(self, prefix: str) -> list[str]:
        """Every key under a prefix."""
        ...

    async def total_bytes(self) -> int:
        """The size of everything stored (for admin stats)."""
        ...

    async def ping(self) -> None:
        """StorageUnavailable unless the store answers."""
        ...


def check_key(key: str) -> str:
    """The key itself, or ValueError for anything that could escape its folder."""
    if not _VALID_KEY.match(key) or any(part in (".", "..") for part in key.split("/")):
        raise ValueError(f"invalid storage key: {key!r}")
    return key


def _content_type_of(key: str) -> str:
    return _TYPES_BY_EXTENSION.get(os.path.splitext(key)[1].lower(), "application/octet-stream")


class ObstoreObjectStore:
    """One implementation for both backends: obstore speaks to local disks and S3 alike."""

    def __init__(self, store: LocalStore | S3Store, *, keeps_content_type: bool) -> None:
        self._store = store
        # Local files have no attributes; their type follows from the key's extension.
        self._keeps_content_type = keeps_content_type

    async def put(self, key: str, data: bytes, *, content_type: str) -> None:
        """Store (or replace) an object."""
        attributes: Any = {"Content-Type": content_type} if self._keeps_content_type else None
        try:
            await obstore.put_async(self._store, check_key(key), data, attributes=attributes)
        except BaseError as exc:
            raise StorageUnavailable(str(exc)) from exc
        except OSError as exc:
            raise StorageUnavailable(str(exc)) from exc

    async def get(self, key: str) -> StoredObject:
        """An object's bytes and metadata."""
        try:
            result = await obstore.get_async(self._store, check_key(key))
            data = bytes(await result.bytes_async())
        except (NotFoundError, FileNotFoundError) as exc:
            raise ObjectNotFound(key) from exc
        except (BaseError, OSError) as exc:
            raise StorageUnavailable(str(exc)) from exc
        content_type = result.attributes.get("Content-Type") if self._keeps_content_type else None
        return StoredObject(data=data, meta=self._meta(key, result.meta, content_type))

    async def get_range(self, key: str, start: int, end: int) -> bytes:
        """Bytes [start, end) of an object."""
        try:
            chunk = await obstore.get_range_async(self._store, check_key(key), start=start, end=end)
        except (NotFoundError, FileNotFoundError) as exc:
            raise ObjectNotFound(key) from exc
        except (BaseError, OSError) as exc:
            raise StorageUnavailable(str(exc)) from exc
        return bytes(chunk)

    async def head(self, key: str) -> ObjectMeta:
        """An object's metadata."""
        try:
            meta = await obstore.head_async(self._store, check_key(key))
        except (NotFoundError, FileNotFoundError) as exc:
            raise ObjectNotFound(key) from exc
        except (BaseError, OSError) as exc:
            raise StorageUnavailable(str(exc)) from exc
        return self._meta(key, meta, None)

    async def put_stream(self, key: str, chunks: AsyncIterable[bytes], *, content_type: str) -> int:
        """Store an object from chunks (a multipart upload on S3); its size in bytes."""
        attributes: Any = {"Content-Type": content_type} if self._keeps_content_type else None
        size = 0
        try:
            # Leaving the writer on an exception aborts the upload: no partial object remains.
            async with obstore.open_writer_async(
                self._store,
                check_key(key),
                attributes=attributes,
                buffer_size=STREAM_PART_BYTES,
                max_concurrency=STREAM_PARTS_IN_FLIGHT,
            ) as writer:
                async for chunk in chunks:
                    if chunk:
                        await writer.write(chunk)
                        size += len(chunk)
        except (BaseError, OSError) as exc:
            raise StorageUnavailable(str(exc)) from exc
        return size

    async def iter_bytes(
        self, key: str, *, chunk_size: int = STREAM_READ_BYTES
    ) -> AsyncIterator[bytes]:
        """An object's bytes, one ranged read per chunk."""
        size = (await self.head(key)).size
        for start in range(0, size, chunk_size):
            yield await self.get_range(key, start, min(start + chunk_size, size))

    def _meta(self, key: str, meta: Any, content_type: Any) -> ObjectMeta:
        return ObjectMeta(
            size=int(meta["size"]),
            etag=meta.get("e_tag"),
            content_type=str(content_type) if content_type else _content_type_of(key),
            last_modified=meta.get("last_modified"),
        )

    async def delete_many(self, keys: Sequence[str]) -> None:
        """Delete objects; missing ones are fine."""
        for key in keys:
            try:
                await obstore.delete_async(self._store, check_key(key))
            except (NotFoundError, FileNotFoundError):
                continue
            except (BaseError, OSError) as exc:
                raise StorageUnavailable(str(exc)) from exc

    async def list_keys(self, prefix: str) -> list[str]:
        """Every key under a prefix."""
        return [str(meta["path"]) for meta in await self._list(prefix or None)]

    async def total_bytes(self) -> int:
        """The size of everything stored."""
        return sum(int(meta["size"]) for meta in await self._list(None))

    async def _list(self, prefix: str | None) -> list[Any]:
        found: list[Any] = []
        try:
            async for chunk in obstore.list(self._store, prefix, chunk_size=1000):
                found.extend(chunk)
        except (NotFoundError, FileNotFoundError):
            return []
        except (BaseError, OSError) as exc:
            raise StorageUnavailable(str(exc)) from exc
        return found

    async def ping(self) -> None:
        """StorageUnavailable unless a listing answers."""
        try:
            stream = obstore.list(self._store, "ping/", chunk_size=1)
            async for _ in stream:
                break
        except (NotFoundError, FileNotFoundError):
            return
        except (BaseError, OSError) as exc:
            raise StorageUnavailable(str(exc)) from exc


def open_object_store(url: str, *, data_dir: Path) -> ObstoreObjectStore:
    """The store a GLINT_STORAGE_URL names: empty or file:// for disk, s3:// for S3."""
    if not url or url.startswith("file://"):
        root = Path(url.removeprefix("file://")) if url else data_dir / "media"
        root = root if root.is_absolute() else Path.cwd() / root
        root.mkdir(parents=True, exist_ok=True)
        return ObstoreObjectStore(LocalStore(root), keeps_content_type=False)
    parsed = urlparse(url)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise ValueError("storage URL must be file:///path or s3://bucket?endpoint=...")
    query = {key: values[-1] for key, values in parse_qs(parsed.query).items()}
    config: dict[str, Any] = {"region": query.get("region", "us-east-1")}
    if "endpoint" in query:
        config["endpoint"] = query["endpoint"]
    for name in ("access_key_id", "secret_access_key"):
        value = query.get(name) or os.environ.get(f"AWS_{name.upper()}")
        if value:
            config[name] = value
    store = S3Store(
        parsed.netloc,
        prefix=parsed.path.strip("/") or None,
        config=config,  # type: ignore[arg-type]
        client_options={
            "allow_http": config.get("endpoint", "").startswith("http://"),
            "connect_timeout": dt.timedelta(seconds=2),
            "timeout": dt.timedelta(seconds=30),
        },
        retry_config={"max_retries": 2, "retry_timeout": dt.timedelta(seconds=5)},
    )
    return ObstoreObjectStore(store, keeps_content_type=True)
