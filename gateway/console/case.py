"""`/admin/cases/{tracking_id}`: one case whole, as the signed-in person may see it, with a
form for every action they may take now; its photos and videos.

An action is posted to `/admin/cases/{tracking_id}/actions` and taken by the workflow
service the API calls. A refusal re-renders the page with the reason beside the field and
what was typed kept, so nothing is lost, also when someone else acted first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from aiohttp import web
from pydantic import TypeAdapter, ValidationError

from gateway.case_detail import AdminComplaintDetail, detail
from gateway.console.access import page, posted, refused, signed_in
from gateway.context import Gateway, gateway_of
from gateway.views import field_errors
from normalizer.models import TimelineEntry
from workflow.actions import (
    Action,
    ActionRequest,
    Forbidden,
    InvalidField,
    NotAllowed,
    Refused,
    StaleVersion,
)
from workflow.calendar import WorkingCalendar
from workflow.roles import Actor, Role
from workflow.service import CaseView, NotFound

routes = web.RouteTableDef()
_ACTION = TypeAdapter(ActionRequest)
CHECKBOXES = ("anonymous", "confidential")
# Shown in the page, opened by the browser: what every browser plays; anything else
# (HEIC, MOV, 3GP) is offered as a download.
INLINE_IMAGES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"})
INLINE_VIDEOS = frozenset({"video/mp4", "video/webm"})
FIELD_LABELS = {
    "agency": "Instansi", "category": "Kategori", "classification": "Klasifikasi",
    "note": "Catatan", "question": "Pertanyaan", "reason": "Alasan", "to": "Kepada",
    "duplicate_of": "Sama dengan laporan", "text": "Tindak lanjut", "perihal": "Perihal",
    "isi": "Isi jawaban", "anonymous": "Anonim", "confidential": "Rahasia",
}  # fmt: skip
"""What the page calls a form's fields when it shows what was typed and not saved."""
REJECT_REASONS = {
    "bukan_kewenangan": "Bukan kewenangan pemerintah kabupaten",
    "tidak_layak": "Tidak layak ditindaklanjuti (kurang jelas atau tidak lengkap)",
    "spam": "Spam (tidak dibalas)",
}


@dataclass
class Outcome:
    """What the page says about the form just posted, if anything."""

    status: int = 200
    message: str | None = None
    action: str | None = None
    """The action whose form is shown again with what was typed."""
    kept: dict[str, str] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)


@routes.get("/admin/cases/{tracking_id}")
async def case_page(request: web.Request) -> web.Response:
    actor = await signed_in(request)
    done = request.query.get("done", "")
    outcome = Outcome()
    if done in {a.value for a in Action}:
        outcome.message = f"Tersimpan: {gateway_of(request).profile.message('action.' + done)}."
    return await _show(request, actor, outcome)


@routes.post("/admin/cases/{tracking_id}/actions")
async def take_action(request: web.Request) -> web.Response:
    gw = gateway_of(request)
    actor = await signed_in(request)
    fields = await posted(request, actor)
    tracking_id = request.match_info["tracking_id"]
    action = fields.get("action", "")
    kept = {k: v for k, v in fields.items() if k not in ("csrf_token", "version", "action")}
    try:
        chosen = _ACTION.validate_python(_request_of(fields))
    except ValidationError as exc:
        problems = {_field(k): v for k, v in field_errors(exc, gw.profile).items()}
        message = "Isian belum benar; periksa kolom yang ditandai."
        return await _show(request, actor, Outcome(422, message, action, kept, problems))
    try:
        await gw.workflow.act(tracking_id, actor, chosen)
    except StaleVersion as exc:
        outcome = Outcome(409, await _overtaken(gw, tracking_id, actor, exc), action, kept)
        return await _show(request, actor, outcome)
    except InvalidField as exc:
        problems = {exc.field: exc.reason}
        return await _show(request, actor, Outcome(422, exc.message, action, kept, problems))
    except (NotAllowed, Forbidden) as exc:
        return await _show(request, actor, Outcome(exc.status, exc.message, action, kept))
    except Refused as exc:
        return _refused_page(request, actor, exc)
    raise web.HTTPSeeOther(f"/admin/cases/{tracking_id}?done={action}#aksi")


@routes.get("/admin/cases/{tracking_id}/files/{sha256}")
async def attachment(request: web.Request) -> web.StreamResponse:
    """A photo or video of the complaint, to someone who may see the complaint's files."""
    gw = gateway_of(request)
    actor = await signed_in(request)
    shown = await _detail(request, actor)
    sha256 = request.match_info["sha256"]
    found = next((a for a in shown.attachments if a.sha256 == sha256), None)
    path = gw.blobs.path_for(sha256) if found is not None else None
    if found is None or path is None or not path.is_file():
        raise web.HTTPNotFound(text="Berkas tidak ditemukan.")
    inline = found.content_type in INLINE_IMAGES | INLINE_VIDEOS
    disposition = "inline" if inline else "attachment"
    return web.FileResponse(
        path,
        headers={
            "Content-Type": found.content_type if inline else "application/octet-stream",
            "Content-Disposition": f"{disposition}; filename*=UTF-8''{_quoted(found.filename)}",
            # A file is the citizen's, not a page of ours: it runs nothing, even if forged.
            "Content-Security-Policy": "default-src 'none'; media-src 'self'; sandbox",
            "Cache-Control": "private, max-age=3600",
        },
    )


def _request_of(fields: dict[str, str]) -> dict[str, Any]:
    """The action's request as the API takes it: blank fields left out, boxes ticked."""
    body: dict[str, Any] = {
        k: v for k, v in fields.items() if v.strip() and k not in ("csrf_token", *CHECKBOXES)
    }
    for box in CHECKBOXES:
        if fields.get(box):
            body[box] = True
    return body


def _field(name: str) -> str:
    """A pydantic location in a discriminated union ('konsep.isi') as the form's field."""
    return name.rsplit(".", 1)[-1]


async def _overtaken(gw: Gateway, tracking_id: str, actor: Actor, exc: StaleVersion) -> str:
    """Someone acted first: who, what, and what the case is now."""
    try:
        shown = await _view_detail(gw, tracking_id, actor)
    except Refused:
        return exc.message
    last = next((e for e in reversed(shown.timeline) if e.role), None)
    state = shown.case.state if shown.case else exc.state
    who = ""
    if last is not None and last.role:
        who = f" oleh {last.actor} ({gw.profile.message('role.' + last.role)})"
    return (
        f"Kasus ini baru saja diubah{who}; statusnya sekarang "
        f"{state.replace('_', ' ')}. Isian Anda tidak disimpan dan masih ada di bawah."
    )


async def _view_detail(gw: Gateway, tracking_id: str, actor: Actor) -> AdminComplaintDetail:
    view = await gw.workflow.view(tracking_id, actor)
    return await detail(gw, view, actor)


async def _detail(request: web.Request, actor: Actor) -> AdminComplaintDetail:
    try:
        return await _view_detail(gateway_of(request), request.match_info["tracking_id"], actor)
    except Refused:
        raise web.HTTPNotFound(text="Berkas tidak ditemukan.") from None


def _refused_page(request: web.Request, actor: Actor, exc: Refused) -> web.Response:
    """No such case, or none of theirs: the same 404 either way (an agency's admin learns
    nothing of another agency's cases by guessing addresses)."""
    if isinstance(exc, NotFound):
        return refused(request, actor, 404, "Tidak ditemukan", exc.message)
    return refused(request, actor, exc.status, "Tidak dapat dibuka", exc.message)


async def _show(request: web.Request, actor: Actor, outcome: Outcome) -> web.Response:
    gw = gateway_of(request)
    tracking_id = request.match_info["tracking_id"]
    try:
        view = await gw.workflow.view(tracking_id, actor)
    except Refused as exc:
        return _refused_page(request, actor, exc)
    shown = await detail(gw, view, actor)
    deadline = None
    if shown.case is not None and shown.case.due_at is not None:
        due_at = shown.case.due_at
        calendar = WorkingCalendar.for_profile(gw.profile)
        deadline = (calendar.last_day(due_at), calendar.working_days_left(gw.clock(), due_at))
    context = {
        "deadline": deadline,
        "c": shown,
        "allowed": [a.value for a in view.allowed],
        "outcome": outcome,
        "options": await _options(gw, view),
        "returns": [e for e in shown.timeline if e.kind == f"case.{Action.KEMBALIKAN_KONSEP}"],
        "followups": [e for e in shown.timeline if e.kind.startswith("complaint.") and e.note],
        "sends": [e for e in shown.timeline if e.kind.startswith("sms.") and e.kind != "sms.media"],
        "history": [(e, _label(gw, e.kind)) for e in shown.timeline if _is_step(e)],
        "images": INLINE_IMAGES,
        "videos": INLINE_VIDEOS,
        "reject_reasons": REJECT_REASONS,
        "field_labels": FIELD_LABELS,
    }
    return page(request, "case.html", actor, context, outcome.status)


def _is_step(entry: TimelineEntry) -> bool:
    """The timeline's steps of the case (the messages have their own list)."""
    return not entry.kind.startswith(("message.", "sms."))


def _label(gw: Gateway, kind: str) -> str:
    """A step of the timeline in words: an action by its button's name, else its event."""
    step = kind.removeprefix("case.")
    key = f"action.{step}" if step in {a.value for a in Action} else f"event.{kind}"
    try:
        return gw.profile.message(key)
    except KeyError:  # a kind this console does not know yet: shown as stored
        return kind


async def _options(gw: Gateway, view: CaseView) -> dict[str, Any]:
    """The choices the action forms offer: agencies, the agency's officials, the draft."""
    record = view.record
    agency = record.case.agency if record is not None else None
    pejabat = []
    if Action.DISPOSISI in view.allowed and agency:
        pejabat = [
            s
            for s in await gw.store.list_staff()
            if s.active and s.role == Role.PEJABAT_PENGHUBUNG.value and s.agency == agency
        ]
    draft = record.drafts[-1] if record is not None and record.drafts else None
    return {
        "agencies": gw.profile.agencies,
        "categories": gw.profile.categories,
        "suggested": (record.case.agency or record.case.suggested_agency) if record else None,
        "pejabat": pejabat,
        "draft": draft,
    }


def _quoted(filename: str) -> str:
    return quote(filename, safe="")
