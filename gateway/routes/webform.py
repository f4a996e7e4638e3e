"""`/lapor`: the citizen web form and its receipt."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from channels.complaint_fields import ComplaintFields
from channels.webform.form import form_to_fields
from gateway.context import Gateway, gateway_of
from gateway.forms import FormRejected, read_form
from gateway.views import field_errors, render
from normalizer.models import Channel, RawPayload
from store.base import IdempotencyConflict, IntakeResult, StoreBusy

CSRF_COOKIE = "lapor_csrf"
CSRF_FIELD = "csrf_token"
CSRF_MAX_AGE = 4 * 3600

routes = web.RouteTableDef()


@routes.get("/lapor")
async def show_form(request: web.Request) -> web.Response:
    return _form_page(request, values={}, errors={})


@routes.post("/lapor")
async def submit_form(request: web.Request) -> web.Response:
    gw = gateway_of(request)
    try:
        form = await read_form(request, gw.blobs, gw.form_limits, gate_field=CSRF_FIELD)
    except FormRejected as exc:
        return _rejected(request, exc, values={})
    submission_id = gw.signer.check_csrf(
        form.fields.get(CSRF_FIELD, ""), request.cookies.get(CSRF_COOKIE, ""), CSRF_MAX_AGE
    )
    if submission_id is None:
        return _form_page(request, form.fields, {}, gw.profile.message("error.csrf"), status=403)
    try:
        fields = ComplaintFields.model_validate(
            form_to_fields(form.fields), context=gw.intake.validation_context()
        )
    except ValidationError as exc:
        errors = field_errors(exc, gw.profile)
        return _form_page(request, form.fields, errors, gw.profile.message("error.invalid"), 422)
    inbound = fields.to_inbound(
        Channel.WEB,
        gw.clock(),
        external_id=submission_id,
        attachments=tuple(form.attachments),
        raw=RawPayload(content_type="application/json", body=fields.model_dump_json().encode()),
    )
    try:
        result = await gw.intake.submit(inbound)
    except IdempotencyConflict:
        # The same form sent again with other contents: the person went back and edited.
        # A fresh form token lets them send the edited text as a new complaint.
        message = gw.profile.message("error.resubmitted")
        return _form_page(request, form.fields, {}, message, status=409)
    except StoreBusy:
        return _form_page(request, form.fields, {}, gw.profile.message("error.busy"), 503)
    return receipt_page(request, gw, result)


def receipt_page(
    request: web.Request,
    gw: Gateway,
    result: IntakeResult,
    template: str = "receipt.html",
    **extra: Any,
) -> web.Response:
    complaint = result.complaint
    verification, completion = gw.intake.deadlines(complaint.received_at)
    context = {
        "complaint": complaint,
        "status_url": gw.public_url(request, f"/status/{complaint.tracking_id}"),
        "verification_due": verification.due_date,
        "completion_due": completion.due_date,
        "received_local": complaint.received_at.astimezone(gw.profile.zone),
        **extra,
    }
    return render(request, template, context, status=201 if result.created else 200)


def _form_page(
    request: web.Request,
    values: dict[str, str],
    errors: dict[str, str],
    message: str | None = None,
    status: int = 200,
) -> web.Response:
    gw = gateway_of(request)
    nonce = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
    token = gw.signer.csrf_token(nonce, uuid.uuid4().hex)
    values = {k: v for k, v in values.items() if k != CSRF_FIELD}
    response = render(
        request,
        "lapor.html",
        {
            "values": values,
            "errors": errors,
            "message": message,
            "csrf_token": token,
            "max_upload_mb": gw.settings.max_upload_bytes // 2**20,
            "max_upload_files": gw.settings.max_upload_files,
        },
        status=status,
    )
    response.set_cookie(
        CSRF_COOKIE,
        nonce,
        httponly=True,
        samesite="Lax",
        secure=gw.secure_cookies(),
        max_age=CSRF_MAX_AGE,
        path="/",
    )
    return response


def _rejected(request: web.Request, exc: FormRejected, values: dict[str, str]) -> web.Response:
    gw = gateway_of(request)
    message = (
        gw.profile.message(exc.key, **exc.values) if exc.values else gw.profile.message(exc.key)
    )
    errors = {exc.field: message} if exc.field else {}
    return _form_page(request, values, errors, message, status=exc.status)
