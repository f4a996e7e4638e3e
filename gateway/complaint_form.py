"""A complaint typed into an HTML form: the citizen's `/lapor` and the front desk's `/desk`.

Both pages take the same fields the same way: a CSRF token that is also the submission's
idempotency key, files stored only behind a good token, validation with the messages
shown beside the fields, and a receipt once the complaint is committed. The pages differ
only in their template, their model and who is recorded as having logged it.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from aiohttp import web
from pydantic import ValidationError

from channels.complaint_fields import ComplaintFields
from channels.webform.form import form_to_fields
from gateway import csrf
from gateway.context import Gateway, gateway_of
from gateway.forms import FormRejected, read_form
from gateway.views import field_errors, render
from normalizer.models import Channel, RawPayload
from store.base import IdempotencyConflict, IntakeResult, StoreBusy
from store.blobs import Uploads

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
        token, nonce = csrf.issue(request, uuid.uuid4().hex)  # a new submission
        context = {
            **self.context,
            "values": {k: v for k, v in (values or {}).items() if k != csrf.CSRF_FIELD},
            "errors": errors or {},
            "message": message,
            "csrf_token": token,
            "max_upload_size": gw.form_limits.max_file_size,
            "max_upload_files": gw.form_limits.max_files,
        }
        response = render(request, self.template, context, status=status)
        csrf.keep_nonce(request, response, nonce, self.same_site)
        return response


async def submit_complaint_form(
    request: web.Request,
    page: FormPage,
    model: type[M],
    channel_of: Callable[[M], Channel],
    logged_by: str | None = None,
) -> IntakeResult | web.Response:
    """The committed complaint, or the form again with the reason it was not taken. The
    files of a form that is not taken are removed with it: no one fills the disk with
    uploads the gateway refused."""
    gw = gateway_of(request)
    uploads = Uploads(gw.blobs)
    try:
        outcome = await _take_form(request, page, model, channel_of, logged_by, uploads)
    except BaseException:
        await uploads.discard(gw.store.referenced_blobs)
        raise
    if isinstance(outcome, web.Response):
        await uploads.discard(gw.store.referenced_blobs)
    else:
        uploads.close()
    return outcome


async def _take_form(
    request: web.Request,
    page: FormPage,
    model: type[M],
    channel_of: Callable[[M], Channel],
    logged_by: str | None,
    uploads: Uploads,
) -> IntakeResult | web.Response:
    gw = gateway_of(request)

    def submission_id(fields: Mapping[str, str]) -> str | None:
        return csrf.purpose_of(request, fields.get(csrf.CSRF_FIELD, ""))

    def gate(fields: Mapping[str, str]) -> FormRejected | None:
        if submission_id(fields) is None:
            return FormRejected(403, "error.csrf")
        wait = gw.upload_allowance.take(gw.client_of(request), gw.clock())
        if wait is not None:
            minutes = math.ceil(wait / 60)
            return FormRejected(429, "error.too_many_uploads", retry_after=wait, minutes=minutes)
        return None

    try:
        form = await read_form(request, gw.form_limits, uploads, gate)
    except FormRejected as exc:
        message = gw.profile.message(exc.key, **exc.values)
        shown = page.show(
            request, {}, {exc.field: message} if exc.field else {}, message, exc.status
        )
        if exc.retry_after is not None:
            shown.headers["Retry-After"] = str(exc.retry_after)
        return shown
    key = submission_id(form.fields)

    def again(message_key: str, status: int, errors: dict[str, str] | None = None) -> web.Response:
        """The form again, as sent: its files are not kept, and the page says so where
        they were chosen (a browser cannot give them back)."""
        errors = dict(errors or {})
        if form.attachments:
            errors.setdefault("attachments", gw.profile.message("error.files_again"))
        return page.show(request, form.fields, errors, gw.profile.message(message_key), status)

    if key is None:
        return again("error.csrf", 403)
    try:
        fields = model.model_validate(
            form_to_fields(form.fields), context=gw.intake.validation_context()
        )
    except ValidationError as exc:
        return again("error.invalid", 422, field_errors(exc, gw.profile))
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
        return again("error.resubmitted", 409)
    except StoreBusy:
        return again("error.busy", 503)


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
