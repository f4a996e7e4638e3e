"""`/desk`: the front-desk page where staff log walk-in and phone complaints."""

from __future__ import annotations

import secrets
import uuid

from aiohttp import web
from pydantic import ValidationError

from channels.desk.models import DeskComplaintRequest
from channels.webform.form import form_to_fields
from gateway.auth import Role
from gateway.context import gateway_of
from gateway.forms import FormRejected, read_form
from gateway.routes.webform import CSRF_COOKIE, CSRF_FIELD, CSRF_MAX_AGE, receipt_page
from gateway.views import field_errors, render
from normalizer.models import Channel, RawPayload
from store.base import IdempotencyConflict, StoreBusy

SESSION_COOKIE = "lapor_desk"
SESSION_MAX_AGE = 12 * 3600  # one working day at the counter

routes = web.RouteTableDef()


def _staff(request: web.Request) -> str | None:
    gw = gateway_of(request)
    cookie = request.cookies.get(SESSION_COOKIE, "")
    staff_id = gw.signer.check_session(cookie, Role.DESK.value, SESSION_MAX_AGE) if cookie else None
    # A token removed from the settings ends its holder's sessions at the next restart.
    return staff_id if staff_id is not None and gw.staff.has(Role.DESK, staff_id) else None


@routes.get("/desk")
async def desk_page(request: web.Request) -> web.Response:
    staff_id = _staff(request)
    if staff_id is None:
        return _login_page(request, status=401)
    return _desk_form(request, staff_id, values={}, errors={})


@routes.post("/desk/login")
async def login(request: web.Request) -> web.Response:
    gw = gateway_of(request)
    try:
        form = await read_form(request, None, gw.form_limits, gate_field=CSRF_FIELD)
    except FormRejected:
        return _login_page(request, status=400)
    who = gw.staff.identify(form.fields.get("token", "").strip())
    if who is None or who[0] is not Role.DESK:
        return _login_page(request, error=gw.profile.message("error.login"), status=403)
    response = web.HTTPSeeOther("/desk")
    response.set_cookie(
        SESSION_COOKIE,
        gw.signer.session(who[1], Role.DESK.value),
        httponly=True,
        samesite="Strict",
        secure=gw.secure_cookies(),
        max_age=SESSION_MAX_AGE,
        path="/",
    )
    raise response


@routes.post("/desk/logout")
async def logout(request: web.Request) -> web.Response:
    response = web.HTTPSeeOther("/desk")
    response.del_cookie(SESSION_COOKIE, path="/")
    raise response


@routes.post("/desk")
async def desk_submit(request: web.Request) -> web.Response:
    gw = gateway_of(request)
    staff_id = _staff(request)
    if staff_id is None:
        return _login_page(request, status=401)
    try:
        form = await read_form(request, gw.blobs, gw.form_limits, gate_field=CSRF_FIELD)
    except FormRejected as exc:
        message = gw.profile.message(exc.key, **exc.values)
        return _desk_form(request, staff_id, {}, {exc.field or "-": message}, message, exc.status)
    submission_id = gw.signer.check_csrf(
        form.fields.get(CSRF_FIELD, ""), request.cookies.get(CSRF_COOKIE, ""), CSRF_MAX_AGE
    )
    if submission_id is None:
        return _desk_form(request, staff_id, form.fields, {}, gw.profile.message("error.csrf"), 403)
    try:
        fields = DeskComplaintRequest.model_validate(
            form_to_fields(form.fields), context=gw.intake.validation_context()
        )
    except ValidationError as exc:
        errors = field_errors(exc, gw.profile)
        message = gw.profile.message("error.invalid")
        return _desk_form(request, staff_id, form.fields, errors, message, 422)
    inbound = fields.to_inbound(
        Channel(fields.channel),
        gw.clock(),
        external_id=submission_id,
        attachments=tuple(form.attachments),
        raw=RawPayload(content_type="application/json", body=fields.model_dump_json().encode()),
        logged_by=staff_id,
    )
    try:
        result = await gw.intake.submit(inbound)
    except IdempotencyConflict:
        message = gw.profile.message("error.resubmitted")
        return _desk_form(request, staff_id, form.fields, {}, message, 409)
    except StoreBusy:
        return _desk_form(request, staff_id, form.fields, {}, gw.profile.message("error.busy"), 503)
    return receipt_page(request, gw, result, template="desk_receipt.html", staff_id=staff_id)


def _login_page(request: web.Request, error: str | None = None, status: int = 200) -> web.Response:
    return render(request, "desk_login.html", {"error": error}, status=status)


def _desk_form(
    request: web.Request,
    staff_id: str,
    values: dict[str, str],
    errors: dict[str, str],
    message: str | None = None,
    status: int = 200,
) -> web.Response:
    gw = gateway_of(request)
    nonce = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
    context = {
        "staff_id": staff_id,
        "values": {k: v for k, v in values.items() if k != CSRF_FIELD},
        "errors": errors,
        "message": message,
        "csrf_token": gw.signer.csrf_token(nonce, uuid.uuid4().hex),
        "max_upload_mb": gw.settings.max_upload_bytes // 2**20,
        "max_upload_files": gw.settings.max_upload_files,
    }
    response = render(request, "desk.html", context, status=status)
    response.set_cookie(
        CSRF_COOKIE,
        nonce,
        httponly=True,
        samesite="Strict",
        secure=gw.secure_cookies(),
        max_age=CSRF_MAX_AGE,
        path="/",
    )
    return response
