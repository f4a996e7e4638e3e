"""Public pages: health and the citizen's status page (HTML or JSON)."""

from __future__ import annotations

import contextlib
from datetime import date
from urllib.parse import quote

from aiohttp import web
from pydantic import AwareDatetime, BaseModel

from gateway.context import Gateway, gateway_of
from gateway.errors import json_error
from gateway.views import render
from normalizer.models import Case, Complaint
from normalizer.tracking import InvalidTrackingId, parse_tracking_id

VERSION = "0.1.0"

routes = web.RouteTableDef()


class PublicStatus(BaseModel):
    """What anyone holding the tracking ID may see: never who reported, never a
    confidential complaint's text."""

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


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    gw = gateway_of(request)
    try:
        database = await gw.store.health()
        status, code = "ok", 200
    except Exception as exc:  # a health check reports, it does not crash
        database, status, code = {"error": type(exc).__name__}, "degraded", 503
    body = {"status": status, "version": VERSION, "profile": gw.profile.key, "database": database}
    return web.json_response(body, status=code)


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
async def status(request: web.Request) -> web.Response:
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
    view = public_status(gw, complaint, await gw.store.get_case(complaint.id))
    if wants_json:
        return web.Response(text=view.model_dump_json(), content_type="application/json")
    return render(request, "status.html", {"status": view, "problem": None})


def public_status(gw: Gateway, complaint: Complaint, case: Case | None) -> PublicStatus:
    profile = gw.profile
    category = profile.category_by_code.get(complaint.category or "")
    return PublicStatus(
        tracking_id=complaint.tracking_id,
        state=case.state if case else None,
        state_label=profile.message(f"state.{case.state if case else 'null'}"),
        received_at=complaint.received_at,
        classification=complaint.classification.value,
        category=category.name if category else None,
        agency=profile.agency_names.get(case.agency) if case and case.agency else None,
        verification_due=case.verification_due if case else None,
        completion_due=case.completion_due if case else None,
        confidential=complaint.confidential,
        text=None if complaint.confidential else complaint.text,
        location=None if complaint.confidential else complaint.location,
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
