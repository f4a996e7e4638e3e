"""`/api/v1/complaints`: the mobile app's JSON intake, and the desk's."""

from __future__ import annotations

import re
from typing import TypeVar

from aiohttp import web
from pydantic import ValidationError

from channels.app.models import AppComplaintRequest, ComplaintCreated
from channels.complaint_fields import ComplaintFields
from channels.desk.models import DeskComplaintRequest
from gateway.auth import Role
from gateway.context import Gateway, gateway_of
from gateway.errors import json_error, read_json, validation_error
from normalizer.models import Channel, RawPayload
from store.base import IdempotencyConflict, IntakeResult

M = TypeVar("M", bound=ComplaintFields)
IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")

routes = web.RouteTableDef()


@routes.post("/api/v1/complaints")
async def create_complaint(request: web.Request) -> web.Response:
    gw = gateway_of(request)
    key = _idempotency_key(request)
    body = await read_json(request, gw.settings.max_json_bytes)
    fields = _validate(gw, AppComplaintRequest, body)
    return await _intake(request, gw, fields, Channel.APP, key, logged_by=None)


@routes.post("/api/v1/desk/complaints")
async def create_desk_complaint(request: web.Request) -> web.Response:
    gw = gateway_of(request)
    staff_id = gw.staff.require(request, Role.DESK)
    key = _idempotency_key(request)
    body = await read_json(request, gw.settings.max_json_bytes)
    fields = _validate(gw, DeskComplaintRequest, body)
    return await _intake(request, gw, fields, Channel(fields.channel), key, logged_by=staff_id)


def _validate(gw: Gateway, model: type[M], body: object) -> M:
    try:
        return model.model_validate(body, context=gw.intake.validation_context())
    except ValidationError as exc:
        raise validation_error(exc, "Data laporan belum benar.") from None


def _idempotency_key(request: web.Request) -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is not None and not IDEMPOTENCY_KEY.match(key):
        raise json_error(
            400,
            "invalid_idempotency_key",
            "Idempotency-Key harus 1–255 karakter ASCII yang terlihat.",
        )
    return key


async def _intake(
    request: web.Request,
    gw: Gateway,
    fields: ComplaintFields,
    channel: Channel,
    key: str | None,
    logged_by: str | None,
) -> web.Response:
    inbound = fields.to_inbound(
        channel,
        gw.clock(),
        external_id=key,
        raw=RawPayload(content_type="application/json", body=fields.model_dump_json().encode()),
        logged_by=logged_by,
    )
    try:
        result = await gw.intake.submit(inbound)
    except IdempotencyConflict:
        raise json_error(
            422,
            "idempotency_key_reused",
            "Idempotency-Key ini sudah dipakai untuk laporan dengan isi berbeda.",
        ) from None
    return created_response(request, gw, result)


def created_response(request: web.Request, gw: Gateway, result: IntakeResult) -> web.Response:
    complaint = result.complaint
    path = f"/status/{complaint.tracking_id}"
    body = ComplaintCreated(
        tracking_id=complaint.tracking_id,
        status_url=gw.public_url(request, path),
        received_at=complaint.received_at,
    )
    headers = {"Location": path}
    if not result.created:
        headers["Idempotent-Replayed"] = "true"
    return web.Response(
        text=body.model_dump_json(), status=201, content_type="application/json", headers=headers
    )
