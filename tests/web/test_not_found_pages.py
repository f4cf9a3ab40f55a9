"""Unknown paths: the HTML error page everywhere outside /api/, the JSON envelope under it.

Decided: a missing file under /static/ gets the HTML page too (the one rule is "only /api/ and
the API's signed /media/ URLs answer JSON"); a stylesheet or script that 404s is never shown,
and a person who opens the URL sees the site's page. Both run modes.
"""

from __future__ import annotations

import httpx
import pytest

from glint.web.templating import static_version
from tests.accounts.test_auth_api import assert_error
from tests.factories.accounts import register
from tests.web.conftest import WebFactory

PAGE_PATHS = [
    "/explore/search",
    "/explore/tags/",
    "/nobody/tagged",
    "/alice/tagged",  # an account that exists: still no such page
    "/alice/posts/nothing/deeper",
    "/a/b/c/d",
    "/p/123/likes/x",
    "/docs/nothing",
    "/static/nothing.css",
    f"/static/{static_version()}/css/nothing.css",
    f"/static/{static_version()}/../../pyproject.toml",
]


def _assert_html_page(response: httpx.Response, status: int, title: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html"), response.headers
    assert response.text.lstrip().startswith("<!doctype html>")
    assert f"<h1>{title}</h1>" in response.text
    assert '"error"' not in response.text


@pytest.mark.parametrize("path", PAGE_PATHS)
async def test_unknown_page_paths_get_the_html_error_page(
    client: httpx.AsyncClient, web: WebFactory, path: str
) -> None:
    alice = await register(client, "alice")
    for browser in (web(), web(alice)):
        response = await browser.get(path, follow_redirects=True)
        _assert_html_page(response, 404, "Sorry, this page isn&#39;t available")


async def test_the_html_error_page_answers_head_and_other_methods(web: WebFactory) -> None:
    head = await web().head("/explore/search")
    assert head.status_code == 404 and head.headers["content-type"].startswith("text/html")
    posted = await web().post("/explore/search", data={"q": "x"})
    _assert_html_page(posted, 404, "Sorry, this page isn&#39;t available")
    # A page that exists, asked with a method it does not take.
    wrong = await web().delete("/login")
    assert wrong.status_code == 405 and wrong.headers["content-type"].startswith("text/html")


async def test_explore_people_is_a_page(client: httpx.AsyncClient, web: WebFactory) -> None:
    alice = await register(client, "alice")
    response = await web(alice).get("/explore/people")
    assert response.status_code in (200, 303), response.text
    assert response.headers["content-type"].startswith("text/html") or response.status_code == 303


@pytest.mark.parametrize(
    "path", ["/api/v1/nothing", "/api/v1/users/alice/tagged", "/api/nothing", "/api/v1/"]
)
async def test_unknown_api_paths_keep_the_json_envelope(web: WebFactory, path: str) -> None:
    response = await web().get(path, headers={"Accept": "text/html"})
    assert_error(response, 404, "not_found")


async def test_api_methods_keep_the_json_envelope(web: WebFactory) -> None:
    response = await web().delete("/api/v1/feed")
    assert_error(response, 405, "method_not_allowed")
    media = await web().get("/media/nothing")  # signed media URLs belong to the API
    assert_error(media, 403, "invalid_signature")
