"""`/desk`: the front-desk page where staff log walk-in and phone complaints, and print
the answer letters (or call the citizens) of the complaints they took.

Staff sign in with a `petugas_loket` account or a token of `LAPOR_DESK_TOKENS`; either
way the session is kept on the server, and signing out, a new password, a disabled
account or a rotated token ends it at once.
"""

from __future__ import annotations

from aiohttp import web

from channels.desk.models import DeskComplaintRequest
from gateway import csrf
from gateway.accounts import BadLogin, LockedOut, actor_of
from gateway.complaint_form import FormPage, receipt_page, submit_complaint_form
from gateway.context import gateway_of
from gateway.forms import FormRejected, read_form
from gateway.sessions import DESK
from gateway.views import render
from normalizer.models import Channel
from workflow.roles import Actor, Role

LOGIN, LOGOUT = "desk-login", "desk-logout"

routes = web.RouteTableDef()


async def desk_officer(request: web.Request) -> Actor | None:
    """The front-desk officer signed in on this browser, if any."""
    return await DESK.actor(request, {Role.PETUGAS_LOKET})


@routes.get("/desk")
async def desk_page(request: web.Request) -> web.Response:
    officer = await desk_officer(request)
    if officer is None:
        return _login_page(request, status=401)
    return (await _page(request, officer)).show(request)


@routes.post("/desk/login")
async def login(request: web.Request) -> web.Response:
    gw = gateway_of(request)
    try:
        form = await read_form(request, gw.form_limits)
    except FormRejected as exc:
        return _login_page(request, status=exc.status)
    fields = form.fields
    if csrf.purpose_of(request, fields.get(csrf.CSRF_FIELD, "")) != LOGIN:
        return _login_page(request, error=gw.profile.message("error.csrf"), status=403)
    username, token = fields.get("username", "").strip(), fields.get("token", "").strip()
    address = gw.client_of(request)
    try:
        if username:
            account = await gw.accounts.sign_in(username, fields.get("password", ""), address)
            if account.role != Role.PETUGAS_LOKET:
                raise BadLogin
            issued = await gw.accounts.start_session(actor_of(account))
        else:
            officer = await gw.accounts.operator(token, address)
            issued = await gw.accounts.start_session(officer, operator_token=token)
    except LockedOut as exc:
        response = _login_page(request, error=gw.profile.message("error.locked"), status=429)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except BadLogin:
        return _login_page(request, error=gw.profile.message("error.login"), status=403)
    response = web.HTTPSeeOther("/desk")
    DESK.keep(request, response, issued)
    raise response


@routes.post("/desk/logout")
async def logout(request: web.Request) -> web.Response:
    """Signing out ends every session of the officer, on every browser."""
    gw = gateway_of(request)
    form = await read_form(request, gw.form_limits)
    if csrf.purpose_of(request, form.fields.get(csrf.CSRF_FIELD, "")) != LOGOUT:
        return _login_page(request, error=gw.profile.message("error.csrf"), status=403)
    response = web.HTTPSeeOther("/desk")
    await DESK.end(request, response)
    raise response


@routes.post("/desk")
async def desk_submit(request: web.Request) -> web.Response:
    officer = await desk_officer(request)
    if officer is None:
        return _login_page(request, status=401)
    page = await _page(request, officer)
    outcome = await submit_complaint_form(
        request,
        page,
        DeskComplaintRequest,
        channel_of=lambda fields: Channel(fields.channel),
        logged_by=officer.username,
    )
    if isinstance(outcome, web.Response):
        return outcome
    gw = gateway_of(request)
    code = await gw.codes.for_desk(outcome.complaint)
    return receipt_page(
        request,
        gw,
        outcome,
        template="desk_receipt.html",
        staff_id=officer.username,
        citizen_code=code,
    )


@routes.get("/desk/letters/{message_id}")
async def letter(request: web.Request) -> web.Response:
    """An answer letter to print, or to read out over the phone."""
    officer = await desk_officer(request)
    if officer is None:
        return _login_page(request, status=401)
    gw = gateway_of(request)
    items = await gw.store.desk_items(open_only=False, message_id=request.match_info["message_id"])
    found = next((i for i in items if i.kind == "letter"), None)
    if found is None:
        raise web.HTTPNotFound(text="Surat tidak ditemukan.")
    return render(request, "desk_letter.html", {"item": found, "officer": officer})


@routes.post("/desk/items/{message_id}/{kind}")
async def item_done(request: web.Request) -> web.Response:
    """A letter printed, or a citizen called: it leaves the desk's list."""
    officer = await desk_officer(request)
    if officer is None:
        return _login_page(request, status=401)
    gw = gateway_of(request)
    message_id, kind = request.match_info["message_id"], request.match_info["kind"]
    await gw.store.finish_desk_item(message_id, kind, officer.username, gw.clock())
    raise web.HTTPSeeOther("/desk")


async def _page(request: web.Request, officer: Actor) -> FormPage:
    waiting = await gateway_of(request).store.desk_items(open_only=True)
    logout_token, _ = csrf.issue(request, LOGOUT)
    context = {"staff_id": officer.username, "waiting": waiting, "logout_token": logout_token}
    return FormPage(template="desk.html", same_site="Strict", context=context)


def _login_page(request: web.Request, error: str | None = None, status: int = 200) -> web.Response:
    token, nonce = csrf.issue(request, LOGIN)
    response = render(request, "desk_login.html", {"error": error, "csrf_token": token}, status)
    csrf.keep_nonce(request, response, nonce, "Strict")
    return response
