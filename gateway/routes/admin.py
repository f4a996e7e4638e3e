"""The unified queue, one case whole, and the workflow's actions, for staff with a token.

Every answer shows a case as the caller may see it (gateway/case_detail.py): an agency's
roles only their agency's cases (of one moved away, only that it moved), a confidential
complaint's text and answer only to the regency's readers and the agency holding it, an
anonymous reporter to nobody.
"""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from channels.app.models import ErrorBody, FieldProblem
from channels.http import json_error
from gateway.apidoc import operation
from gateway.auth import STAFF_READERS, require_staff
from gateway.case_detail import (
    AdminComplaint,
    AdminComplaintDetail,
    admin_view,
    detail,
    queue_sight,
)
from gateway.context import Gateway, gateway_of
from gateway.errors import read_json, validation_error
from gateway.queue import QueueParams, complaint_query
from store.base import InvalidCursor
from workflow.actions import ActionRequest, InvalidField, NotAllowed, Refused, StaleVersion
from workflow.roles import Actor
from workflow.service import CaseView

routes = web.RouteTableDef()
MAX_ACTION_BYTES = 64 * 1024
_ACTION = TypeAdapter(ActionRequest)


class QueueResponse(BaseModel):
    items: list[AdminComplaint]
    next_cursor: str | None


class ActionRefused(ErrorBody):
    """A 409: the action is not (or no longer) possible in the case's state."""

    state: str | None = Field(description="the case's state now")
    allowed_actions: list[str] = Field(description="what the caller may do in it")


@routes.get("/api/v1/complaints")
@operation(
    "The unified queue (an agency's roles see their agency's cases)",
    {200: (QueueResponse, "One page of the queue")},
    query=QueueParams,
    secured=True,
    errors=(400, 401, 403, 422),
)
async def queue(request: web.Request) -> web.Response:
    gw = gateway_of(request)
    actor = await require_staff(request, STAFF_READERS)
    try:
        params = QueueParams.model_validate(
            dict(request.query), context=gw.intake.validation_context()
        )
    except ValidationError as exc:
        raise validation_error(exc, "Parameter pencarian tidak valid.") from None
    now = gw.clock()
    try:
        page = await gw.store.list_complaints(complaint_query(gw, params, actor, now), now)
    except InvalidCursor:
        raise json_error(400, "invalid_cursor", "Kursor halaman tidak valid.") from None
    items = [admin_view(i.complaint, i.case, now, queue_sight(actor, i.case)) for i in page.items]
    body = QueueResponse(items=items, next_cursor=page.next_cursor)
    return web.Response(text=body.model_dump_json(), content_type="application/json")


@routes.get("/api/v1/complaints/{tracking_id}")
@operation(
    "One case with its timeline and what the caller may do",
    {200: (AdminComplaintDetail, "The case")},
    secured=True,
    errors=(401, 403, 404),
)
async def one(request: web.Request) -> web.Response:
    gw = gateway_of(request)
    actor = await require_staff(request, STAFF_READERS)
    view = await _view(gw, request, actor)
    return _detail_response(await detail(gw, view, actor))


@routes.post("/api/v1/complaints/{tracking_id}/actions")
@operation(
    "Take one workflow action on the case's current version",
    {
        200: (AdminComplaintDetail, "Taken; the case as it is now"),
        409: (ActionRefused, "Not in this state, or a stale version"),
    },
    body=_ACTION.json_schema(ref_template="#/components/schemas/{model}"),
    secured=True,
    errors=(400, 401, 403, 404, 413, 415, 422, 503),
)
async def act(request: web.Request) -> web.Response:
    gw = gateway_of(request)
    actor = await require_staff(request, STAFF_READERS)
    body = await read_json(request, MAX_ACTION_BYTES)
    try:
        action = _ACTION.validate_python(body)
    except ValidationError as exc:
        raise validation_error(exc, "Data aksi belum benar.") from None
    try:
        await gw.workflow.act(request.match_info["tracking_id"], actor, action)
    except Refused as exc:
        raise _refusal(exc) from None
    view = await _view(gw, request, actor)
    return _detail_response(await detail(gw, view, actor))


async def _view(gw: Gateway, request: web.Request, actor: Actor) -> CaseView:
    try:
        return await gw.workflow.view(request.match_info["tracking_id"], actor)
    except Refused as exc:
        raise _refusal(exc) from None


def _refusal(exc: Refused) -> web.HTTPException:
    """The workflow's refusal as the API answers it: 403, 404, 422 naming the field, or
    409 with the case's state and what may be done in it."""
    if isinstance(exc, NotAllowed):
        code = "stale_version" if isinstance(exc, StaleVersion) else "not_allowed"
        body = ActionRefused(
            error=code, message=exc.message, state=exc.state or None, allowed_actions=exc.allowed
        )
        error = web.HTTPException(text=body.model_dump_json(), content_type="application/json")
        error.set_status(409)
        return error
    fields = (
        [FieldProblem(field=exc.field, reason=exc.reason)] if isinstance(exc, InvalidField) else []
    )
    codes = {403: "forbidden", 404: "not_found", 422: "validation_error"}
    return json_error(exc.status, codes.get(exc.status, "refused"), exc.message, fields)


def _detail_response(detail: AdminComplaintDetail) -> web.Response:
    return web.Response(text=detail.model_dump_json(), content_type="application/json")
