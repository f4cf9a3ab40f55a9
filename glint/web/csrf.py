"""CSRF tokens of the web pages' HTML forms.

Signed in, a form carries the same token the JSON API expects in X-CSRF-Token: an HMAC of the
session (accounts_sessions.csrf_token_for). Signed out (the sign-in and sign-up forms), there is
no session yet, so the browser gets a random pre-session cookie and the form an HMAC of it: a
cross-site page can make the browser send the cookie but cannot read it to forge the field.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import Request, Response

from glint.accounts import sessions as accounts_sessions
from glint.infra.keys import derive_key

ANON_COOKIE = "glint_anon"
FORM_FIELD = "csrf_token"


def session_token(signed: accounts_sessions.SignedIn, *, secret: str) -> str:
    """The token of a signed-in session (the <meta name="csrf-token"> and form field)."""
    return accounts_sessions.csrf_token_for(token_hash=signed.session.token_hash, secret=secret)


def anonymous_token(nonce: str, *, secret: str) -> str:
    """The form token bound to a pre-session cookie."""
    mac = hmac.new(derive_key(secret, "web-anon-form"), nonce.encode(), hashlib.sha256)
    return mac.hexdigest()[:40]


def anonymous_nonce(request: Request, response: Response | None = None) -> str:
    """The pre-session cookie's value; a new one is set on the response when there is none."""
    nonce = request.cookies.get(ANON_COOKIE, "")
    if 20 <= len(nonce) <= 64 and nonce.replace("-", "").replace("_", "").isalnum():
        return nonce
    nonce = secrets.token_urlsafe(24)
    if response is not None:
        set_anonymous_cookie(response, nonce, secure=request.url.scheme == "https")
    return nonce


def set_anonymous_cookie(response: Response, nonce: str, *, secure: bool) -> None:
    """Remember the pre-session nonce for a day (long enough to fill in a form)."""
    response.set_cookie(
        ANON_COOKIE, nonce, max_age=86400, httponly=True, samesite="lax", secure=secure, path="/"
    )


def tokens_match(given: str, expected: str) -> bool:
    """Constant-time comparison; an empty token never matches."""
    return bool(given) and hmac.compare_digest(given.encode(), expected.encode())
