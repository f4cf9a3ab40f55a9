"""The web app's CSS, JS and icons, served by `glint serve` itself under /static/{version}/.

Every URL carries a digest of the static files (templating.static_version), so a response can
be cached for a year: the next release has other URLs. ES modules import each other by relative
paths, which keeps the version prefix without an import map (that would need inline script).
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse

from glint.errors import NotFound
from glint.web.templating import STATIC_DIR, static_version

router = APIRouter(include_in_schema=False)

CONTENT_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".webmanifest": "application/manifest+json",
}
IMMUTABLE = "public, max-age=31536000, immutable"


@cache
def _etag(path: Path) -> str:
    return '"' + hashlib.sha256(path.read_bytes()).hexdigest()[:20] + '"'


def _resolve(relative: str) -> Path:
    if not relative or "\\" in relative or "\x00" in relative:
        raise NotFound("No such file.")
    candidate = (STATIC_DIR / relative).resolve()
    if not candidate.is_relative_to(STATIC_DIR) or not candidate.is_file():
        raise NotFound("No such file.")
    if candidate.suffix not in CONTENT_TYPES:
        raise NotFound("No such file.")
    return candidate


@router.api_route("/static/{version}/{path:path}", methods=["GET", "HEAD"])
async def static_file(version: str, path: str, request: Request) -> Response:
    """One static file; immutable when asked for under the current version."""
    target = _resolve(path)
    etag = _etag(target)
    current = version == static_version()
    headers = {
        "Cache-Control": IMMUTABLE if current else "no-cache",
        "ETag": etag,
        "X-Content-Type-Options": "nosniff",
    }
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return FileResponse(target, media_type=CONTENT_TYPES[target.suffix], headers=headers)


@router.get("/favicon.ico")
async def favicon() -> Response:
    """Browsers ask for /favicon.ico whatever the page says: the SVG icon does."""
    target = _resolve("img/icon.svg")
    return FileResponse(
        target, media_type=CONTENT_TYPES[".svg"], headers={"Cache-Control": "public, max-age=86400"}
    )
