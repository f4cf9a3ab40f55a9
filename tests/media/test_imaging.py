"""The image layer on real files: judging by content, orientation, colour, metadata, sizes."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageChops, ImageCms, ImageOps, ImageStat, JpegImagePlugin

from glint.media import imaging
from glint.media.filters import FILTERS, apply_filter
from tests.factories import images


def _open(rendition: imaging.Rendition) -> Image.Image:
    return Image.open(io.BytesIO(rendition.data))


def _by(result: imaging.Processed, size: str, fmt: str) -> imaging.Rendition:
    return next(r for r in result.renditions if r.size == size and r.format == fmt)


@pytest.mark.parametrize(
    ("data", "fmt"),
    [
        (images.jpeg(400, 300), "jpeg"),
        (images.encoded("PNG"), "png"),
        (images.encoded("WEBP"), "webp"),
        (images.encoded("HEIF"), "heif"),
        (images.encoded("AVIF"), "avif"),
    ],
)
def test_supported_formats_probe_and_process(data: bytes, fmt: str) -> None:
    info = imaging.probe(data)
    assert info.format == fmt
    assert (info.width, info.height) in ((400, 300), (320, 240))
    result = imaging.process(data)
    assert len(result.renditions) == 8
    assert result.width == info.width and result.height == info.height  # small: never upscaled


@pytest.mark.parametrize("name", sorted(images.bad_files()))
def test_bad_files_are_rejected_with_their_code(name: str) -> None:
    data, status, code = images.bad_files()[name]
    with pytest.raises(imaging.ImageRejected) as info:
        imaging.probe(data)
    assert (info.value.status, info.value.code) == (status, code)


def test_decompression_bomb_is_refused_before_decoding() -> None:
    # 50000x50000 RGB would need 7.5 GB to decode; refusing it must be instant and cheap.
    with pytest.raises(imaging.ImageRejected) as info:
        imaging.process(images.png_header_only(50000, 50000))
    assert info.value.code == "image_too_large"


def test_gps_and_all_exif_are_stripped_from_every_rendition() -> None:
    source = images.jpeg(1600, 1200, gps=True, orientation=1)
    assert Image.open(io.BytesIO(source)).getexif().get_ifd(0x8825)  # the input has GPS
    for rendition in imaging.process(source).renditions:
        img = _open(rendition)
        assert not img.getexif(), (rendition.size, rendition.format)
        assert (
            "exif" not in img.info and "xmp" not in img.info and "XML:com.adobe.xmp" not in img.info
        )
        assert b"GPS" not in rendition.data


def test_orientation_6_comes_out_upright_with_swapped_dimensions() -> None:
    # Stored 800x600 landscape, EXIF says "rotate 90° clockwise to display".
    result = imaging.process(images.jpeg(800, 600, orientation=6))
    assert (result.width, result.height) == (600, 800)
    large = _open(_by(result, "large", "jpeg")).convert("RGB")
    assert large.size == (600, 800)
    # The red marker drawn top-left of the stored image ends up top-right once upright.
    red_right = large.getpixel((large.width - 5, 5))
    red_left = large.getpixel((5, 5))
    assert red_right[0] > 200 and red_right[1] < 60, red_right
    assert red_left[0] < 200 or red_left[1] > 60, red_left


def test_embedded_icc_profile_is_converted_to_srgb() -> None:
    colour = (40, 200, 60)
    tagged, plain = io.BytesIO(), io.BytesIO()
    Image.new("RGB", (64, 64), colour).save(tagged, "PNG", icc_profile=images.display_p3_profile())
    Image.new("RGB", (64, 64), colour).save(plain, "PNG")
    converted = _open(_by(imaging.process(tagged.getvalue()), "small", "jpeg")).convert("RGB")
    untouched = _open(_by(imaging.process(plain.getvalue()), "small", "jpeg")).convert("RGB")
    p3_green, srgb_green = converted.getpixel((10, 10)), untouched.getpixel((10, 10))
    assert all(abs(a - b) <= 6 for a, b in zip(srgb_green, colour, strict=True))
    # Display P3 green lies outside sRGB: converted, it is purer (less red) than read naively.
    assert p3_green[0] < srgb_green[0] - 20, (p3_green, srgb_green)
    for rendition in imaging.process(tagged.getvalue()).renditions:
        assert "icc_profile" not in _open(rendition).info


def test_rendition_sizes_and_encodings() -> None:
    result = imaging.process(images.jpeg(2000, 1500))
    expected = {
        "thumbnail": (150, 150),
        "small": (320, 240),
        "medium": (640, 480),
        "large": (1080, 810),
    }
    for rendition in result.renditions:
        assert (rendition.width, rendition.height) == expected[rendition.size]
        img = _open(rendition)
        assert img.size == expected[rendition.size]
        if rendition.format == "webp":
            assert rendition.data[:4] == b"RIFF" and rendition.data[8:12] == b"WEBP"
            assert rendition.mime == "image/webp"
        else:
            assert rendition.data[:3] == b"\xff\xd8\xff"
            assert rendition.mime == "image/jpeg"
    assert (result.width, result.height) == (1080, 810)


def test_transparency_is_flattened_onto_white() -> None:
    small = _open(_by(imaging.process(images.transparent_png()), "small", "jpeg")).convert("RGB")
    assert all(channel > 240 for channel in small.getpixel((2, 2)))


def test_blurhash_is_valid_and_tells_colours_apart() -> None:
    def hash_of(colour: tuple[int, int, int]) -> str:
        out = io.BytesIO()
        Image.new("RGB", (100, 80), colour).save(out, "PNG")
        return imaging.process(out.getvalue()).blurhash

    red, blue = hash_of((220, 20, 20)), hash_of((20, 20, 220))
    assert len(red) == len(blue) == 28  # 4x3 components
    assert red != blue


def test_every_filter_changes_the_picture_and_they_differ() -> None:
    base = images.picture(120, 90)
    outputs = {name: apply_filter(base, name).convert("RGB").tobytes() for name in FILTERS}
    reference = base.tobytes()

    def distance(a: bytes, b: bytes) -> float:
        return sum(abs(x - y) for x, y in zip(a, b, strict=True)) / len(a)

    assert outputs["none"] == reference
    for name in FILTERS[1:]:
        assert distance(outputs[name], reference) > 4, name
    names = FILTERS[1:]
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            assert distance(outputs[first], outputs[second]) > 2, (first, second)
    moon = apply_filter(base, "moon").convert("RGB")
    red, green, blue = moon.split()
    assert red.tobytes() == green.tobytes() == blue.tobytes()


def test_unknown_filter_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown filter"):
        apply_filter(images.picture(10, 10), "sepia-deluxe")


def _srgb_profile() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def test_srgb_profiles_are_recognised_and_others_are_not() -> None:
    assert imaging._is_srgb(_srgb_profile())
    assert not imaging._is_srgb(images.display_p3_profile())


def test_an_srgb_tagged_photo_is_not_converted_and_comes_out_as_an_untagged_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plain = imaging.process(images.jpeg(1600, 1200))
    imaging._is_srgb(_srgb_profile())  # judged once, outside the spy

    def no_transform(*args: object, **kwargs: object) -> None:
        raise AssertionError("an sRGB photo was colour-converted")

    monkeypatch.setattr(ImageCms, "applyTransform", no_transform)
    tagged = imaging.process(images.jpeg(1600, 1200, icc=_srgb_profile()))
    for rendition in tagged.renditions:
        assert rendition.data == _by(plain, rendition.size, rendition.format).data
        assert "icc_profile" not in _open(rendition).info


def test_a_p3_photo_is_converted_once_in_place_at_the_large_size(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[tuple[tuple[int, int], bool]] = []
    apply = ImageCms.applyTransform

    def spy(
        im: Image.Image,
        transform: ImageCms.ImageCmsTransform,
        inPlace: bool = False,  # noqa: N803 (Pillow's name)
    ) -> Image.Image | None:
        calls.append((im.size, inPlace))
        return apply(im, transform, inPlace)

    imaging._is_srgb(images.display_p3_profile())  # judged once, outside the spy
    monkeypatch.setattr(ImageCms, "applyTransform", spy)
    p3 = images.jpeg(4000, 3000, orientation=6, icc=images.display_p3_profile())
    result = imaging.process(p3)
    assert calls == [((1080, 1440), True)]
    assert (result.width, result.height) == (1080, 1440)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_orientation_is_turned_as_exif_transpose_turns_it(orientation: int) -> None:
    data = images.jpeg(160, 90, orientation=orientation, quality=100)
    expected = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
    large = _open(_by(imaging.process(data), "large", "jpeg")).convert("RGB")
    assert large.size == expected.size
    # Where the red marker ends up: the same corner (JPEG re-encoding blurs only the edges).
    corners = [(4, 4), (expected.width - 5, 4), (4, expected.height - 5)]
    corners.append((expected.width - 5, expected.height - 5))
    for xy in corners:
        got, want = large.getpixel(xy), expected.getpixel(xy)
        assert isinstance(got, tuple) and isinstance(want, tuple)
        assert all(abs(a - b) <= 40 for a, b in zip(got, want, strict=True)), (xy, got, want)


def test_a_panorama_is_decoded_at_a_reduced_scale(monkeypatch: pytest.MonkeyPatch) -> None:
    decoded: list[tuple[int, int]] = []
    load = JpegImagePlugin.JpegImageFile.load

    def spy(self: JpegImagePlugin.JpegImageFile) -> object:
        decoded.append(self.size)
        return load(self)

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "load", spy)
    result = imaging.process(images.jpeg(4800, 1200))
    # 1080 px wide needs a quarter of 4800 in width, and so a quarter of the height: 1200x300.
    assert decoded[-1] == (1200, 300)
    assert (result.width, result.height) == (1080, 270)


def test_a_p3_photo_is_converted_as_exactly_as_lcms_can() -> None:
    # Every colour of a coarse lattice of the cube (saturated corners and edges included) and
    # the gradient test picture, against lcms's unoptimised float pipeline: the conversion
    # is not traded for speed (a 33-point trilinear 3D LUT of it is up to 15 levels off here).
    icc = images.display_p3_profile()
    levels = range(0, 256, 5)
    lattice = bytes(c for b in levels for g in levels for r in levels for c in (r, g, b))
    cube = Image.frombytes("RGB", (len(levels) ** 2, len(levels)), lattice)
    varied = Image.new("RGB", (cube.width, cube.height + 100))
    varied.paste(cube)
    varied.paste(images.picture(cube.width, 100), (0, cube.height))
    exact = ImageCms.buildTransform(
        ImageCms.ImageCmsProfile(io.BytesIO(icc)),
        ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")),
        "RGB",
        "RGB",
        renderingIntent=ImageCms.Intent.PERCEPTUAL,
        flags=ImageCms.Flags.NOOPTIMIZE,
    )
    want = ImageCms.applyTransform(varied, exact)
    assert want is not None
    got = imaging._to_srgb(varied.copy(), icc)
    diff = ImageChops.difference(got, want)
    assert all(mean < 0.05 for mean in ImageStat.Stat(diff).mean)
    assert all(high <= 1 for _, high in diff.getextrema())
    assert ImageChops.difference(got, varied).getbbox() is not None  # it was converted
