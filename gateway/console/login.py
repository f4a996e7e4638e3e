"""`/admin/login` and `/admin/logout`: staff accounts sign in to the console."""

from __future__ import annotations

from aiohttp import web

from gateway.accounts import BadLogin, LockedOut, actor_of
from gateway.console.access import CONSOLE_ROLES, checked, page, posted
from gateway.context import gateway_of
from gateway.forms import FormRejected, read_form
from gateway.sessions import CONSOLE
from workflow.roles import Role

routes = web.RouteTableDef()


def _next(request: web.Request, given: str) -> str:
    """Where to go after signing in: a page of the console, never another site."""
    return given if given.startswith("/admin/") and not given.startswith("//") else "/admin/"


@routes.get("/admin/login")
async def login_page(request: web.Request) -> web.Response:
    target = _next(request, request.query.get("next", ""))
    return page(request, "login.html", None, {"next": target})


@routes.post("/admin/login")
async def login(request: web.Request) -> web.Response:
    gw = gateway_of(request)
    try:
        form = await read_form(request, gw.form_limits)
    except FormRejected as exc:
        return page(request, "login.html", None, {"next": "/admin/"}, exc.status)
    fields = form.fields
    checked(request, fields)
    target = _next(request, fields.get("next", ""))

    def refused(key: str, status: int) -> web.Response:
        context = {
            "next": target,
            "error": gw.profile.message(key),
            "username": fields.get("username", ""),
        }
        return page(request, "login.html", None, context, status)

    try:
        account = await gw.accounts.sign_in(
            fields.get("username", "").strip(), fields.get("password", ""), gw.client_of(request)
        )
    except LockedOut as exc:
        response = refused("error.locked", 429)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except BadLogin:
        return refused("error.login_account", 403)
    if Role(account.role) not in CONSOLE_ROLES:
        return refused("error.login_account", 403)  # front-desk staff sign in at /desk
    issued = await gw.accounts.start_session(actor_of(account))
    response = web.HTTPSeeOther(target)
    CONSOLE.keep(request, response, issued)
    raise response


@routes.post("/admin/logout")
async def logout(request: web.Request) -> web.Response:
    await posted(request)
    response = web.HTTPSeeOther("/admin/login")
    await CONSOLE.end(request, response)
    raise response
