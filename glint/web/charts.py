"""Small charts drawn on the server as inline SVG: no script, no CDN, readable by screen readers
(role="img" with a <title> and a <desc> that says what the bars say). Colours come from the
stylesheet's classes (.chart-bar, .chart-axis, …), so both themes apply."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape


@dataclass(frozen=True, slots=True)
class Frame:
    """The drawing area inside the SVG: margins for the axis labels around the bars."""

    width: int = 640
    height: int = 220
    left: int = 40
    right: int = 8
    top: int = 12
    bottom: int = 28

    @property
    def plot_width(self) -> float:
        """Width of the bars' area."""
        return float(self.width - self.left - self.right)

    @property
    def plot_height(self) -> float:
        """Height of the bars' area (the tallest bar)."""
        return float(self.height - self.top - self.bottom)

    @property
    def baseline(self) -> float:
        """The y of the zero line."""
        return float(self.height - self.bottom)


def nice_ceiling(value: int) -> int:
    """The axis top: the value rounded up to 1, 2 or 5 times a power of ten (at least 1)."""
    if value <= 1:
        return 1
    power = int(10 ** math.floor(math.log10(value)))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power  # unreachable: value <= 10 * power always


def _num(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _axes(frame: Frame, top: int) -> list[str]:
    """The zero line and the y labels (0, half, top) with faint grid lines."""
    parts = []
    for value in sorted({0, top // 2, top}):
        y = frame.baseline - frame.plot_height * value / top
        parts.append(
            f'<line class="chart-grid" x1="{frame.left}" x2="{frame.width - frame.right}" '
            f'y1="{_num(y)}" y2="{_num(y)}"/>'
        )
        parts.append(
            f'<text class="chart-label" x="{frame.left - 6}" y="{_num(y + 4)}" '
            f'text-anchor="end">{value:,}</text>'
        )
    return parts


def bar_chart(
    points: Sequence[tuple[str, int]],
    *,
    title: str,
    unit: str = "posts",
    label_every: int = 7,
    frame: Frame | None = None,
) -> Markup:
    """A bar chart of (label, value) points in order: bars proportional to their value on an
    axis from 0 to a round top, every `label_every`-th label under the bars counting back from
    the last (so the newest is always named), each bar's own value in its tooltip. No points:
    the frame with "No data"."""
    box = frame or Frame()
    summary = _summary(points, unit)
    head = (
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'viewBox="0 0 {box.width} {box.height}" aria-labelledby="chart-title chart-desc">'
        f'<title id="chart-title">{escape(title)}</title>'
        f'<desc id="chart-desc">{escape(summary)}</desc>'
    )
    if not points:
        body = [
            f'<text class="chart-empty" x="{box.width // 2}" y="{box.height // 2}" '
            f'text-anchor="middle">No data</text>'
        ]
        return Markup(head + "".join(body) + "</svg>")  # noqa: S704 (escaped above)
    top = nice_ceiling(max(value for _, value in points))
    slot = box.plot_width / len(points)
    gap = min(2.0, slot * 0.2)
    body = _axes(box, top)
    for index, (label, value) in enumerate(points):
        x = box.left + index * slot
        height = box.plot_height * max(value, 0) / top
        tip = f"{label}: {value:,} {unit}"
        body.append(
            f'<rect class="chart-bar" x="{_num(x + gap / 2)}" y="{_num(box.baseline - height)}" '
            f'width="{_num(slot - gap)}" height="{_num(height)}" data-value="{value}">'
            f"<title>{escape(tip)}</title></rect>"
        )
        if (len(points) - 1 - index) % label_every == 0:
            body.append(
                f'<text class="chart-label" x="{_num(x + slot / 2)}" '
                f'y="{box.height - 8}" text-anchor="middle">{escape(label)}</text>'
            )
    body.append(
        f'<line class="chart-axis" x1="{box.left}" x2="{box.width - box.right}" '
        f'y1="{_num(box.baseline)}" y2="{_num(box.baseline)}"/>'
    )
    return Markup(head + "".join(body) + "</svg>")  # noqa: S704 (every text escaped)


def _summary(points: Sequence[tuple[str, int]], unit: str) -> str:
    """What the chart shows, in words (its <desc>)."""
    if not points:
        return f"No {unit} to show."
    total = sum(value for _, value in points)
    label, peak = max(points, key=lambda point: point[1])
    return (
        f"{total:,} {unit} from {points[0][0]} to {points[-1][0]}; the most on {label} ({peak:,})."
    )
