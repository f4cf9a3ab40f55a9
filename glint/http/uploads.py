"""Reading uploaded photos from a request, for the API and the web forms alike."""

from __future__ import annotations

from starlette.datastructures import UploadFile

from glint.errors import PayloadTooLarge, ValidationFailed
from glint.media import service as media_service
from glint.schemas import clean_text

TOO_LARGE = f"Each photo may be at most {media_service.MAX_UPLOAD_BYTES // (1024 * 1024)} MB."


async def read_photo(upload: UploadFile) -> bytes:
    """The uploaded file's bytes; 413 past the upload limit (never reading much beyond it)."""
    limit = media_service.MAX_UPLOAD_BYTES
    if upload.size is not None and upload.size > limit:
        raise PayloadTooLarge(TOO_LARGE)
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(TOO_LARGE)
    return data


def form_text(value: str | None, field: str) -> str | None:
    """A text field of a form, trimmed; 422 naming the field when it cannot be stored."""
    if value is None:
        return None
    try:
        return clean_text(value.strip())
    except ValueError as exc:
        raise ValidationFailed(str(exc), fields={field: str(exc)}) from exc
