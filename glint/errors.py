"""Domain errors: raised by services, turned into API.md's error envelope by the API layer."""

from __future__ import annotations


class GlintError(Exception):
    """An expected failure with an HTTP status and a stable snake_case code."""

    status: int = 400
    code: str = "bad_request"

    default_message: str = "The request could not be processed."

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        fields: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)
        if code is not None:
            self.code = code
        self.fields = fields
        self.headers = headers


class BadRequest(GlintError):
    """400: the request could not be understood."""

    status = 400
    code = "bad_request"


class Unauthenticated(GlintError):
    """401: no valid credentials."""

    status = 401
    code = "unauthenticated"


class Forbidden(GlintError):
    """403: authenticated but not allowed."""

    status = 403
    code = "forbidden"


class NotFound(GlintError):
    """404: missing, or not visible to this viewer (the two are never told apart)."""

    status = 404
    code = "not_found"
    default_message = "Not found."


class Conflict(GlintError):
    """409: the request clashes with existing state."""

    status = 409
    code = "conflict"


class PayloadTooLarge(GlintError):
    """413: an upload is over the size limit."""

    status = 413
    code = "file_too_large"


class UnsupportedMediaType(GlintError):
    """415: not a supported image."""

    status = 415
    code = "unsupported_media_type"


class ValidationFailed(GlintError):
    """422: well-formed but invalid field values."""

    status = 422
    code = "validation_error"


class RateLimited(GlintError):
    """429: too many requests; carries Retry-After."""

    status = 429
    code = "rate_limited"


class Unavailable(GlintError):
    """503: a dependency is down; carries Retry-After."""

    status = 503
    code = "unavailable"
