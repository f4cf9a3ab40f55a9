"""Signed media URLs: stable within a window, refused when missing, tampered or expired."""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlparse

import pytest
from hypothesis import given
from hypothesis import strategies as st

from glint.infra.keys import derive_key
from glint.media.signing import InvalidSignature, sign_media_path, verify_media_signature

SECRET = derive_key("x" * 40, "media")
NOW = 1_800_000_000.0


def _parts(url: str) -> tuple[str, str, str]:
    parsed = urlparse(url)
    query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
    return unquote(parsed.path.removeprefix("/media/")), query["exp"], query["sig"]


def test_round_trip() -> None:
    key, exp, sig = _parts(sign_media_path("p/1/abc/small.webp", secret=SECRET, now=NOW))
    assert key == "p/1/abc/small.webp"
    verify_media_signature(key, exp, sig, secret=SECRET, now=NOW)


def test_stable_within_a_window_and_not_across() -> None:
    window = 3600
    start = (NOW // window) * window + 1
    same = {sign_media_path("k/a.jpg", secret=SECRET, now=start + t) for t in (0, 100, 3000)}
    assert len(same) == 1
    assert sign_media_path("k/a.jpg", secret=SECRET, now=start + window) not in same


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda k, e, s: (k + "x", e, s), "tampered"),
        (lambda k, e, s: (k, str(int(e) + 1), s), "tampered"),
        (lambda k, e, s: (k, e, ("B" if s[0] == "A" else "A") + s[1:]), "tampered"),
        (lambda k, e, s: (k, None, s), "missing"),
        (lambda k, e, s: (k, e, None), "missing"),
        (lambda k, e, s: (k, "soon", s), "malformed"),
        (lambda k, e, s: (k, "9" * 40, s), "malformed"),
    ],
)
def test_bad_signatures(mutate, reason: str) -> None:  # type: ignore[no-untyped-def]
    key, exp, sig = _parts(sign_media_path("p/2/x/large.webp", secret=SECRET, now=NOW))
    with pytest.raises(InvalidSignature) as info:
        verify_media_signature(*mutate(key, exp, sig), secret=SECRET, now=NOW)
    assert info.value.reason == reason


def test_expired() -> None:
    key, exp, sig = _parts(sign_media_path("p/3/x/small.jpg", secret=SECRET, now=NOW))
    with pytest.raises(InvalidSignature) as info:
        verify_media_signature(key, exp, sig, secret=SECRET, now=int(exp) + 1)
    assert info.value.reason == "expired"


def test_other_secrets_do_not_verify() -> None:
    key, exp, sig = _parts(sign_media_path("p/4/x/small.jpg", secret=SECRET, now=NOW))
    with pytest.raises(InvalidSignature):
        verify_media_signature(key, exp, sig, secret=derive_key("y" * 40, "media"), now=NOW)
    assert derive_key("x" * 40, "media") != derive_key("x" * 40, "csrf")


@given(
    st.text(max_size=60),
    st.one_of(st.none(), st.text(max_size=30)),
    st.one_of(st.none(), st.text(max_size=60)),
)
def test_arbitrary_input_is_refused_cleanly(key: str, exp: str | None, sig: str | None) -> None:
    # Nothing but InvalidSignature may escape (a forged valid signature is out of reach).
    with pytest.raises(InvalidSignature) as info:
        verify_media_signature(key, exp, sig, secret=SECRET, now=NOW)
    assert info.value.reason in ("missing", "malformed", "expired", "tampered")
