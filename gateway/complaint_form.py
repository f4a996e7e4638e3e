"""A complaint typed into an HTML form: the citizen's `/lapor` and the front desk's `/desk`.

Both pages take the same fields the same way: a CSRF token that is also the submission's
idempotency key, files stored only behind a good token, validation with the messages
shown beside the fields, and a receipt once the complaint is committed. The pages differ
only in their template, their model and who is recorded as having logged it.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

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

M = TypeVar("M", bound=ComplaintFields)


@dataclass(frozen=True)
class FormPage:
    """One page's form: its template and what it adds to the template's context."""

    template: str
    # The citizen's form is often reached by a link from elsewhere (Lax); the desk never is.
    same_site: Literal["Lax", "Strict"]
    context: Mapping[str, Any]

    def show(
        self,
        request: web.Request,
        values: Mapping[str, str] | None = None,
        errors: Mapping[str, str] | None = None,
        message: str | None = None,
        status: int = 200,
    ) -> web.Response:
        """The form, filled with `values`, with a fresh CSRF token (a new submission)."""
        gw = gateway_of(request)
        nonce = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
        context = {
            **self.context,
            "values": {k: v for k, v in (values or {}).items() if k != CSRF_FIELD},
            "errors": errors or {},
            "message": message,
            "csrf_token": gw.signer.csrf_token(nonce, uuid.uuid4().hex),
            "max_upload_mb": gw.form_limits.max_file_mb,
            "max_upload_files": gw.form_limits.max_files,
        }
        response = render(request, self.template, context, status=status)
        response.set_cookie(
            CSRF_COOKIE,
            nonce,
            httponly=True,
            samesite=self.same_site,
            secure=gw.secure_cookies(),
            max_age=CSRF_MAX_AGE,
            path="/",
        )
        return response


async def submit_complaint_form(
    request: web.Request,
    page: FormPage,
    model: type[M],
    channel_of: Callable[[M], Channel],
    logged_by: str | None = None,
) -> IntakeResult | web.Response:
    """The committed complaint, or the form again with the reason it was not taken."""
    gw = gateway_of(request)
    nonce = request.cookies.get(CSRF_COOKIE, "")

    def submission_id(fields: Mapping[str, str]) -> str | None:
        return gw.signer.check_csrf(fields.get(CSRF_FIELD, ""), nonce, CSRF_MAX_AGE)

    try:
        form = await read_form(
            request, gw.form_limits, gw.blobs, lambda fields: submission_id(fields) is not None
        )
    except FormRejected as exc:
        message = gw.profile.message(exc.key, **exc.values)
        return page.show(
            request, {}, {exc.field: message} if exc.field else {}, message, exc.status
        )
    key = submission_id(form.fields)
    if key is None:
        return page.show(request, form.fields, {}, gw.profile.message("error.csrf"), 403)
    try:
        fields = model.model_validate(
            form_to_fields(form.fields), context=gw.intake.validation_context()
        )
    except ValidationError as exc:
        errors = field_errors(exc, gw.profile)
        return page.show(request, form.fields, errors, gw.profile.message("error.invalid"), 422)
    inbound = fields.to_inbound(
        channel_of(fields),
        gw.clock(),
        external_id=key,
        attachments=tuple(form.attachments),
        raw=RawPayload(content_type="application/json", body=fields.model_dump_json().encode()),
        logged_by=logged_by,
    )
    try:
        return await gw.intake.submit(inbound)
    except IdempotencyConflict:
        # The same form sent again with other contents: the person went back and edited.
        # The fresh form token lets them send the edited text as a new complaint.
        return page.show(request, form.fields, {}, gw.profile.message("error.resubmitted"), 409)
    except StoreBusy:
        return page.show(request, form.fields, {}, gw.profile.message("error.busy"), 503)


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
        "status_url": gw.status_url(complaint.tracking_id),
        "verification_due": verification.due_date,
        "completion_due": completion.due_date,
        "received_local": complaint.received_at.astimezone(gw.profile.zone),
        **extra,
    }
    return render(request, template, context, status=201 if result.created else 200)
