"""Public pages: health, and the citizen's status page (HTML or JSON) where, with a code,
they answer the Admin Penghubung's question or rate the answer."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Callable
from datetime import date
from typing import Literal
from urllib.parse import parse_qsl, quote

from aiohttp import web
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from channels.app.models import FieldProblem
from channels.http import json_error, read_body_within
from gateway import csrf
from gateway.apidoc import H, operation
from gateway.context import Gateway, gateway_of
from gateway.errors import validation_error
from gateway.views import render
from normalizer.casework import CitizenReply
from normalizer.models import Channel, Complaint, TimelineEntry
from normalizer.tracking import InvalidTrackingId, parse_tracking_id
from store.workflow import CaseRecord
from workflow.citizen import PUAS, TIDAK_PUAS
from workflow.codes import CodeCheck, CodeRequest
from workflow.states import CaseState

VERSION = "0.1.0"
MAX_FORM_BYTES = 16 * 1024

routes = web.RouteTableDef()


class PublicStep(BaseModel):
    at: AwareDatetime
    label: str


class PublicAnswer(BaseModel):
    agency: str
    number: str
    text: str
    published_at: AwareDatetime


class PublicStatus(BaseModel):
    """What anyone holding the tracking ID may see: never who reported or handled it,
    never a confidential complaint's text or answer."""

    tracking_id: str
    state: str | None
    state_label: str
    received_at: AwareDatetime
    classification: str
    category: str | None
    agency: str | None
    verification_due: date | None
    completion_due: date | None
    confidential: bool
    text: str | None
    location: str | None
    timeline: list[PublicStep] = []
    question: str | None = Field(default=None, description="what the citizen is asked, on hold")
    answer: PublicAnswer | None = None
    may_reply: bool = Field(default=False, description="a question waits for the citizen")
    may_rate: bool = Field(default=False, description="the answer waits for a rating")


class CitizenAnswer(BaseModel):
    """What the status page's forms answer a JSON client, in Bahasa Indonesia."""

    message: str


class Health(BaseModel):
    status: str
    version: str
    profile: str
    database: dict[str, object]
    channels: dict[str, dict[str, object]]


class CitizenForm(BaseModel):
    """The status page's forms; `kode` is the 6-digit code."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    kode: str = Field(pattern=r"^\s*\d{6}\s*$")
    text: str = Field(default="", max_length=4000)
    rating: Literal["puas", "tidak_puas"] | None = None


def _citizen_step_doc(summary: str) -> Callable[[H], H]:
    answer = (CitizenAnswer, "Taken, or why not")
    return operation(
        summary,
        {202: answer, 403: answer, 409: answer, 429: answer},
        body=CitizenForm,
        errors=(400, 404, 413, 422, 503),
        html=(202, 403, 404, 409, 429),
    )


@routes.get("/healthz")
@operation(
    "Health: the store, and each channel's state",
    {200: (Health, "Up"), 503: (Health, "The store cannot answer")},
)
async def healthz(request: web.Request) -> web.Response:
    gw = gateway_of(request)
    try:
        database = await gw.store.health()
        status, code = "ok", 200
    except Exception as exc:  # a health check reports, it does not crash
        database, status, code = {"error": type(exc).__name__}, "degraded", 503
    channels: dict[str, object] = {}
    for channel in gw.channels:
        # One channel's trouble shows here and leaves the gateway up: only the store
        # makes a load balancer take it out.
        try:
            channels[channel.name] = await channel.health()
        except Exception as exc:
            channels[channel.name] = {"status": "error", "error": type(exc).__name__}
    body = Health(
        status=status,
        version=VERSION,
        profile=gw.profile.key,
        database=database,
        channels=channels,
    )
    return web.Response(text=body.model_dump_json(), status=code, content_type="application/json")


@routes.get("/")
async def home(request: web.Request) -> web.Response:
    raise web.HTTPFound("/lapor")


@routes.get("/status")
async def status_lookup(request: web.Request) -> web.Response:
    given = request.query.get("id", "").strip()
    if given:
        # The canonical ID when it is one; anything else stays one quoted path segment,
        # for the status page to explain.
        with contextlib.suppress(InvalidTrackingId):
            given = parse_tracking_id(given)
        raise web.HTTPSeeOther(f"/status/{quote(given, safe='')}")
    return render(request, "status.html", {"status": None, "problem": None})


@routes.get("/status/{tracking_id}")
@operation(
    "Public status (JSON with Accept: application/json, else the page)",
    {200: (PublicStatus, "Status")},
    errors=(404,),
    html=(200, 404),
)
async def status(request: web.Request) -> web.Response:
    gw = gateway_of(request)
    found = await _complaint(request)
    if isinstance(found, web.Response):
        return found
    view = await public_status(gw, found)
    if _prefers_json(request):
        return web.Response(text=view.model_dump_json(), content_type="application/json")
    return _page(request, view, request.query.get("pesan"))


@routes.post("/status/{tracking_id}/code")
@_citizen_step_doc("Send a 6-digit code to the complaint's reply address")
async def request_code(request: web.Request) -> web.Response:
    gw = gateway_of(request)
    found = await _complaint(request)
    if isinstance(found, web.Response):
        return found
    await _form(request, found, need_code=False)
    outcome = await gw.codes.send(found)
    key = {
        CodeRequest.SENT: "status.code_sent",
        CodeRequest.WAIT: "status.code_wait",
        CodeRequest.UNREACHABLE: "status.code_unreachable",
    }[outcome]
    status_code = {CodeRequest.SENT: 202, CodeRequest.WAIT: 429, CodeRequest.UNREACHABLE: 409}
    return await _answered(request, gw, found, key, status_code[outcome])


@routes.post("/status/{tracking_id}/reply")
@_citizen_step_doc("Answer the question on hold (needs the code)")
async def reply(request: web.Request) -> web.Response:
    return await _citizen_step(request, "followup")


@routes.post("/status/{tracking_id}/rating")
@_citizen_step_doc("Rate the published answer (needs the code)")
async def rating(request: web.Request) -> web.Response:
    return await _citizen_step(request, "rating")


async def _citizen_step(request: web.Request, kind: str) -> web.Response:
    """An answer to the question on hold, or a rating of the answer, with a valid code."""
    gw = gateway_of(request)
    found = await _complaint(request)
    if isinstance(found, web.Response):
        return found
    form = await _form(request, found, need_code=True)
    case = await gw.store.get_case(found.id)
    waiting = CaseState.DITUNDA if kind == "followup" else CaseState.DIJAWAB
    if case is None or case.state != waiting:
        return await _answered(request, gw, found, "status.not_now", 409)
    if kind == "followup" and not form.text:
        raise json_error(422, "validation_error", "Isi jawaban Anda.", _field("text", "required"))
    if kind == "rating" and form.rating is None:
        raise json_error(422, "validation_error", "Pilih penilaian.", _field("rating", "required"))
    checked = await gw.codes.check(found, form.kode)
    if checked is not CodeCheck.OK:
        key = "status.code_locked" if checked is CodeCheck.LOCKED else "status.code_wrong"
        return await _answered(request, gw, found, key, 403)
    await gw.store.add_citizen_reply(
        CitizenReply(
            complaint_id=found.id,
            channel=Channel.WEB,
            external_id=f"status:{uuid.uuid4().hex}",
            text=form.text,
            received_at=gw.clock(),
            kind=kind,
            rating=(PUAS if form.rating == "puas" else TIDAK_PUAS) if kind == "rating" else None,
        )
    )
    key = "status.reply_sent" if kind == "followup" else "status.rating_sent"
    return await _answered(request, gw, found, key, 202)


async def _complaint(request: web.Request) -> Complaint | web.Response:
    gw = gateway_of(request)
    wants_json = _prefers_json(request)
    given = request.match_info["tracking_id"]
    try:
        tracking_id = parse_tracking_id(given)
    except InvalidTrackingId:
        return _not_found(request, wants_json, "status.mistyped", given)
    complaint = await gw.store.get_complaint(tracking_id)
    if complaint is None:
        return _not_found(request, wants_json, "status.not_found", tracking_id)
    return complaint


async def _form(request: web.Request, complaint: Complaint, *, need_code: bool) -> CitizenForm:
    """The form's fields (JSON, or a page's form with its CSRF token)."""
    gw = gateway_of(request)
    body = await read_body_within(request, MAX_FORM_BYTES)
    if request.content_type == "application/json":
        try:
            data = json.loads(body)
        except ValueError:
            raise json_error(400, "malformed_json", "JSON tidak dapat dibaca.") from None
        if not isinstance(data, dict):
            raise json_error(400, "malformed_json", "Kirim objek JSON.")
    else:
        try:
            data = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        except UnicodeDecodeError:
            raise json_error(400, "malformed_form", "Formulir tidak dapat dibaca.") from None
        if csrf.purpose_of(request, str(data.get(csrf.CSRF_FIELD, ""))) != _csrf_purpose(complaint):
            raise json_error(403, "csrf", gw.profile.message("error.csrf"))
    if not need_code:
        return CitizenForm.model_construct(kode="", text="", rating=None)
    try:
        return CitizenForm.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, "Isian belum benar.") from None


def _field(name: str, reason: str) -> list[FieldProblem]:
    return [FieldProblem(field=name, reason=reason)]


def _csrf_purpose(complaint: Complaint) -> str:
    return f"status:{complaint.tracking_id}"


async def _answered(
    request: web.Request, gw: Gateway, complaint: Complaint, key: str, code: int
) -> web.Response:
    message = gw.profile.message(key)
    if request.content_type == "application/json" or _prefers_json(request):
        body = CitizenAnswer(message=message).model_dump_json()
        return web.Response(text=body, status=code, content_type="application/json")
    return _page(request, await public_status(gw, complaint), message, status=code)


def _page(
    request: web.Request, view: PublicStatus, message: str | None, status: int = 200
) -> web.Response:
    token, nonce = csrf.issue(request, f"status:{view.tracking_id}")
    context = {"status": view, "problem": None, "message": message, "csrf_token": token}
    response = render(request, "status.html", context, status=status)
    csrf.keep_nonce(request, response, nonce)
    return response


async def public_status(gw: Gateway, complaint: Complaint) -> PublicStatus:
    profile = gw.profile
    record = await gw.store.case_record(complaint.id)
    case = record.case if record else None
    category = profile.category_by_code.get(complaint.category or "")
    secret = complaint.confidential
    timeline = await gw.store.timeline(complaint.id)
    state = case.state if case else None
    return PublicStatus(
        tracking_id=complaint.tracking_id,
        state=state,
        state_label=profile.message(f"state.{state or 'null'}"),
        received_at=complaint.received_at,
        classification=complaint.classification.value,
        category=category.name if category else None,
        agency=profile.agency_names.get(case.agency) if case and case.agency else None,
        verification_due=case.verification_due if case else None,
        completion_due=case.completion_due if case else None,
        confidential=secret,
        text=None if secret else complaint.text,
        location=None if secret else complaint.location,
        timeline=_public_steps(gw, timeline),
        question=_question(timeline) if state == CaseState.DITUNDA and not secret else None,
        answer=None if secret or record is None else _answer(gw, record),
        may_reply=state == CaseState.DITUNDA,
        may_rate=state == CaseState.DIJAWAB,
    )


def _public_steps(gw: Gateway, timeline: list[TimelineEntry]) -> list[PublicStep]:
    """Each step in plain Indonesian; no names, no notes, nothing said to the citizen."""
    steps = []
    for entry in timeline:
        key = f"timeline.{entry.kind}"
        with contextlib.suppress(KeyError):
            steps.append(PublicStep(at=entry.at, label=gw.profile.message(key)))
    return steps


def _question(timeline: list[TimelineEntry]) -> str | None:
    asked = [e.note for e in timeline if e.kind == "case.tunda"]
    return asked[-1] if asked else None


def _answer(gw: Gateway, record: CaseRecord) -> PublicAnswer | None:
    published = [n for n in record.notas if n.published_at is not None]
    if not published:
        return None
    nota = published[-1]
    assert nota.published_at is not None
    return PublicAnswer(
        agency=gw.profile.agency_names.get(nota.agency, nota.agency),
        number=nota.number,
        text=nota.text,
        published_at=nota.published_at,
    )


def _prefers_json(request: web.Request) -> bool:
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


def _not_found(request: web.Request, wants_json: bool, key: str, given: str) -> web.Response:
    gw = gateway_of(request)
    message = gw.profile.message(key, tracking_id=given[:20])
    if wants_json:
        raise json_error(404, "not_found", message)
    return render(request, "status.html", {"status": None, "problem": message}, status=404)
