"""docs/api.md lists every endpoint of the OpenAPI description, and nothing that does not exist.

The guide's endpoint tables are rows `| METHOD | `/path` | what it does |`. Rows above the
section "Outside the OpenAPI description" must be exactly the (method, path) pairs of
`/openapi.json`, both ways; rows below it must be real routes of the app that the description
leaves out (the WebSocket, media bytes, the ops endpoints under /api/v1, …).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts

from glint.app import create_app
from tests.conftest import base_settings

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "api.md"
OUTSIDE_HEADING = "## Outside the OpenAPI description"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
_ROW = re.compile(r"^\|\s*(?P<method>[A-Za-z]+)\s*\|\s*(?P<path>[^|]*?)\s*\|")
_PATH = re.compile(r"^`(/[^`\s]*)`$")
_PARAM_CONVERTER = re.compile(r"\{(\w+):[^}]+\}")  # {key:path} -> {key}

Pair = tuple[str, str]


class GuideFormatError(ValueError):
    """A table row that starts with an HTTP method but is not a well-formed endpoint row."""


def parse_guide(text: str) -> tuple[list[tuple[int, Pair]], list[tuple[int, Pair]]]:
    """The guide's endpoint rows, as (line number, (METHOD, path)), above and below the
    "Outside the OpenAPI description" heading."""
    documented: list[tuple[int, Pair]] = []
    outside: list[tuple[int, Pair]] = []
    target = documented
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip() == OUTSIDE_HEADING:
            target = outside
            continue
        match = _ROW.match(line)
        if match is None or match["method"].upper() not in METHODS:
            continue
        if match["method"] != match["method"].upper():
            raise GuideFormatError(f"docs/api.md:{number}: write the method in capitals: {line}")
        path = _PATH.match(match["path"])
        if path is None:
            raise GuideFormatError(
                f"docs/api.md:{number}: the second cell must be one back-quoted path "
                f"such as `/api/v1/posts/{{post_id}}`: {line}"
            )
        target.append((number, (match["method"], path[1])))
    return documented, outside


def schema_pairs(app: FastAPI) -> set[Pair]:
    """(METHOD, path) of every operation in the app's OpenAPI description."""
    pairs = set()
    for path, operations in app.openapi()["paths"].items():
        for method in operations:
            if method.upper() in METHODS:
                pairs.add((method.upper(), path))
    return pairs


def app_routes(app: FastAPI) -> set[Pair]:
    """(METHOD, path) of every route the app serves, included routers flattened; a WebSocket
    (no methods) counts as GET, the request that opens it."""
    pairs: set[Pair] = set()
    for route in iter_route_contexts(app.routes):
        path = _PARAM_CONVERTER.sub(r"{\1}", route.path)
        pairs.update((method, path) for method in route.methods or ("GET",))
    return pairs


def guide_problems(text: str, *, schema: set[Pair], routes: set[Pair]) -> list[str]:
    """Every way the guide disagrees with the app, as sentences (empty when in step)."""
    documented, outside = parse_guide(text)
    problems: list[str] = []
    seen: dict[Pair, int] = {}
    for number, pair in documented + outside:
        if pair in seen:
            problems.append(
                f"docs/api.md:{number}: {pair[0]} {pair[1]} is listed twice "
                f"(first at line {seen[pair]})"
            )
        seen.setdefault(pair, number)
    listed = {pair for _, pair in documented}
    for method, path in sorted(schema - listed, key=lambda p: (p[1], p[0])):
        problems.append(
            f"{method} {path} is in the OpenAPI description but not in docs/api.md: "
            f"add a row `| {method} | `{path}` | what it does |` to its area's table"
        )
    for number, (method, path) in documented:
        if (method, path) not in schema:
            problems.append(
                f"docs/api.md:{number}: {method} {path} is not in the OpenAPI description: "
                "fix the method or path (exactly as the route declares it), or remove the row"
            )
    for number, (method, path) in outside:
        if (method, path) in schema:
            problems.append(
                f"docs/api.md:{number}: {method} {path} is in the OpenAPI description: "
                "move its row above the 'Outside the OpenAPI description' section"
            )
        elif (method, path) not in routes:
            problems.append(
                f"docs/api.md:{number}: {method} {path} is not a route of the app: "
                "fix the method or path, or remove the row"
            )
    return problems


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    return create_app(base_settings(tmp_path_factory.mktemp("guide")))


def test_the_guide_lists_exactly_the_routes_of_the_openapi_description(app: FastAPI) -> None:
    text = GUIDE.read_text(encoding="utf-8")
    assert OUTSIDE_HEADING in text.splitlines(), f"docs/api.md lost its '{OUTSIDE_HEADING}'"
    problems = guide_problems(text, schema=schema_pairs(app), routes=app_routes(app))
    assert not problems, "docs/api.md is out of step with the app:\n  " + "\n  ".join(problems)


def test_the_guide_covers_a_real_number_of_routes(app: FastAPI) -> None:
    documented, outside = parse_guide(GUIDE.read_text(encoding="utf-8"))
    assert len(documented) == len(schema_pairs(app)) >= 80
    assert ("GET", "/api/v1/stream") in {pair for _, pair in outside}


# The checker itself, on a made-up guide: each kind of drift is caught and named.
_SCHEMA = {("GET", "/api/v1/feed"), ("POST", "/api/v1/posts"), ("GET", "/healthz")}
_ROUTES = _SCHEMA | {("GET", "/api/v1/stream"), ("GET", "/media/{key}")}
_GOOD = f"""
| method | path | what it does |
|---|---|---|
| GET | `/api/v1/feed` | the feed |
| POST | `/api/v1/posts` | a post |
| GET | `/healthz` | alive |

{OUTSIDE_HEADING}

| GET | `/api/v1/stream` | the socket |
"""


def test_the_checker_accepts_a_guide_in_step() -> None:
    assert guide_problems(_GOOD, schema=_SCHEMA, routes=_ROUTES) == []


def test_the_checker_names_a_route_missing_from_the_guide() -> None:
    text = _GOOD.replace("| POST | `/api/v1/posts` | a post |\n", "")
    (problem,) = guide_problems(text, schema=_SCHEMA, routes=_ROUTES)
    assert problem.startswith("POST /api/v1/posts is in the OpenAPI description but not in")


def test_the_checker_names_a_row_for_a_route_that_does_not_exist() -> None:
    text = _GOOD.replace("`/api/v1/posts`", "`/api/v1/posts/{id}`")
    problems = guide_problems(text, schema=_SCHEMA, routes=_ROUTES)
    assert any("POST /api/v1/posts/{id} is not in the OpenAPI description" in p for p in problems)
    assert any(p.startswith("POST /api/v1/posts is in the OpenAPI") for p in problems)


def test_the_checker_names_wrong_rows_outside_the_description() -> None:
    text = _GOOD + "| GET | `/api/v1/nothing` | x |\n| GET | `/api/v1/feed` | again |\n"
    problems = guide_problems(text, schema=_SCHEMA, routes=_ROUTES)
    assert any("GET /api/v1/nothing is not a route of the app" in p for p in problems)
    assert any("GET /api/v1/feed is listed twice" in p for p in problems)
    assert any("move its row above" in p for p in problems)


def test_the_checker_refuses_a_row_without_a_back_quoted_path() -> None:
    with pytest.raises(GuideFormatError, match="back-quoted path"):
        parse_guide("| GET | /api/v1/feed | the feed |\n")
