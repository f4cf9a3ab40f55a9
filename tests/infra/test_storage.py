"""One contract for object storage, run against local files and S3 (a moto server)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from glint.infra.storage import (
    STREAM_PART_BYTES,
    ObjectNotFound,
    ObstoreObjectStore,
    StorageUnavailable,
    check_key,
    open_object_store,
)
from tests.conftest import s3_url
from tests.live import free_port


@pytest.fixture(params=["local", "s3"])
async def store(
    request: pytest.FixtureRequest, tmp_path: Path, moto_endpoint: str
) -> AsyncIterator[ObstoreObjectStore]:
    """A fresh, empty store of each kind."""
    if request.param == "local":
        yield open_object_store("", data_dir=tmp_path)
    else:
        yield open_object_store(s3_url(moto_endpoint, tmp_path.name), data_dir=tmp_path)


async def test_put_get_roundtrip(store: ObstoreObjectStore) -> None:
    await store.put("p/1/abc/small.webp", b"RIFF....WEBP", content_type="image/webp")
    got = await store.get("p/1/abc/small.webp")
    assert got.data == b"RIFF....WEBP"
    assert got.meta.size == 12
    assert got.meta.content_type == "image/webp"
    head = await store.head("p/1/abc/small.webp")
    assert head.size == 12 and head.etag


async def test_etag_is_stable_and_changes_on_overwrite(store: ObstoreObjectStore) -> None:
    await store.put("k/a.jpg", b"one", content_type="image/jpeg")
    first = (await store.head("k/a.jpg")).etag
    assert (await store.head("k/a.jpg")).etag == first
    await asyncio.sleep(0.01)
    await store.put("k/a.jpg", b"two!", content_type="image/jpeg")
    assert (await store.head("k/a.jpg")).etag != first


async def test_get_range(store: ObstoreObjectStore) -> None:
    await store.put("r/data.jpg", bytes(range(100)), content_type="image/jpeg")
    assert await store.get_range("r/data.jpg", 10, 20) == bytes(range(10, 20))
    assert await store.get_range("r/data.jpg", 90, 100) == bytes(range(90, 100))


async def test_missing_objects(store: ObstoreObjectStore) -> None:
    with pytest.raises(ObjectNotFound):
        await store.get("nope/x.jpg")
    with pytest.raises(ObjectNotFound):
        await store.head("nope/x.jpg")
    await store.delete_many(["nope/x.jpg"])  # idempotent


async def test_list_delete_and_total(store: ObstoreObjectStore) -> None:
    for name in ("a", "b", "c"):
        await store.put(f"p/9/{name}.webp", b"12345", content_type="image/webp")
    await store.put("a/1/x.webp", b"1", content_type="image/webp")
    assert sorted(await store.list_keys("p/9")) == ["p/9/a.webp", "p/9/b.webp", "p/9/c.webp"]
    assert await store.total_bytes() == 16
    await store.delete_many(await store.list_keys("p/9"))
    assert await store.list_keys("p/9") == []
    assert await store.list_keys("a/1") == ["a/1/x.webp"]
    await store.ping()


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs", "a//b", "a/../b", "sp ace", "", "a/."])
def test_unsafe_keys_are_refused(key: str) -> None:
    with pytest.raises(ValueError, match="invalid storage key"):
        check_key(key)


async def test_dead_s3_is_unavailable_fast(tmp_path: Path) -> None:
    port = free_port()
    dead = open_object_store(s3_url(f"http://127.0.0.1:{port}"), data_dir=tmp_path)
    started = time.monotonic()
    with pytest.raises(StorageUnavailable):
        await dead.ping()
    with pytest.raises(StorageUnavailable):
        await dead.put("x/y.jpg", b"1", content_type="image/jpeg")
    assert time.monotonic() - started < 20


@pytest.mark.parametrize("url", ["s3://", "http://bucket", "s3:///nobucket"])
def test_bad_urls(tmp_path: Path, url: str) -> None:
    with pytest.raises(ValueError, match="storage URL"):
        open_object_store(url, data_dir=tmp_path)


async def _chunks(parts: list[bytes]) -> AsyncIterator[bytes]:
    for part in parts:
        yield part
        await asyncio.sleep(0)


async def test_put_stream_and_iter_bytes_roundtrip(store: ObstoreObjectStore) -> None:
    # Larger than one upload part, in uneven chunks: the parts are cut where the store likes.
    parts = [bytes([n % 251]) * (700_000 + n * 13) for n in range(14)]
    data = b"".join(parts)
    size = await store.put_stream("exports/1/2.zip", _chunks(parts), content_type="application/zip")
    assert size == len(data) > STREAM_PART_BYTES
    assert (await store.head("exports/1/2.zip")).content_type == "application/zip"
    assert (await store.get("exports/1/2.zip")).data == data
    read = [chunk async for chunk in store.iter_bytes("exports/1/2.zip", chunk_size=1_000_000)]
    assert b"".join(read) == data
    assert all(len(chunk) == 1_000_000 for chunk in read[:-1]) and 0 < len(read[-1]) <= 1_000_000


async def test_small_and_empty_streams(store: ObstoreObjectStore) -> None:
    assert await store.put_stream("s/a.json", _chunks([b"{", b"", b"}"]), content_type="x") == 2
    assert [c async for c in store.iter_bytes("s/a.json")] == [b"{}"]
    assert await store.put_stream("s/empty.json", _chunks([]), content_type="x") == 0
    assert [c async for c in store.iter_bytes("s/empty.json")] == []


async def test_failed_stream_leaves_nothing(store: ObstoreObjectStore) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"x" * (STREAM_PART_BYTES + 10)  # one part already uploaded
        raise RuntimeError("the producer failed")

    with pytest.raises(RuntimeError, match="producer failed"):
        await store.put_stream("exports/9/1.zip", broken(), content_type="application/zip")
    assert await store.list_keys("exports/9") == []
    with pytest.raises(ObjectNotFound):
        await store.head("exports/9/1.zip")


async def test_iter_bytes_of_missing_object(store: ObstoreObjectStore) -> None:
    with pytest.raises(ObjectNotFound):
        async for _ in store.iter_bytes("nope/x.zip"):
            pass
    with pytest.raises(ValueError, match="invalid storage key"):
        await store.put_stream("../x.zip", _chunks([b"1"]), content_type="x")
