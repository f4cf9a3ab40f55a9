"""Benchmark plots drawn with Pillow (no plotting library needed): latency over time, histogram."""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageDraw

WIDTH, HEIGHT, MARGIN = 1200, 480, 60
BLUE, RED, GREY, TEXT = (0, 149, 246), (237, 73, 86), (219, 219, 219), (38, 38, 38)


def _axes(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], title: str) -> None:
    left, top, right, bottom = box
    draw.line([(left, top), (left, bottom), (right, bottom)], fill=TEXT, width=1)
    draw.text((left, top - 30), title, fill=TEXT)


def latency_png(path: Path, *, title: str, points: list[tuple[float, float]]) -> None:
    """Left: each request's server latency over time, with p99 per second. Right: histogram."""
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    draw.text((MARGIN, 10), title, fill=TEXT)
    values = [ms for _, ms in points if not math.isnan(ms)]
    if not values:
        image.save(path)
        return
    ceiling = sorted(values)[int(len(values) * 0.999) - 1 if len(values) > 1 else 0] * 1.1 or 1.0
    duration = max(t for t, _ in points) or 1.0
    # Latency over time.
    box = (MARGIN, 70, WIDTH // 2 - 20, HEIGHT - MARGIN)
    _axes(draw, box, "server latency (ms) over time (s); red: p99 of each second")
    left, top, right, bottom = box

    def xy(t: float, ms: float) -> tuple[float, float]:
        x = left + (right - left) * t / duration
        y = bottom - (bottom - top) * min(ms, ceiling) / ceiling
        return x, y

    for t, ms in points[:: max(1, len(points) // 20_000)]:
        x, y = xy(t, ms)
        draw.point((x, y), fill=BLUE)
    by_second: dict[int, list[float]] = {}
    for t, ms in points:
        by_second.setdefault(int(t), []).append(ms)
    p99 = [
        xy(second + 0.5, sorted(ms)[int(len(ms) * 0.99) - 1 if len(ms) > 1 else 0])
        for second, ms in sorted(by_second.items())
    ]
    if len(p99) > 1:
        draw.line(p99, fill=RED, width=2)
    for fraction in (0.25, 0.5, 0.75, 1.0):
        y = bottom - (bottom - top) * fraction
        draw.line([(left, y), (right, y)], fill=GREY)
        draw.text((8, y - 6), f"{ceiling * fraction:.1f}", fill=TEXT)
    draw.text((right - 40, bottom + 8), f"{duration:.0f} s", fill=TEXT)
    # Histogram.
    box = (WIDTH // 2 + 40, 70, WIDTH - MARGIN, HEIGHT - MARGIN)
    _axes(draw, box, "histogram of server latency (ms)")
    left, top, right, bottom = box
    bins = 60
    counts = [0] * bins
    for ms in values:
        counts[min(bins - 1, int(ms / ceiling * bins))] += 1
    tallest = max(counts) or 1
    width = (right - left) / bins
    for index, count in enumerate(counts):
        x0 = left + index * width
        draw.rectangle(
            [x0, bottom - (bottom - top) * count / tallest, x0 + width - 1, bottom], fill=BLUE
        )
    for fraction in (0.0, 0.5, 1.0):
        draw.text(
            (left + (right - left) * fraction - 10, bottom + 8),
            f"{ceiling * fraction:.1f}",
            fill=TEXT,
        )
    image.save(path)


def bar_panel(
    draw: ImageDraw.ImageDraw,
    box: tuple[int, int, int, int],
    title: str,
    groups: list[tuple[str, dict[str, float]]],
) -> None:
    """p50 / p90 / p99 bars per named group, scaled to the panel's highest p99."""
    left, upper, right, bottom = box
    draw.line([(left, upper), (left, bottom), (right, bottom)], fill=TEXT)
    draw.text((left, upper - 30), title, fill=TEXT)
    top = max((g.get("p99", 0) for _, g in groups), default=1) * 1.1 or 1.0
    slot = (right - left) / len(groups)
    colours = [BLUE, (120, 190, 250), RED]
    for index, (name, values) in enumerate(groups):
        x = left + index * slot + 8
        bar = (slot - 16) / 3
        for k, key in enumerate(("p50", "p90", "p99")):
            value = values.get(key, 0)
            y = bottom - (bottom - upper) * value / top
            draw.rectangle([x + k * bar, y, x + (k + 1) * bar - 2, bottom], fill=colours[k])
            draw.text((x + k * bar, y - 12), f"{value:.0f}", fill=TEXT)
        draw.text((x, bottom + 8), name, fill=TEXT)
