"""Live previews of the photo filters: SVG filter primitives the upload page applies with CSS
(`filter: url(#f-clarendon)`), built to follow glint/media/filters.py step by step.

Each server look is a tone curve per channel (contrast about 128, a black/white "lift", a gamma),
then a saturation matrix with Rec. 601 weights; moon makes grey first. The same steps exist in
SVG: consecutive linear steps fold into one `feFunc type="linear"` (so nothing is clipped in
between, as the server's single lookup table does not clip), a gamma is `type="gamma"`, and
the saturation is a `feColorMatrix`. All in sRGB values (color-interpolation-filters="sRGB"),
as Pillow works. tests/web/test_filter_preview.py checks every look against apply_filter.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from markupsafe import Markup

LUMA = (0.299, 0.587, 0.114)  # Rec. 601, as Pillow's grayscale and the server's matrix use


@dataclass(frozen=True)
class Linear:
    """v -> slope * v + intercept, on 0..1 values."""

    slope: float
    intercept: float

    def then(self, other: Linear) -> Linear:
        """This step followed by another linear one, as one step."""
        return Linear(self.slope * other.slope, self.intercept * other.slope + other.intercept)


@dataclass(frozen=True)
class Gamma:
    """v -> v ** exponent, on 0..1 values."""

    exponent: float


Step = Linear | Gamma


def contrast(amount: float) -> Linear:
    """Contrast about mid-grey (128 of 255)."""
    pivot = 128 / 255
    return Linear(amount, pivot - pivot * amount)


def lift(black: float, white: float) -> Linear:
    """0..255 mapped onto black..white (a raised black point is the faded look)."""
    return Linear((white - black) / 255, black / 255)


def gamma(exponent: float) -> Gamma:
    """A gamma curve."""
    return Gamma(exponent)


@dataclass(frozen=True)
class Preview:
    """One look: a chain of steps per channel, then saturation (or grey first)."""

    red: tuple[Step, ...]
    green: tuple[Step, ...]
    blue: tuple[Step, ...]
    saturation: float = 1.0
    grayscale: bool = False


LOOKS: dict[str, Preview] = {
    "clarendon": Preview(
        red=(contrast(1.2), lift(0, 255)),
        green=(contrast(1.2), lift(4, 255)),
        blue=(contrast(1.15), lift(22, 255)),
        saturation=1.35,
    ),
    "gingham": Preview(
        red=(contrast(0.85), lift(28, 245)),
        green=(contrast(0.85), lift(26, 240)),
        blue=(contrast(0.85), lift(30, 232)),
        saturation=0.8,
    ),
    "juno": Preview(
        red=(gamma(0.88), contrast(1.1)),
        green=(gamma(0.95), contrast(1.05)),
        blue=(gamma(1.1), contrast(1.0)),
        saturation=1.3,
    ),
    "lark": Preview(
        red=(gamma(0.9), lift(10, 250)),
        green=(gamma(0.82), lift(12, 255)),
        blue=(gamma(0.8), lift(14, 255)),
        saturation=0.85,
    ),
    "moon": Preview(
        red=(contrast(1.25), lift(8, 250)),
        green=(contrast(1.25), lift(8, 250)),
        blue=(contrast(1.25), lift(8, 250)),
        grayscale=True,
    ),
    "reyes": Preview(
        red=(lift(40, 250), gamma(0.9)),
        green=(lift(36, 240), gamma(0.92)),
        blue=(lift(34, 220), gamma(0.95)),
        saturation=0.7,
    ),
    "valencia": Preview(
        red=(lift(24, 255), gamma(0.9)),
        green=(lift(16, 245), gamma(0.95)),
        blue=(lift(20, 215), gamma(1.05)),
        saturation=1.08,
    ),
}


def folded(steps: tuple[Step, ...]) -> list[Step]:
    """Consecutive linear steps merged into one."""
    out: list[Step] = []
    for step in steps:
        last = out[-1] if out else None
        if isinstance(step, Linear) and isinstance(last, Linear):
            out[-1] = last.then(step)
        else:
            out.append(step)
    return out


def apply_steps(steps: tuple[Step, ...], value: float) -> float:
    """A 0..1 value through the steps as SVG computes them (clipped after each primitive)."""
    for step in folded(steps):
        if isinstance(step, Linear):
            value = step.slope * value + step.intercept
        else:
            value = max(value, 0.0) ** step.exponent
        value = min(1.0, max(0.0, value))
    return value


def saturation_matrix(amount: float) -> list[float]:
    """The 4x5 feColorMatrix of a saturation change with Rec. 601 weights."""
    values: list[float] = []
    for channel in range(3):
        values.extend(
            w * (1 - amount) + (amount if i == channel else 0.0) for i, w in enumerate(LUMA)
        )
        values.extend((0.0, 0.0))
    values.extend((0.0, 0.0, 0.0, 1.0, 0.0))
    return values


def _number(value: float) -> str:
    return f"{value:.5f}".rstrip("0").rstrip(".") or "0"


def _transfer(step_per_channel: tuple[Step, Step, Step]) -> str:
    funcs = []
    for tag, step in zip(("feFuncR", "feFuncG", "feFuncB"), step_per_channel, strict=True):
        if isinstance(step, Linear):
            funcs.append(
                f'<{tag} type="linear" slope="{_number(step.slope)}" '
                f'intercept="{_number(step.intercept)}"/>'
            )
        else:
            exponent = _number(step.exponent)
            funcs.append(f'<{tag} type="gamma" amplitude="1" exponent="{exponent}" offset="0"/>')
    return "<feComponentTransfer>" + "".join(funcs) + "</feComponentTransfer>"


def _matrix(values: list[float]) -> str:
    return '<feColorMatrix type="matrix" values="' + " ".join(map(_number, values)) + '"/>'


def filter_element(name: str) -> str:
    """The <filter> of one look."""
    look = LOOKS[name]
    parts = []
    if look.grayscale:
        grey = [*LUMA, 0.0, 0.0] * 3 + [0.0, 0.0, 0.0, 1.0, 0.0]
        parts.append(_matrix(grey))
    chains = [folded(look.red), folded(look.green), folded(look.blue)]
    if not len(chains[0]) == len(chains[1]) == len(chains[2]):
        raise ValueError(f"{name}: channels must have steps of the same shapes")
    for red, green, blue in zip(*chains, strict=True):
        parts.append(_transfer((red, green, blue)))
    if look.saturation != 1.0:
        parts.append(_matrix(saturation_matrix(look.saturation)))
    return (
        f'<filter id="f-{name}" color-interpolation-filters="sRGB" x="0" y="0" width="1" '
        f'height="1">{"".join(parts)}</filter>'
    )


@cache
def svg_defs() -> Markup:
    """An invisible <svg> holding every look's filter, for the upload page."""
    filters = "".join(filter_element(name) for name in LOOKS)
    return Markup(  # noqa: S704 (built from the constants above, no outside input)
        '<svg class="filter-defs" aria-hidden="true" focusable="false" width="0" height="0">'
        f"<defs>{filters}</defs></svg>"
    )
