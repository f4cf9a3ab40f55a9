"""/docs: Swagger UI over /openapi.json, with its files served by this server (the
fastapi-offline package ships them), so the page works on a machine without internet.

ReDoc is not offered: one documentation page is enough, and docs/api.md is the guide.
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources
from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse

from glint.errors import NotFound

router = APIRouter(include_in_schema=False)

DOCS_URL = "/docs"
ASSETS_URL = "/docs/assets"
# The only files served, and their types: nothing else of the package is reachable.
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
}
# The page's one inline script starts Swagger UI; everything else comes from this origin.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; frame-ancestors 'none'; base-uri 'none'"
)


def _assets_dir() -> Path:
    return Path(str(resources.files("fastapi_offline") / "static"))


@cache
def _etag(name: str) -> str:
    digest = hashlib.sha256((_assets_dir() / name).read_bytes()).hexdigest()[:20]
    return f'"{digest}"'


@router.get(DOCS_URL)
async def swagger_ui(request: Request) -> Response:
    """Swagger UI, every file from this origin (no CDN, no validator badge)."""
    root = request.scope.get("root_path", "")
    page = get_swagger_ui_html(
        openapi_url=f"{root}{request.app.openapi_url}",
        title=f"{request.app.title} API",
        swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
        swagger_favicon_url=f"{root}/favicon.ico",
        swagger_ui_parameters={"validatorUrl": None},
    )
    page.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return page


@router.api_route(ASSETS_URL + "/{name}", methods=["GET", "HEAD"])
async def swagger_ui_asset(name: str, request: Request) -> Response:
    """One of Swagger UI's files, cached for a day (revalidated by ETag after that)."""
    media_type = ASSETS.get(name)
    if media_type is None:
        raise NotFound("No such file.")
    headers = {
        "Cache-Control": "public, max-age=86400",
        "ETag": _etag(name),
        "X-Content-Type-Options": "nosniff",
    }
    if request.headers.get("if-none-match") == headers["ETag"]:
        return Response(status_code=304, headers=headers)
    return FileResponse(_assets_dir() / name, media_type=media_type, headers=headers)
