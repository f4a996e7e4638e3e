"""`/api/v1/complaints`: the mobile app's JSON intake, and the desk's."""

from __future__ import annotations

import re
from typing import TypeVar

from aiohttp import web
from pydantic import ValidationError

from channels.app.models import AppComplaintRequest, ComplaintCreated
from channels.complaint_fields import ComplaintFields
from channels.desk.models import DeskComplaintRequest
from channels.http import json_error
from gateway.apidoc import operation
from gateway.auth import require_staff
from gateway.context import Gateway, gateway_of
from gateway.errors import read_json, validation_error
from normalizer.models import Channel, RawPayload
from store.base import IdempotencyConflict, IntakeResult
from workflow.roles import Role

M = TypeVar("M", bound=ComplaintFields)
IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")

routes = web.RouteTableDef()


_IDEMPOTENCY_HEADER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Retries with the same key return the same complaint.",
    "schema": {"type": "string", "maxLength": 255},
}


@routes.post("/api/v1/complaints")
@operation(
    "File a complaint (mobile app)",
    {201: (ComplaintCreated, "Committed; the tracking ID is durable")},
    body=AppComplaintRequest,
    headers=(_IDEMPOTENCY_HEADER,),
    errors=(400, 413, 415, 422, 503),
)
async def create_complaint(request: web.Request) -> web.Response:
    gw = gateway_of(request)
    key = _idempotency_key(request)
    body = await read_json(request, gw.settings.max_json_bytes)
    fields = _validate(gw, AppComplaintRequest, body)
    return await _intake(request, gw, fields, Channel.APP, key, logged_by=None)


@routes.post("/api/v1/desk/complaints")
@operation(
    "Log a walk-in or phone complaint (front desk)",
    {201: (ComplaintCreated, "Committed; print the tracking ID and the citizen's code")},
    body=DeskComplaintRequest,
    headers=(_IDEMPOTENCY_HEADER,),
    secured=True,
    errors=(400, 401, 403, 413, 415, 422, 503),
)
async def create_desk_complaint(request: web.Request) -> web.Response:
    gw = gateway_of(request)
    officer = await require_staff(request, {Role.PETUGAS_LOKET})
    key = _idempotency_key(request)
    body = await read_json(request, gw.settings.max_json_bytes)
    fields = _validate(gw, DeskComplaintRequest, body)
    channel = Channel(fields.channel)
    return await _intake(request, gw, fields, channel, key, logged_by=officer.username)


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
    # The desk prints the citizen's status-page code on its receipt.
    code = await gw.codes.for_desk(result.complaint) if logged_by is not None else None
    return created_response(gw, result, code)


def created_response(gw: Gateway, result: IntakeResult, code: str | None = None) -> web.Response:
    complaint = result.complaint
    path = f"/status/{complaint.tracking_id}"
    body = ComplaintCreated(
        tracking_id=complaint.tracking_id,
        status_url=gw.public_url(path),
        received_at=complaint.received_at,
        citizen_code=code,
    )
    headers = {"Location": path}
    if not result.created:
        headers["Idempotent-Replayed"] = "true"
    return web.Response(
        text=body.model_dump_json(), status=201, content_type="application/json", headers=headers
    )
