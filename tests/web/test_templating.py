"""The template helpers, without a server: escaping and linking, srcset, times, placeholders,
and the filter previews against the server's own filters."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markupsafe import escape
from PIL import Image

from glint.media import filters as media_filters
from glint.posts.schemas import MediaOut, SizeUrls
from glint.web import filter_preview
from glint.web.rendering import safe_next
from glint.web.templating import average_colour, linkify, relative_time, srcset
from tests.factories import images


def test_linkify_escapes_everything_and_links_tags_and_names() -> None:
    html = linkify('<img src=x onerror=alert(1)> #Sunset & @bob. "#1" @al')
    assert "<img" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert '<a class="tag" href="/explore/tags/sunset">#Sunset</a>' in html
    assert '<a class="mention" href="/bob">@bob</a>.' in html  # the full stop is not the name
    assert "&#34;#1&#34;" in html  # a number is no hashtag
    assert "@al" in html and 'href="/al"' not in html  # too short to be a username
    assert "&amp;" in html


def test_linkify_does_not_mistake_entities_for_hashtags() -> None:
    html = linkify("it's café#latte and a&#39;b")
    assert 'href="/explore/tags/39' not in html
    assert "#latte" in html and "/explore/tags/latte" not in html  # glued to a word


@given(st.text(max_size=200))
def test_linkify_never_lets_markup_through(text: str) -> None:
    html = str(linkify(text))
    # Take our own link markup away: what is left is exactly the escaped text.
    plain = re.sub(r'<a class="(tag|mention)" href="[^"<>]*">', "", html).replace("</a>", "")
    assert plain == str(escape(text))
    assert "<" not in plain


def _media(width: int, height: int) -> MediaOut:
    urls = SizeUrls(thumbnail="/m/t", small="/m/s", medium="/m/m", large="/m/l")
    return MediaOut(
        width=width,
        height=height,
        aspect_ratio=width / height,
        blurhash="LEHV6nWB2yk8pyo0adR*.7kCMdnj",
        alt_text=None,
        urls=urls,
        jpeg_urls=urls,
    )


def test_srcset_names_true_widths_and_keeps_crops_out_of_full_photos() -> None:
    assert srcset(_media(1080, 720)) == "/m/s 320w, /m/m 640w, /m/l 1080w"
    assert srcset(_media(1080, 1080)) == "/m/t 150w, /m/s 320w, /m/m 640w, /m/l 1080w"
    # Square tiles: the square thumbnail, then the 640 and 1080 renditions described by the
    # square the tile crops out of them (no 320: a ~300 px tile at 2x needs 600 real pixels).
    assert srcset(_media(1080, 720), square=True) == "/m/t 150w, /m/m 427w, /m/l 720w"
    assert srcset(_media(3000, 3000), square=True) == "/m/t 150w, /m/m 640w, /m/l 1080w"
    assert srcset(_media(720, 1280), square=True) == "/m/t 150w, /m/m 640w, /m/l 720w"
    assert srcset(_media(500, 400), square=True) == "/m/t 150w, /m/m 400w"
    # A 500 px original is never upscaled: medium and large are both 500 wide, listed once.
    assert srcset(_media(500, 400)) == "/m/s 320w, /m/m 500w"


def test_relative_time() -> None:
    now = dt.datetime(2026, 6, 15, 12, 0, tzinfo=dt.UTC)
    cases = {
        dt.timedelta(seconds=30): "just now",
        dt.timedelta(minutes=5): "5m",
        dt.timedelta(hours=3): "3h",
        dt.timedelta(days=2): "2d",
        dt.timedelta(days=15): "2w",
        dt.timedelta(days=60): "Apr 16",
        dt.timedelta(days=400): "May 11, 2025",
    }
    for age, text in cases.items():
        assert relative_time(now - age, now) == text


def test_average_colour_reads_the_blurhash() -> None:
    import blurhash

    solid = Image.new("RGB", (32, 24), (200, 40, 90))
    hashed = blurhash.encode(solid, x_components=4, y_components=3)
    colour = average_colour(hashed)
    rgb = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    assert all(abs(a - b) <= 1 for a, b in zip(rgb, (200, 40, 90), strict=True)), colour
    assert average_colour("x") == "#dbdbdb"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/explore", "/explore"),
        ("/p/1?x=2", "/p/1?x=2"),
        (None, "/"),
        ("https://evil.example/", "/"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
    ],
)
def test_safe_next(target: str | None, expected: str) -> None:
    assert safe_next(target) == expected


def _preview(img: Image.Image, name: str) -> Image.Image:
    """What the SVG filter computes, step for step, in Pillow."""
    look = filter_preview.LOOKS[name]
    source = img
    if look.grayscale:
        grey = img.convert("L")
        source = Image.merge("RGB", (grey, grey, grey))
    table: list[int] = []
    for steps in (look.red, look.green, look.blue):
        table.extend(round(255 * filter_preview.apply_steps(steps, v / 255)) for v in range(256))
    out = source.point(table)
    if look.saturation != 1.0:
        m = filter_preview.saturation_matrix(look.saturation)
        out = out.convert("RGB", (*m[0:3], 0.0, *m[5:8], 0.0, *m[10:13], 0.0))
    return out


@pytest.mark.parametrize("name", [f for f in media_filters.FILTERS if f != "none"])
def test_filter_previews_match_the_server_filters(name: str) -> None:
    picture = images.picture(240, 160)
    server = media_filters.apply_filter(picture, name).tobytes()
    preview = _preview(picture, name).tobytes()
    worst = max(abs(a - b) for a, b in zip(server, preview, strict=True))
    assert worst <= 2, f"{name}: preview differs from the server by {worst} levels"


def test_every_server_filter_has_a_preview() -> None:
    assert set(filter_preview.LOOKS) == set(media_filters.FILTERS) - {"none"}
    defs = str(filter_preview.svg_defs())
    for name in filter_preview.LOOKS:
        assert f'id="f-{name}"' in defs
    assert 'color-interpolation-filters="sRGB"' in defs
