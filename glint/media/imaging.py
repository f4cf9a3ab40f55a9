"""Images as bytes: judging uploads by content, and rendering the sizes a post is shown in."""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cache, lru_cache
from math import ceil

import blurhash
from PIL import Image, ImageChops, ImageCms, ImageOps, UnidentifiedImageError

from glint.media.filters import apply_filter

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 50_000_000
# Rendition sizes: a square crop for grids, then widths for the feed on each screen size.
THUMBNAIL = 150
WIDTHS = {"small": 320, "medium": 640, "large": 1080}
# Every size a photo is stored in with its width, smallest first: the one list Glint uses.
RENDITION_WIDTHS = {"thumbnail": THUMBNAIL, **WIDTHS}
RENDITION_SIZES = tuple(RENDITION_WIDTHS)
# Stories are portrait, full screen: never taller than 9:16 (height / width). A taller photo is
# cropped to 9:16 around its centre; a wider one is kept whole and letter-boxed on screen.
STORY_TALLEST = 16 / 9
WEBP_QUALITY = 80
JPEG_QUALITY = 85
_MIME = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "heif": "image/heic",
    "avif": "image/avif",
}
# ISO-BMFF brands (bytes 8-12 of an 'ftyp' box) of the HEIF family.
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
_AVIF_BRANDS = {b"avif", b"avis"}
# EXIF orientation -> the transpose that shows the stored pixels upright (as exif_transpose).
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


class ImageRejected(Exception):
    """An upload we will not take, with the HTTP status and error code to answer with."""

    def __init__(self, code: str, status: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.message = message


@dataclass(frozen=True, slots=True)
class ImageInfo:
    """What the header says: the format and the size as displayed (EXIF rotation applied)."""

    format: str
    mime: str
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class Rendition:
    """One encoded size of a photo."""

    size: str
    format: str
    mime: str
    width: int
    height: int
    data: bytes


@dataclass(frozen=True, slots=True)
class Processed:
    """Everything the pipeline made of one photo."""

    width: int
    height: int
    blurhash: str
    renditions: list[Rendition]


@cache
def _register_heif() -> None:
    import pillow_heif

    pillow_heif.register_heif_opener()


def sniff(data: bytes) -> str | None:
    """The format the magic bytes announce, or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[4:8] == b"ftyp":
        brands = {data[8:12]} | {data[i : i + 4] for i in range(16, min(len(data), 64), 4)}
        if brands & _AVIF_BRANDS:
            return "avif"
        if brands & _HEIF_BRANDS:
            return "heif"
    return None


def _unsupported() -> ImageRejected:
    return ImageRejected(
        "unsupported_media_type", 415, "Only JPEG, PNG, WebP, HEIC and AVIF images are accepted."
    )


def _too_many_pixels(max_pixels: int) -> ImageRejected:
    return ImageRejected(
        "image_too_large", 422, f"Images may have at most {max_pixels // 1_000_000} megapixels."
    )


def _open(data: bytes, fmt: str) -> Image.Image:
    if fmt in ("heif", "avif"):
        _register_heif()
    try:
        return Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise _too_many_pixels(MAX_PIXELS) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise _unsupported() from exc


def probe(data: bytes, *, max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS) -> ImageInfo:
    """Judge an upload by its bytes and header alone; no pixel is decoded."""
    return _probe(data, max_bytes, max_pixels)[0]


def _probe(data: bytes, max_bytes: int, max_pixels: int) -> tuple[ImageInfo, Image.Image]:
    """probe(), and the opened (not yet decoded) image, so the pipeline parses the header once."""
    if len(data) > max_bytes:
        raise ImageRejected(
            "file_too_large", 413, f"Images may be at most {max_bytes // 2**20} MB."
        )
    if not data:
        raise ImageRejected("unsupported_media_type", 415, "The file is empty.")
    fmt = sniff(data)
    if fmt is None:
        raise _unsupported()
    img = _open(data, fmt)
    width, height = img.size
    if width < 1 or height < 1:
        raise _unsupported()
    if width * height > max_pixels:
        # A decompression bomb or just too big: refused before anything is decoded.
        raise _too_many_pixels(max_pixels)
    if fmt == "jpeg" and not data.rstrip(b"\x00").endswith(b"\xff\xd9"):
        raise ImageRejected("corrupt_image", 422, "The JPEG file is truncated.")
    orientation = img.getexif().get(0x0112, 1)
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    return ImageInfo(format=fmt, mime=_MIME[fmt], width=width, height=height), img


@cache
def _srgb() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


@lru_cache(maxsize=32)
def _transform_to_srgb(icc: bytes, mode: str) -> ImageCms.ImageCmsTransform:
    # Cameras embed a handful of profiles; building a transform costs more than applying it.
    source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    return ImageCms.buildTransform(
        source, _srgb(), mode, "RGB", renderingIntent=ImageCms.Intent.PERCEPTUAL
    )


@cache
def _colour_grid() -> Image.Image:
    # 17 levels a channel (0, 16, ..., 255): every corner, edge and the inside of the RGB cube.
    levels = [min(255, 16 * i) for i in range(17)]
    pixels = bytes(c for r in levels for g in levels for b in levels for c in (r, g, b))
    return Image.frombytes("RGB", (len(levels) ** 2, len(levels)), pixels)


@lru_cache(maxsize=32)
def _is_srgb(icc: bytes) -> bool:
    """Whether an RGB profile says what sRGB says (the grid's colours all within one level):
    cameras and phones mostly embed one, and converting by it would only cost time."""
    grid = _colour_grid()
    converted = ImageCms.applyTransform(grid, _transform_to_srgb(icc, "RGB"))
    if converted is None:
        return False
    beyond_one = [0, 0] + [255] * 254
    return ImageChops.difference(grid, converted).point(beyond_one * 3).getbbox() is None


def _to_srgb(img: Image.Image, icc: bytes | None) -> Image.Image:
    """The pixels in sRGB. `img` is the pipeline's own: an RGB one is converted in place."""
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        img = flat
    if icc:
        try:
            if img.mode not in ("RGB", "CMYK", "L"):
                img = img.convert("RGB")
            if img.mode != "RGB":
                return ImageCms.applyTransform(img, _transform_to_srgb(icc, img.mode)) or img
            if not _is_srgb(icc):
                # In place: no second 1080-px image to allocate (and fault in) per photo.
                # lcms itself, not a 3D LUT of it through ImageFilter.Color3DLUT: for a
                # matrix-shaper profile lcms is both faster (~21 ms vs ~34 ms at 1080x1440,
                # one core) and exact (within 1 level of its unoptimised float pipeline, where
                # a 33-point trilinear LUT is up to 15-17 levels off at the gamut edges).
                ImageCms.applyTransform(img, _transform_to_srgb(icc, "RGB"), inPlace=True)
            return img
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # a broken profile: fall back to reading the pixels as sRGB
    return img if img.mode == "RGB" else img.convert("RGB")


def _fit_width(img: Image.Image, width: int) -> Image.Image:
    if img.width <= width:
        return img  # never upscaled
    height = max(1, round(img.height * width / img.width))
    # Smaller sizes come from the already-sharp large one: bicubic is plenty, and faster.
    return img.resize((width, height), Image.Resampling.BICUBIC, reducing_gap=2.0)


def _encode(img: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    if fmt == "webp":
        # method 2: as small as method 3-4 here, at under half the encode time.
        img.save(out, "WEBP", quality=WEBP_QUALITY, method=2)
    else:
        img.save(out, "JPEG", quality=JPEG_QUALITY, progressive=True, optimize=False)
    return out.getvalue()


def _decode_large(data: bytes, max_pixels: int) -> Image.Image:
    """The photo upright, in sRGB, at most the large width: every later step works on this."""
    info, img = _probe(data, MAX_BYTES, max_pixels)
    if info.format == "jpeg":
        # Shrink-on-load: decode at the smallest DCT scale that still covers the large size in
        # both directions (asked as 1080x1080, a panorama would be decoded whole).
        scale = min(1.0, WIDTHS["large"] / info.width)
        img.draft("RGB", (max(1, ceil(img.width * scale)), max(1, ceil(img.height * scale))))
    try:
        img.load()
        icc = img.info.get("icc_profile")
        orientation = img.getexif().get(0x0112, 1)
        # Resize first, in the stored orientation: rotating, colour-converting and filtering
        # a 1080-px image costs a fraction of doing it at full decoded size.
        turned = orientation in (5, 6, 7, 8)
        shown_width = img.height if turned else img.width
        if shown_width > WIDTHS["large"]:
            scale = WIDTHS["large"] / shown_width
            if turned:
                size = (max(1, round(img.width * scale)), WIDTHS["large"])
            else:
                size = (WIDTHS["large"], max(1, round(img.height * scale)))
            if img.mode not in ("RGB", "RGBA", "L", "LA", "CMYK"):
                img = img.convert("RGBA" if "transparency" in img.info else "RGB")
            img = img.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)
        # The transpose exif_transpose would make, without the copy it makes when upright
        # already nor the EXIF it rewrites: no metadata is kept.
        method = _UPRIGHT.get(orientation)
        upright = img if method is None else img.transpose(method)
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageRejected("corrupt_image", 422, "The image could not be decoded.") from exc
    return _to_srgb(upright, icc if isinstance(icc, bytes) else None)


def preview_jpeg(data: bytes, *, width: int = WIDTHS["medium"]) -> bytes:
    """A JPEG of the photo upright, in sRGB, at most `width` wide: how the upload page shows a
    photo the browser cannot draw itself (HEIC). Nothing is stored."""
    return _encode(_fit_width(_decode_large(data, MAX_PIXELS), width), "jpeg")


def _crop_to_tallest(img: Image.Image, tallest: float) -> Image.Image:
    """The image cut to at most `tallest` (height / width) around its centre."""
    limit = max(1, round(img.width * tallest))
    if img.height <= limit:
        return img
    top = (img.height - limit) // 2
    return img.crop((0, top, img.width, top + limit))


def process(
    data: bytes,
    *,
    filter_name: str = "none",
    max_pixels: int = MAX_PIXELS,
    tallest: float | None = None,
) -> Processed:
    """Decode, orient, convert to sRGB, strip metadata, filter, and render every size
    (cut to at most `tallest`, height / width, when given: stories)."""
    img = apply_filter(_decode_large(data, max_pixels), filter_name)
    if tallest is not None:
        img = _crop_to_tallest(img, tallest)
    # Encoders copy EXIF, XMP and ICC from `info` (and resize copies `info`): drop them all.
    img.info = {}
    # Each size is made from the next larger one: cheaper, and sharp enough.
    sized: dict[str, Image.Image] = {}
    source = img
    for name in ("large", "medium", "small"):
        source = _fit_width(source, WIDTHS[name])
        sized[name] = source
    sized["thumbnail"] = ImageOps.fit(
        sized["medium"], (THUMBNAIL, THUMBNAIL), Image.Resampling.LANCZOS, centering=(0.5, 0.5)
    )
    renditions = [
        Rendition(
            size,
            fmt,
            "image/webp" if fmt == "webp" else "image/jpeg",
            im.width,
            im.height,
            _encode(im, fmt),
        )
        for size, im in sized.items()
        for fmt in ("webp", "jpeg")
    ]
    tiny = _fit_width(sized["small"], 32)
    large = sized["large"]
    return Processed(
        width=large.width,
        height=large.height,
        blurhash=blurhash.encode(tiny, x_components=4, y_components=3),
        renditions=renditions,
    )
