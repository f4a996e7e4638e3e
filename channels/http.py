"""The house's way of answering over HTTP, for the gateway's routes and every channel's:
a JSON error with a status, a code, a reason in Bahasa Indonesia and the fields, and a
body read only as far as its limit."""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from channels.app.models import ErrorBody, FieldProblem


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
