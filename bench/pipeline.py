"""The image pipeline on a 12-megapixel JPEG (EXIF orientation + ICC profile), one core.

Compares Glint's whole pipeline (orient, sRGB, strip, filter, 4 sizes x WebP+JPEG, blurhash)
with a bare Pillow baseline doing only draft() + resize + encode of the same renditions. Both
run serially on the same single core (Glint does not split a photo over cores: the worker pool
spreads photos over them), interleaved, in wall and CPU time. Glint is also timed without a
filter, to show what the filter costs (its own pass, and encoders chewing a higher-contrast
picture).

glibc's heap is told to keep freed memory, for both: otherwise whichever runs after the other
pays for the page faults of memory the other returned to the kernel (interleaved, that made
Glint look ~10 ms slower than either runs in a process of its own). Faults per run are reported.

    uv run python -m bench.pipeline [--runs 15] [--out bench/results/pipeline.json]
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
    """Run all three, interleaved, and report medians, p95, their ratios and peak RSS."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--out", default="bench/results/pipeline.json")
    args = parser.parse_args()
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as the target says
    heap_kept = keep_freed_memory()
    data = twelve_megapixels()
    pipelines: dict[str, Callable[[bytes], object]] = {
        "glint": lambda d: imaging.process(d, filter_name="clarendon"),
        "baseline": baseline,
        "glint_no_filter": lambda d: imaging.process(d, filter_name="none"),
    }
    runs = {name: Runs() for name in pipelines}
    for fn in pipelines.values():
        fn(data)  # warm caches, lazy imports and the heap before measuring
    for _ in range(args.runs):  # interleaved, so machine noise hits all alike
        for name, fn in pipelines.items():
            runs[name].time(fn, data)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    glint, base, plain = (runs[name] for name in ("glint", "baseline", "glint_no_filter"))
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
        "glint_ms": glint.summary(),
        "baseline_ms": base.summary(),
        "glint_no_filter_ms": plain.summary(),
        "ratio_median": round(statistics.median(glint.wall) / statistics.median(base.wall), 3),
        "ratio_cpu_median": round(statistics.median(glint.cpu) / statistics.median(base.cpu), 3),
        "ratio_no_filter_median": round(
            statistics.median(plain.wall) / statistics.median(base.wall), 3
        ),
        "peak_rss_mb": round(peak_mb, 1),
        "targets": {"ratio": 1.10, "peak_rss_mb": 400},
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print(
        f"one core, serial: Glint {result['glint_ms']['median']} ms/photo (clarendon), "
        f"baseline {result['baseline_ms']['median']} ms, ratio {result['ratio_median']} "
        f"(CPU time {result['ratio_cpu_median']}, without filter "
        f"{result['ratio_no_filter_median']}), peak RSS {result['peak_rss_mb']} MB"
    )


if __name__ == "__main__":
    main()
