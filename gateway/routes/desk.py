"""`/desk`: the front-desk page where staff log walk-in and phone complaints."""

from __future__ import annotations

from aiohttp import web

from channels.desk.models import DeskComplaintRequest
from gateway.auth import Role
from gateway.complaint_form import FormPage, receipt_page, submit_complaint_form
from gateway.context import gateway_of
from gateway.forms import FormRejected, read_form
from gateway.views import render
from normalizer.models import Channel

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
    return _page(staff_id).show(request)


@routes.post("/desk/login")
async def login(request: web.Request) -> web.Response:
    gw = gateway_of(request)
    try:
        form = await read_form(request, gw.form_limits)
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
    staff_id = _staff(request)
    if staff_id is None:
        return _login_page(request, status=401)
    page = _page(staff_id)
    outcome = await submit_complaint_form(
        request,
        page,
        DeskComplaintRequest,
        channel_of=lambda fields: Channel(fields.channel),
        logged_by=staff_id,
    )
    if isinstance(outcome, web.Response):
        return outcome
    gw = gateway_of(request)
    return receipt_page(request, gw, outcome, template="desk_receipt.html", staff_id=staff_id)


def _page(staff_id: str) -> FormPage:
    return FormPage(template="desk.html", same_site="Strict", context={"staff_id": staff_id})


def _login_page(request: web.Request, error: str | None = None, status: int = 200) -> web.Response:
    return render(request, "desk_login.html", {"error": error}, status=status)
