"""The image pipeline on a 12-megapixel JPEG (EXIF orientation + ICC profile), one core.

Compares Glint's whole pipeline (orient, sRGB, strip, filter, 4 sizes x WebP+JPEG, blurhash)
with a bare Pillow baseline doing only draft() + resize + encode of the same renditions. Both
run serially on the same single core (Glint does not split a photo over cores: the worker pool
spreads photos over them), interleaved, in wall and CPU time.

The target ("pipeline, 12 MP JPEG, all renditions + blurhash <= 1.10x bare Pillow") names no
filter, so the headline `ratio` is Glint without one (`ratio_no_filter`). Glint with the
clarendon filter is timed beside it (`ratio_clarendon`): what a filter adds, its own pass and
encoders chewing a higher-contrast picture. Both are always reported.

glibc's heap is told to keep freed memory, for both: otherwise whichever runs after the other
pays for the page faults of memory the other returned to the kernel (interleaved, that made
Glint look ~10 ms slower than either runs in a process of its own). Faults per run are reported.

    uv run --all-groups python -m bench.pipeline [--runs 15] [--out bench/results/pipeline.json]
"""

from __future__ import annotations

import argparse
import ctypes
import io
import json
import os
import resource
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageOps

from glint.media import imaging


def twelve_megapixels() -> bytes:
    """A 4000x3000 photo-like JPEG (gradients and noise) with orientation 6 and a P3 profile."""
    from tests.factories.images import display_p3_profile

    base = Image.effect_mandelbrot((4000, 3000), (-2.2, -1.2, 1.0, 1.2), 60).convert("RGB")
    noise = Image.effect_noise((4000, 3000), 40).convert("RGB")
    photo = Image.blend(base, noise, 0.3)
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    photo.save(out, "JPEG", quality=92, exif=exif, icc_profile=display_p3_profile())
    return out.getvalue()


def baseline(data: bytes) -> int:
    """The unavoidable work: shrink-on-load decode, resize to each of the same rendition sizes
    (the upright photo is 3000x4000, so the stored one is resized to the transposed sizes),
    and encode each twice. No orientation, colour management, filter or blurhash."""
    img = Image.open(io.BytesIO(data))
    img.draft("RGB", (1080, 1080))
    img = img.convert("RGB")
    total = 0
    source = img
    sized = {}
    for name, width in (("large", 1080), ("medium", 640), ("small", 320)):
        # Stored landscape, shown portrait: the displayed width is the stored height.
        stored_height = width
        stored_width = round(source.width * stored_height / source.height)
        resample = Image.Resampling.LANCZOS if name == "large" else Image.Resampling.BICUBIC
        source = source.resize((stored_width, stored_height), resample, reducing_gap=2.0)
        sized[name] = source
    sized["thumbnail"] = ImageOps.fit(sized["medium"], (150, 150), Image.Resampling.LANCZOS)
    for im in sized.values():
        for fmt, options in (
            ("WEBP", {"quality": 80, "method": 2}),
            ("JPEG", {"quality": 85, "progressive": True}),
        ):
            out = io.BytesIO()
            im.save(out, fmt, **options)
            total += out.tell()
    return total


def keep_freed_memory() -> bool:
    """Ask glibc not to hand freed memory back to the kernel (nor to mmap big blocks), so that
    no run pays page faults for an earlier run's frees. False where that cannot be asked."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_mmap_threshold = -1, -3
        return bool(
            libc.mallopt(m_trim_threshold, 512 << 20) and libc.mallopt(m_mmap_threshold, 32 << 20)
        )
    except (OSError, AttributeError):
        return False


@dataclass
class Runs:
    """Wall ms, CPU ms and minor page faults of each run."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    faults: list[int] = field(default_factory=list)

    def time(self, fn: Callable[[bytes], object], data: bytes) -> None:
        faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        cpu, wall = time.thread_time(), time.perf_counter()
        fn(data)
        self.wall.append((time.perf_counter() - wall) * 1000)
        self.cpu.append((time.thread_time() - cpu) * 1000)
        self.faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults)

    def summary(self) -> dict[str, float]:
        return {
            "median": round(statistics.median(self.wall), 1),
            "p95": round(sorted(self.wall)[int(0.95 * (len(self.wall) - 1))], 1),
            "cpu_median": round(statistics.median(self.cpu), 1),
            "faults_median": statistics.median(self.faults),
        }


def main() -> None:
    """Run all three, interleaved, and report medians, p95, both ratios and peak RSS."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--out", default="bench/results/pipeline.json")
    args = parser.parse_args()
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as the target says
    heap_kept = keep_freed_memory()
    data = twelve_megapixels()
    pipelines: dict[str, Callable[[bytes], object]] = {
        "glint_no_filter": lambda d: imaging.process(d, filter_name="none"),
        "baseline": baseline,
        "glint_clarendon": lambda d: imaging.process(d, filter_name="clarendon"),
    }
    runs = {name: Runs() for name in pipelines}
    for fn in pipelines.values():
        fn(data)  # warm caches, lazy imports and the heap before measuring
    for _ in range(args.runs):  # interleaved, so machine noise hits all alike
        for name, fn in pipelines.items():
            runs[name].time(fn, data)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    plain, base, filtered = (runs[name] for name in pipelines)

    def ratio(ours: list[float], theirs: list[float]) -> float:
        return round(statistics.median(ours) / statistics.median(theirs), 3)

    target = 1.10
    result = {
        "input": {
            "width": 4000,
            "height": 3000,
            "bytes": len(data),
            "orientation": 6,
            "icc": "Display P3",
        },
        "runs": args.runs,
        "cores": 1,
        "glint_parallel": False,
        "heap_kept_for_both": heap_kept,
        "headline": "ratio = ratio_no_filter: the target names no filter",
        "ratio": ratio(plain.wall, base.wall),
        "ratio_no_filter": ratio(plain.wall, base.wall),
        "ratio_no_filter_cpu": ratio(plain.cpu, base.cpu),
        "ratio_clarendon": ratio(filtered.wall, base.wall),
        "ratio_clarendon_cpu": ratio(filtered.cpu, base.cpu),
        "glint_no_filter_ms": plain.summary(),
        "glint_clarendon_ms": filtered.summary(),
        "baseline_ms": base.summary(),
        "peak_rss_mb": round(peak_mb, 1),
        "targets": {"ratio": target, "peak_rss_mb": 400},
        "ratio_target_met": ratio(plain.wall, base.wall) <= target,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print(
        f"one core, serial, median of {args.runs}: baseline {base.summary()['median']} ms/photo; "
        f"Glint without filter {plain.summary()['median']} ms, ratio {result['ratio_no_filter']} "
        f"(headline, target <= {target}); Glint with clarendon {filtered.summary()['median']} "
        f"ms, ratio {result['ratio_clarendon']}; peak RSS {result['peak_rss_mb']} MB"
    )


if __name__ == "__main__":
    main()
