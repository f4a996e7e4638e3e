"""Clear answers to bad input: a status, a code, a reason in Bahasa Indonesia, the fields."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web
from pydantic import ValidationError

from channels.app.models import ErrorBody, FieldProblem
from store.base import StoreBusy

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 2

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def json_error(
    status: int,
    code: str,
    message: str,
    fields: list[FieldProblem] | None = None,
    headers: Mapping[str, str] | None = None,
) -> web.HTTPException:
    body = ErrorBody(error=code, message=message, fields=fields or [])
    exc = web.HTTPException(
        text=body.model_dump_json(), content_type="application/json", headers=headers
    )
    exc.set_status(status)
    return exc


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


async def read_body_within(request: web.Request, limit: int) -> bytes:
    """The whole body; 413 (as JSON) past `limit` bytes."""
    body = await read_body(request, limit)
    if body is None:
        raise json_error(413, "too_large", f"Data melebihi batas {limit} byte.")
    return body


async def read_body(request: web.Request, limit: int) -> bytes | None:
    """The whole body, or None as soon as it passes `limit` bytes.

    One read returns only what has arrived so far, so the body is gathered to its end.
    """
    if (request.content_length or 0) > limit:
        return None
    body = bytearray()
    async for chunk in request.content.iter_any():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


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
