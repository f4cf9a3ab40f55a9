"""X-Forwarded-For is believed only from trusted proxies."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.requests import Request

from glint.config import Settings
from glint.http.deps import client_ip


def _request(peer: str, forwarded: str | None) -> Request:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return Request({"type": "http", "client": (peer, 1234), "headers": headers})


@pytest.mark.parametrize(
    ("proxies", "peer", "forwarded", "expected"),
    [
        ([], "203.0.113.5", "1.2.3.4", "203.0.113.5"),
        (["10.0.0.0/8"], "203.0.113.5", "1.2.3.4", "203.0.113.5"),
        (["10.0.0.0/8"], "10.0.0.2", "1.2.3.4", "1.2.3.4"),
        (["10.0.0.0/8"], "10.0.0.2", "6.6.6.6, 1.2.3.4, 10.0.0.9", "1.2.3.4"),
        (["10.0.0.0/8"], "10.0.0.2", "garbage", "10.0.0.2"),
        (["10.0.0.0/8"], "10.0.0.2", "garbage, 1.2.3.4", "1.2.3.4"),
        (["10.0.0.0/8"], "10.0.0.2", "10.0.0.7", "10.0.0.2"),
    ],
)
def test_client_ip(
    tmp_path: Path, proxies: list[str], peer: str, forwarded: str, expected: str
) -> None:
    settings = Settings(data_dir=tmp_path, trusted_proxies=proxies)
    assert client_ip(_request(peer, forwarded), settings) == expected
