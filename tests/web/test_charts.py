"""The server-made SVG chart of the admin dashboard (glint/web/charts.py): well-formed SVG with
a title and a description, bars proportional to their values on a round axis, zero days as
empty slots, and a frame saying "No data" when there is nothing to draw."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from glint.web.charts import Frame, bar_chart, nice_ceiling

SVG = "{http://www.w3.org/2000/svg}"


def _parse(markup: str) -> ET.Element:
    return ET.fromstring(markup)  # noqa: S314 (our own output)


def _bars(root: ET.Element) -> list[ET.Element]:
    return [el for el in root.iter(f"{SVG}rect") if el.get("class") == "chart-bar"]


@pytest.mark.parametrize(
    ("value", "top"), [(0, 1), (1, 1), (2, 2), (3, 5), (7, 10), (10, 10), (11, 20), (480, 500)]
)
def test_the_axis_top_is_a_round_number_at_or_above_the_peak(value: int, top: int) -> None:
    assert nice_ceiling(value) == top


def test_bars_are_proportional_to_their_values() -> None:
    frame = Frame()
    points = [("Nov 1", 10), ("Nov 2", 5), ("Nov 3", 20), ("Nov 4", 1)]
    root = _parse(bar_chart(points, title="Posts per day", frame=frame))
    bars = _bars(root)
    assert [b.get("data-value") for b in bars] == ["10", "5", "20", "1"]
    heights = [float(b.get("height") or 0) for b in bars]
    # The peak (20) is the axis top, so it fills the plot; the rest scale with it.
    assert heights[2] == pytest.approx(frame.plot_height)
    assert heights[0] == pytest.approx(frame.plot_height / 2)
    assert heights[1] == pytest.approx(frame.plot_height / 4)
    assert heights[3] == pytest.approx(frame.plot_height / 20)
    for bar, height in zip(bars, heights, strict=True):  # every bar stands on the baseline
        assert float(bar.get("y") or 0) + height == pytest.approx(frame.baseline)
    xs = [float(b.get("x") or 0) for b in bars]
    assert xs == sorted(xs)  # in the order given, left to right
    tips = [b.find(f"{SVG}title") for b in bars]
    assert [t.text for t in tips if t is not None][1] == "Nov 2: 5 posts"


def test_zero_days_are_empty_slots_and_labels_skip() -> None:
    points = [(f"Day {n}", 3 if n == 9 else 0) for n in range(10)]
    root = _parse(bar_chart(points, title="t", label_every=4))
    heights = [float(b.get("height") or 0) for b in _bars(root)]
    assert len(heights) == 10 and heights.count(0.0) == 9
    labels = [t.text for t in root.iter(f"{SVG}text") if t.get("text-anchor") == "middle"]
    assert labels == ["Day 1", "Day 5", "Day 9"]  # every 4th back from the last: no crowding
    axis = [t.text for t in root.iter(f"{SVG}text") if t.get("text-anchor") == "end"]
    assert axis == ["0", "2", "5"]  # the peak of 3 on an axis up to 5
    assert heights[9] == pytest.approx(Frame().plot_height * 3 / 5)


def test_all_zero_days_draw_flat_bars_on_an_axis_of_one() -> None:
    root = _parse(bar_chart([("a", 0), ("b", 0)], title="t"))
    assert [float(b.get("height") or 0) for b in _bars(root)] == [0.0, 0.0]
    desc = root.find(f"{SVG}desc")
    assert desc is not None and desc.text == "0 posts from a to b; the most on a (0)."


def test_no_points_is_a_frame_that_says_so() -> None:
    root = _parse(bar_chart([], title="Posts per day"))
    assert _bars(root) == []
    assert [t.text for t in root.iter(f"{SVG}text")] == ["No data"]
    desc = root.find(f"{SVG}desc")
    assert desc is not None and desc.text == "No posts to show."


def test_the_chart_is_an_accessible_image_and_escapes_its_text() -> None:
    root = _parse(bar_chart([("<b>", 2)], title='Posts & "stories"', unit="items"))
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "chart-title chart-desc"
    title = root.find(f"{SVG}title")
    assert title is not None and title.text == 'Posts & "stories"'
    desc = root.find(f"{SVG}desc")
    assert desc is not None and desc.text == "2 items from <b> to <b>; the most on <b> (2)."
