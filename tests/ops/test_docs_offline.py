"""/docs works without internet: Swagger UI's files come from this server (the fastapi-offline
package ships them), never a CDN. ReDoc is not offered. Both run modes."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import httpx

ORIGIN = "http://testserver"
_REFERENCES = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url:\s*["']([^"']+)["']""")


def _references(html: str) -> list[str]:
    return [a or b for a, b in _REFERENCES.findall(html)]


async def test_docs_load_only_same_origin_files(client: httpx.AsyncClient) -> None:
    page = await client.get(f"{ORIGIN}/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "SwaggerUIBundle(" in html
    references = _references(html)
    assert references, html
    for reference in references:
        absolute = urljoin(f"{ORIGIN}/docs", reference)
        assert urlsplit(absolute).netloc == "testserver", f"/docs loads {reference} from elsewhere"
    # Nothing else on the page names another host (no CDN, no validator badge).
    assert "://" not in html, re.findall(r"\S*://\S*", html)
    assert '"validatorUrl": null' in html
    # What the browser would then ask for is all here.
    kinds = {}
    for reference in references:
        response = await client.get(urljoin(f"{ORIGIN}/docs", reference))
        assert response.status_code == 200, reference
        kinds[reference] = response.headers["content-type"]
    scripts = [ref for ref in references if ref.endswith(".js")]
    assert scripts and all(kinds[ref].startswith("text/javascript") for ref in scripts)
    for ref in scripts:  # the real bundle, not a stub
        assert len((await client.get(urljoin(ORIGIN, ref))).content) > 100_000
    styles = [ref for ref in references if ref.endswith(".css")]
    assert styles and all(kinds[ref].startswith("text/css") for ref in styles)
    assert (await client.get(f"{ORIGIN}/openapi.json")).json()["openapi"].startswith("3.")


async def test_docs_assets_are_cacheable_and_nothing_else_is_served(
    client: httpx.AsyncClient,
) -> None:
    html = (await client.get(f"{ORIGIN}/docs")).text
    script = next(ref for ref in _references(html) if ref.endswith(".js"))
    first = await client.get(urljoin(ORIGIN, script))
    assert "max-age" in first.headers["cache-control"]
    again = await client.get(
        urljoin(ORIGIN, script), headers={"If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304
    folder = script.rsplit("/", 1)[0]
    for name in ("core.py", "../core.py", "..%2Fcore.py", "nothing.js"):
        assert (await client.get(f"{ORIGIN}{folder}/{name}")).status_code == 404, name


async def test_redoc_is_not_offered(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{ORIGIN}/redoc")
    assert response.status_code == 404
    assert "cdn" not in response.text and "Redoc.init" not in response.text
