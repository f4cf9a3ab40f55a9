"""The image pipeline on a 12-megapixel JPEG (EXIF orientation + ICC profile), one core.

Compares Glint's whole pipeline (orient, sRGB, strip, filter, 4 sizes x WebP+JPEG, blurhash)
with a bare Pillow baseline doing only draft() + resize + encode of the same renditions.

    uv run python -m bench.pipeline [--runs 15] [--out bench/results/pipeline.json]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import statistics
import time
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


def timed(fn: object, data: bytes, runs: int) -> list[float]:
    """Milliseconds per run."""
    results = []
    for _ in range(runs):
        started = time.perf_counter()
        fn(data)  # type: ignore[operator]
        results.append((time.perf_counter() - started) * 1000)
    return results


def main() -> None:
    """Run both, interleaved, and report medians, p95, their ratio and peak RSS."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--out", default="bench/results/pipeline.json")
    args = parser.parse_args()
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as the target says
    data = twelve_megapixels()
    ours_fn = lambda d: imaging.process(d, filter_name="clarendon")  # noqa: E731
    ours_fn(data)
    baseline(data)  # warm caches and lazy imports before measuring
    ours, base = [], []
    for _ in range(args.runs):  # interleaved, so machine noise hits both alike
        ours += timed(ours_fn, data, 1)
        base += timed(baseline, data, 1)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {
        "input": {
            "width": 4000,
            "height": 3000,
            "bytes": len(data),
            "orientation": 6,
            "icc": "Display P3",
        },
        "runs": args.runs,
        "glint_ms": {
            "median": round(statistics.median(ours), 1),
            "p95": round(sorted(ours)[int(0.95 * (len(ours) - 1))], 1),
        },
        "baseline_ms": {
            "median": round(statistics.median(base), 1),
            "p95": round(sorted(base)[int(0.95 * (len(base) - 1))], 1),
        },
        "ratio_median": round(statistics.median(ours) / statistics.median(base), 3),
        "peak_rss_mb": round(peak_mb, 1),
        "targets": {"glint_ms": 300, "ratio": 1.15, "peak_rss_mb": 400},
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
