"""CSRF tokens of the HTML forms: a random nonce in a cookie, and a signed token in the
form that names the nonce and what the form is for. A form posted from another site has
no way to read the nonce, so it cannot carry a matching token."""

from __future__ import annotations

import secrets
from typing import Literal

from aiohttp import web

from gateway.context import gateway_of

CSRF_COOKIE = "lapor_csrf"
CSRF_FIELD = "csrf_token"
CSRF_MAX_AGE = 4 * 3600


_NONCE = web.RequestKey("csrf_nonce", str)


def issue(request: web.Request, purpose: str) -> tuple[str, str]:
    """(token, nonce) for a form: the browser's nonce if it has one, else a new one, the
    same for every form of this page."""
    nonce = request.cookies.get(CSRF_COOKIE) or request.get(_NONCE)
    if nonce is None:
        nonce = request[_NONCE] = secrets.token_urlsafe(24)
    return gateway_of(request).signer.csrf_token(nonce, purpose), nonce


def keep_nonce(
    request: web.Request,
    response: web.StreamResponse,
    nonce: str,
    same_site: Literal["Lax", "Strict"] = "Lax",
) -> None:
    response.set_cookie(
        CSRF_COOKIE,
        nonce,
        httponly=True,
        samesite=same_site,
        secure=gateway_of(request).secure_cookies(),
        max_age=CSRF_MAX_AGE,
        path="/",
    )


def purpose_of(request: web.Request, token: str) -> str | None:
    """What the token was issued for, if it is good for this browser's nonce."""
    nonce = request.cookies.get(CSRF_COOKIE, "")
    return gateway_of(request).signer.check_csrf(token, nonce, CSRF_MAX_AGE) if nonce else None
