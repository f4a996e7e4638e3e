"""Clear answers to bad input: a status, a code, a reason in Bahasa Indonesia, the fields."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from pydantic import ValidationError

from channels.app.models import FieldProblem
from channels.http import json_error, read_body_within
from store.base import StoreBusy

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 2

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def field_problems(exc: ValidationError) -> list[FieldProblem]:
    problems = []
    for err in exc.errors():
        loc = [str(part) for part in err["loc"]]
        field = ".".join(loc) if loc else "body"
        reason = err["msg"].removeprefix("Value error, ")
        if not loc and ": " in reason:  # model-level rules name their own field
            field, reason = reason.split(": ", 1)
        problems.append(FieldProblem(field=field, reason=reason))
    return problems


def validation_error(exc: ValidationError, message: str) -> web.HTTPException:
    return json_error(422, "validation_error", message, field_problems(exc))


async def read_json(request: web.Request, limit: int) -> object:
    """The request's JSON body: 415 for another media type, 413 past `limit`, 400 if broken."""
    if request.content_type != "application/json":
        raise json_error(415, "unsupported_media_type", "Kirim data sebagai application/json.")
    body = await read_body_within(request, limit)
    try:
        return json.loads(body)
    except ValueError as exc:  # bad JSON or UTF-8, or an integer too long to convert
        raise json_error(400, "malformed_json", f"JSON tidak dapat dibaca: {exc}") from None
    except RecursionError:  # nested deeper than the parser's recursion limit
        message = "JSON tidak dapat dibaca: terlalu bertingkat."
        raise json_error(400, "malformed_json", message) from None


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except StoreBusy:
        raise json_error(
            503,
            "busy",
            "Layanan sedang sibuk. Silakan coba lagi sebentar lagi.",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        ) from None
    except web.HTTPRequestEntityTooLarge:
        raise json_error(413, "too_large", "Data yang dikirim terlalu besar.") from None


# Every page's policy: its own scripts and styles only (no inline script or style, so an
# injected one never runs), no framing (click-jacking), no plugins, forms only to here.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    # A status page's address carries a tracking ID: it is not sent to other sites.
    "Referrer-Policy": "no-referrer",
}
_PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
}


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        _secure(exc)
        raise
    _secure(response)
    return response


def _secure(response: web.StreamResponse) -> None:
    if response.prepared:
        return
    response.headers.update(_SECURITY_HEADERS)
    if response.content_type == "text/html":
        response.headers.update(_PAGE_HEADERS)
