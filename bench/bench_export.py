"""A data export of a member with 5,000 photos: Glint's streamed ZIP against the naive one.

Both write the same archive of the member's posts (posts.json, profile.json and every original
photo, stored) to the same local object store, reading photos one at a time:
- streaming: Glint's export (`export_chunks`: pages of rows, photos one by one, the ZIP drained
  into `ObjectStore.put_stream` after each piece) — the whole export, every section;
- naive: every post loaded in one query, the ZIP built in a BytesIO, then one `put`.

Each variant runs in a fresh child process (peak RSS is a process's lifetime high): once for
time and peak RSS (ru_maxrss, and psutil sampled every 10 ms), once more under tracemalloc for
the peak of Python allocations (tracemalloc slows it down, so its time is not the figure).
Photos are real JPEG and WebP files made with Pillow, each one different.

    uv run --all-groups python -m bench.bench_export [--photos 5000]
        [--out bench/results/export.json]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import io
import json
import resource
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
import zipfile
from functools import cache
from pathlib import Path
from typing import Any

import orjson
import psutil
import sqlalchemy as sa
from PIL import Image, ImageDraw

from glint import migrate
from glint.accounts.models import User
from glint.config import Settings
from glint.infra import runtime as runtime_mod
from glint.infra.db import utcnow
from glint.media import service as media_service
from glint.ownership import exports
from glint.ownership.export_content import profile_item
from glint.ownership.export_run import export_chunks
from glint.posts.models import Post, PostMedia

RESULTS = Path(__file__).resolve().parent / "results"
USER_ID = 1
SAMPLE_SECONDS = 0.01


def bench_settings(data_dir: Path) -> Settings:
    """Embedded settings on a data folder of the benchmark's own."""
    return Settings(data_dir=data_dir, secret_key="bench-export-" + "x" * 32, log_level="warning")


@cache
def _backdrop(variant: int) -> Image.Image:
    size = (480, 360)
    base = Image.linear_gradient("L").resize(size).convert("RGB")
    return Image.blend(base, Image.effect_noise(size, 30 + variant * 5).convert("RGB"), 0.35)


def photo(index: int) -> tuple[bytes, str]:
    """A small, distinct photo-like picture (noise over a gradient, its number drawn on it);
    every tenth one WebP, the rest JPEG."""
    img = _backdrop(index % 8).copy()
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 340, 480, 360), fill=((index * 37) % 256, (index * 11) % 256, 90))
    draw.text((20, 20 + index % 300), f"photo {index}", fill=(255, (index * 7) % 256, 0))
    out = io.BytesIO()
    if index % 10 == 9:
        img.save(out, "WEBP", quality=75, method=0)
        return out.getvalue(), "image/webp"
    img.save(out, "JPEG", quality=80)
    return out.getvalue(), "image/jpeg"


async def seed(data_dir: Path, photos: int) -> dict[str, Any]:
    """One member with `photos` posts of one photo each, the originals in the object store."""
    settings = bench_settings(data_dir)
    await migrate.upgrade_async(settings.effective_database_url)
    rt = await runtime_mod.start(settings)
    started = time.perf_counter()
    stored = 0
    try:
        now = utcnow()
        async with rt.db.session() as session:
            session.add(_member(now))
            await session.commit()
        for first in range(0, photos, 500):
            async with rt.db.session() as session:
                for index in range(first, min(first + 500, photos)):
                    stored += await _post(rt, session, index, now)
                await session.commit()
    finally:
        await rt.close()
    return {"photos": photos, "photo_bytes": stored, "seconds": time.perf_counter() - started}


def _member(now: dt.datetime) -> User:
    return User(
        id=USER_ID,
        username="many",
        email="many@example.com",
        password_hash="-",  # noqa: S106 (no one signs in as this member)
        display_name="Many Photos",
        bio="",
        website="",
        is_private=False,
        role="user",
        follower_count=0,
        following_count=0,
        post_count=0,
        created_at=now,
        last_active_at=now,
    )


async def _post(rt: runtime_mod.Runtime, session: Any, index: int, now: dt.datetime) -> int:
    data, mime = photo(index)
    post_id = rt.ids.next_id()
    key = media_service.original_key(media_service.KIND_POST, post_id, 0)
    await rt.storage.put(key, data, content_type=mime)
    session.add(
        Post(
            id=post_id,
            author_id=USER_ID,
            caption=f"post {index} #bench",
            status="published",
            created_at=now,
            published_at=now,
        )
    )
    session.add(
        PostMedia(
            id=rt.ids.next_id(),
            post_id=post_id,
            position=0,
            original_key=key,
            base_key=media_service.new_base_key(media_service.KIND_POST, post_id),
            alt_text=f"photo {index}",
            width=480,
            height=360,
        )
    )
    return len(data)


async def streaming(rt: runtime_mod.Runtime, key: str) -> int:
    """Glint's export, streamed into the store."""

    async def report(progress: float) -> None:
        return None

    chunks = export_chunks(rt.db, rt.storage, user_id=USER_ID, report=report, now=utcnow())
    return await rt.storage.put_stream(key, chunks, content_type=exports.EXPORT_CONTENT_TYPE)


async def naive(rt: runtime_mod.Runtime, key: str) -> int:
    """Everything at once: all posts in one query, the ZIP in a BytesIO, one put."""
    buffer = io.BytesIO()
    async with rt.db.session() as session:
        user = await session.get(User, USER_ID)
        assert user is not None
        rows = (
            await session.execute(
                sa.select(Post, PostMedia)
                .join(PostMedia, PostMedia.post_id == Post.id)
                .where(Post.author_id == USER_ID)
                .order_by(Post.id)
            )
        ).all()
    posts = []
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("profile.json", orjson.dumps(profile_item(user)))
        for post, media in rows:
            data = (await rt.storage.get(media.original_key)).data
            name = f"media/posts/{post.id}/0.jpg"
            archive.writestr(name, data, compress_type=zipfile.ZIP_STORED)
            posts.append({"id": str(post.id), "caption": post.caption, "photo": name})
        archive.writestr("posts.json", orjson.dumps(posts))
    data = buffer.getvalue()
    await rt.storage.put(key, data, content_type=exports.EXPORT_CONTENT_TYPE)
    return len(data)


class PeakSampler:
    """The process's resident set, sampled on a thread (psutil), its peak kept."""

    def __init__(self) -> None:
        self.process = psutil.Process()
        self.peak = self.process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_SECONDS):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


async def run_variant(data_dir: Path, variant: str, traced: bool) -> dict[str, Any]:
    """One variant in this (fresh) process: its time, memory and archive size."""
    rt = await runtime_mod.start(bench_settings(data_dir))
    key = f"exports/{USER_ID}/{variant}.zip"
    build = streaming if variant == "streaming" else naive
    try:
        baseline = psutil.Process().memory_info().rss
        if traced:
            tracemalloc.start()
        started = time.perf_counter()
        with PeakSampler() as sampler:
            size = await build(rt, key)
        seconds = time.perf_counter() - started
        result: dict[str, Any] = {"variant": variant, "zip_bytes": size}
        if traced:
            result["tracemalloc_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
        else:
            result.update(
                seconds=seconds,
                rss_baseline_mb=baseline / 2**20,
                rss_peak_mb=sampler.peak / 2**20,
                ru_maxrss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            )
        with zipfile.ZipFile(data_dir / "media" / key) as archive:  # a valid ZIP, counted
            result["entries"] = len(archive.infolist())
        await rt.storage.delete_many([key])
        return result
    finally:
        await rt.close()


def child(data_dir: Path, variant: str, traced: bool) -> dict[str, Any]:
    """Run one variant in a child process of its own; its figures."""
    command = [
        sys.executable,
        "-m",
        "bench.bench_export",
        "--child",
        variant,
        "--data",
        str(data_dir),
    ] + (["--traced"] if traced else [])
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=5000)
    parser.add_argument("--out", type=Path, default=RESULTS / "export.json")
    parser.add_argument("--child", choices=["streaming", "naive"])
    parser.add_argument("--data", type=Path)
    parser.add_argument("--traced", action="store_true")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(run_variant(args.data, args.child, args.traced))))
        return
    with tempfile.TemporaryDirectory(prefix="glint-bench-export-") as folder:
        data_dir = Path(folder)
        seeded = asyncio.run(seed(data_dir, args.photos))
        print(
            f"seeded {seeded['photos']} photos ({seeded['photo_bytes'] / 2**20:.0f} MB) "
            f"in {seeded['seconds']:.0f} s"
        )
        figures = {
            variant: {**child(data_dir, variant, False), **child(data_dir, variant, True)}
            for variant in ("streaming", "naive")
        }
    report(seeded, figures)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"seed": seeded, "variants": figures}, indent=2) + "\n")
    print(f"written to {args.out}")


def report(seeded: dict[str, Any], figures: dict[str, dict[str, Any]]) -> None:
    """The two variants side by side."""
    rows = [
        ("time (s)", "seconds", "{:.1f}"),
        ("ZIP size (MB)", "zip_bytes", "{:.1f}"),
        ("entries", "entries", "{}"),
        ("RSS before (MB)", "rss_baseline_mb", "{:.0f}"),
        ("peak RSS, psutil (MB)", "rss_peak_mb", "{:.0f}"),
        ("peak RSS, ru_maxrss (MB)", "ru_maxrss_mb", "{:.0f}"),
        ("peak Python alloc, tracemalloc (MB)", "tracemalloc_peak_mb", "{:.1f}"),
    ]
    print(f"{'':38}{'streaming':>12}{'naive':>12}")
    for label, name, fmt in rows:
        cells = []
        for variant in ("streaming", "naive"):
            value = figures[variant][name]
            cells.append(fmt.format(value / 2**20 if name == "zip_bytes" else value))
        print(f"{label:38}{cells[0]:>12}{cells[1]:>12}")


if __name__ == "__main__":
    main()
