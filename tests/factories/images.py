"""Real image files made in memory for tests: formats, EXIF orientation and GPS, ICC, bad files."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image, ImageDraw

MARKER = (255, 0, 0)  # drawn in the top-left corner, to see where rotation puts it


def picture(width: int = 400, height: int = 300, *, marker: bool = True) -> Image.Image:
    """A colourful test picture: gradients, so filters and encoders have something to chew."""
    img = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(img)
    for x in range(0, width, 4):
        shade = int(255 * x / max(1, width - 1))
        draw.rectangle([x, 0, x + 3, height], fill=(shade, 120, 255 - shade))
    draw.ellipse([width // 4, height // 4, 3 * width // 4, 3 * height // 4], fill=(40, 200, 90))
    if marker:
        draw.rectangle([0, 0, width // 8, height // 8], fill=MARKER)
    return img


def jpeg(
    width: int = 400,
    height: int = 300,
    *,
    orientation: int | None = None,
    gps: bool = False,
    icc: bytes | None = None,
    quality: int = 90,
) -> bytes:
    """A JPEG, optionally with an EXIF orientation, GPS coordinates and an ICC profile."""
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    if gps:
        exif[0x8825] = {1: "N", 2: (52.0, 22.0, 7.0), 3: "E", 4: (4.0, 53.0, 32.0)}
    out = io.BytesIO()
    kwargs: dict[str, object] = {"quality": quality, "exif": exif}
    if icc is not None:
        kwargs["icc_profile"] = icc
    picture(width, height).save(out, "JPEG", **kwargs)
    return out.getvalue()


def encoded(fmt: str, width: int = 320, height: int = 240) -> bytes:
    """The test picture in another format: PNG, WEBP, GIF, HEIF or AVIF."""
    if fmt == "HEIF":
        import pillow_heif

        pillow_heif.register_heif_opener()
    out = io.BytesIO()
    picture(width, height).save(out, fmt)
    return out.getvalue()


def transparent_png(width: int = 200, height: int = 200) -> bytes:
    """A PNG whose alpha channel must be flattened onto white."""
    img = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    ImageDraw.Draw(img).ellipse([50, 50, 150, 150], fill=(0, 0, 255, 255))
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def display_p3_profile() -> bytes:
    """A minimal ICC v2 RGB profile with Display P3 primaries (D50) and a 2.2 gamma."""
    desc_text = b"Glint test P3\x00"
    desc = (
        b"desc"
        + b"\x00" * 4
        + struct.pack(">I", len(desc_text))
        + desc_text
        + b"\x00" * 8
        + b"\x00" * 3
        + b"\x00" * 67
    )

    def xyz(x: float, y: float, z: float) -> bytes:
        return b"XYZ " + b"\x00" * 4 + _s15(x) + _s15(y) + _s15(z)

    curve = b"curv" + b"\x00" * 4 + struct.pack(">IH", 1, round(2.2 * 256)) + b"\x00\x00"
    tags = [
        (b"desc", desc),
        (b"wtpt", xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", xyz(0.5151, 0.2412, -0.0011)),
        (b"gXYZ", xyz(0.2920, 0.6922, 0.0419)),
        (b"bXYZ", xyz(0.1571, 0.0666, 0.7841)),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
        (b"cprt", b"text" + b"\x00" * 4 + b"none\x00\x00\x00\x00"),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, body = b"", b""
    for signature, data in tags:
        padded = data + b"\x00" * (-len(data) % 4)
        table += signature + struct.pack(">II", offset + len(body), len(data))
        body += padded
    size = offset + len(body)
    header = (
        struct.pack(">I", size)
        + b"lcms"
        + bytes([2, 0x10, 0, 0])
        + b"mntr"
        + b"RGB "
        + b"XYZ "
        + b"\x00" * 12
        + b"acsp"
        + b"APPL"
        + b"\x00" * 4
        + b"\x00" * 8
        + b"\x00" * 8
        + b"\x00" * 4
        + _s15(0.9642)
        + _s15(1.0)
        + _s15(0.8249)
        + b"lcms"
        + b"\x00" * 16
        + b"\x00" * 28
    )
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + body


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims huge dimensions: signature, IHDR and IEND, no pixel data to speak of."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 16)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def truncated_jpeg() -> bytes:
    """The first half of a JPEG."""
    data = jpeg(800, 600)
    return data[: len(data) // 2]


def oversized_jpeg_bytes() -> bytes:
    """A valid JPEG padded past 10 MB (trailing bytes after EOI)."""
    return jpeg(64, 64) + b"\x00" * (10 * 1024 * 1024 + 10)


BAD_FILES: dict[str, tuple[bytes, int, str]] = {}


def bad_files() -> dict[str, tuple[bytes, int, str]]:
    """name -> (bytes, expected status, expected error code) for the rejection corpus."""
    if not BAD_FILES:
        BAD_FILES.update(
            {
                "empty": (b"", 415, "unsupported_media_type"),
                "truncated_jpeg": (truncated_jpeg(), 422, "corrupt_image"),
                "text_named_jpg": (b"just some text, honest\n" * 10, 415, "unsupported_media_type"),
                "html": (
                    b"<!doctype html><html><body>hi</body></html>",
                    415,
                    "unsupported_media_type",
                ),
                "svg": (
                    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>',
                    415,
                    "unsupported_media_type",
                ),
                "png_50000_square": (png_header_only(50000, 50000), 422, "image_too_large"),
                "eleven_megabytes": (oversized_jpeg_bytes(), 413, "file_too_large"),
                "gif": (encoded("GIF"), 415, "unsupported_media_type"),
            }
        )
    return BAD_FILES
