"""The named photo filters: per-channel tone curves plus saturation, one LUT pass each."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from PIL import Image, ImageOps

FILTERS: tuple[str, ...] = (
    "none",
    "clarendon",
    "gingham",
    "juno",
    "lark",
    "moon",
    "reyes",
    "valencia",
)

Curve = Callable[[float], float]


def _clamp(value: float) -> int:
    return max(0, min(255, round(value)))


def _contrast(amount: float, pivot: float = 128.0) -> Curve:
    return lambda v: pivot + (v - pivot) * amount


def _lift(black: float, white: float) -> Curve:
    # Maps 0..255 onto black..white: a raised black point is the "faded film" look.
    return lambda v: black + v * (white - black) / 255.0


def _gamma(g: float) -> Curve:
    return lambda v: 255.0 * (v / 255.0) ** g


def _chain(*curves: Curve) -> Curve:
    def apply(value: float) -> float:
        for curve in curves:
            value = curve(value)
        return value

    return apply


@dataclass(frozen=True)
class Look:
    """A filter: one tone curve per channel, then a saturation factor."""

    red: Curve
    green: Curve
    blue: Curve
    saturation: float = 1.0
    grayscale: bool = False


def _identity(value: float) -> float:
    return value


_LOOKS: dict[str, Look] = {
    # Brighter highlights, cooler shadows, punchier colour.
    "clarendon": Look(
        red=_chain(_contrast(1.2), _lift(0, 255)),
        green=_chain(_contrast(1.2), _lift(4, 255)),
        blue=_chain(_contrast(1.15), _lift(22, 255)),
        saturation=1.35,
    ),
    # Washed out, slightly warm, low contrast.
    "gingham": Look(
        red=_chain(_contrast(0.85), _lift(28, 245)),
        green=_chain(_contrast(0.85), _lift(26, 240)),
        blue=_chain(_contrast(0.85), _lift(30, 232)),
        saturation=0.8,
    ),
    # Warm and saturated, reds pushed.
    "juno": Look(
        red=_chain(_gamma(0.88), _contrast(1.1)),
        green=_chain(_gamma(0.95), _contrast(1.05)),
        blue=_chain(_gamma(1.1), _contrast(1.0)),
        saturation=1.3,
    ),
    # Brightened, desaturated, cool-leaning.
    "lark": Look(
        red=_chain(_gamma(0.9), _lift(10, 250)),
        green=_chain(_gamma(0.82), _lift(12, 255)),
        blue=_chain(_gamma(0.8), _lift(14, 255)),
        saturation=0.85,
    ),
    # Black and white with extra contrast.
    "moon": Look(
        red=_chain(_contrast(1.25), _lift(8, 250)),
        green=_chain(_contrast(1.25), _lift(8, 250)),
        blue=_chain(_contrast(1.25), _lift(8, 250)),
        grayscale=True,
    ),
    # Vintage: faded, warm highlights, low saturation.
    "reyes": Look(
        red=_chain(_lift(40, 250), _gamma(0.9)),
        green=_chain(_lift(36, 240), _gamma(0.92)),
        blue=_chain(_lift(34, 220), _gamma(0.95)),
        saturation=0.7,
    ),
    # Warm, faded, golden cast.
    "valencia": Look(
        red=_chain(_lift(24, 255), _gamma(0.9)),
        green=_chain(_lift(16, 245), _gamma(0.95)),
        blue=_chain(_lift(20, 215), _gamma(1.05)),
        saturation=1.08,
    ),
}


@cache
def _lut(name: str) -> list[int]:
    look = _LOOKS[name]
    table: list[int] = []
    for curve in (look.red, look.green, look.blue):
        table.extend(_clamp(curve(float(v))) for v in range(256))
    return table


def apply_filter(img: Image.Image, name: str) -> Image.Image:
    """The image with a named filter applied (an RGB image in, an RGB image out)."""
    if name not in FILTERS:
        raise ValueError(f"unknown filter: {name!r}")
    if name == "none":
        return img
    look = _LOOKS[name]
    rgb = img if img.mode == "RGB" else img.convert("RGB")
    if look.grayscale:
        gray = ImageOps.grayscale(rgb)
        return Image.merge("RGB", (gray, gray, gray)).point(_lut(name))
    toned = rgb.point(_lut(name))
    if look.saturation != 1.0:
        # Saturation is linear in RGB: one matrix pass instead of grayscale + blend.
        toned = toned.convert("RGB", _saturation_matrix(look.saturation))
    return toned


@cache
def _saturation_matrix(amount: float) -> tuple[float, ...]:
    weights = (0.299, 0.587, 0.114)  # Rec. 601 luma, as Pillow's grayscale uses
    rows: list[float] = []
    for channel in range(3):
        for source, weight in enumerate(weights):
            rows.append(weight * (1 - amount) + (amount if source == channel else 0.0))
        rows.append(0.0)
    return tuple(rows)
