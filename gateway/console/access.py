"""Who is signed in to the console, and what a page does for someone who is not."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote

from aiohttp import web

from gateway import csrf
from gateway.context import gateway_of
from gateway.forms import FormRejected, read_form
from gateway.sessions import CONSOLE
from gateway.views import render
from workflow.roles import Actor, Role

CONSOLE_ROLES = frozenset(
    {Role.ADMIN_INSTANSI, Role.ADMIN_PENGHUBUNG, Role.ADMIN_OPD, Role.PEJABAT_PENGHUBUNG}
)
FORMS = "console"
"""The CSRF purpose of every form of the console's pages."""


async def signed_in(request: web.Request) -> Actor:
    """The person signed in; a signed-out visitor is sent to sign in, and back after."""
    actor = await CONSOLE.actor(request, CONSOLE_ROLES)
    if actor is None:
        raise web.HTTPSeeOther(f"/admin/login?next={quote(request.path_qs, safe='')}")
    return actor


async def posted(request: web.Request, actor: Actor | None = None) -> dict[str, str]:
    """The fields of a console form, its CSRF token checked; a form that cannot be read
    (too big, not a form) is refused with its status and a page saying why, never a 500."""
    gw = gateway_of(request)
    try:
        form = await read_form(request, gw.form_limits)
    except FormRejected as exc:
        message = gw.profile.message(exc.key, **exc.values)
        shown = refused(request, actor, exc.status, "Formulir tidak dapat dibaca", message)
        error = web.HTTPException(body=shown.body, content_type="text/html")
        error.set_status(exc.status)
        raise error from None
    checked(request, form.fields)
    return form.fields


def checked(request: web.Request, fields: dict[str, str]) -> None:
    """Refuse a form of the console posted without its page's CSRF token (403)."""
    if csrf.purpose_of(request, fields.get(csrf.CSRF_FIELD, "")) != FORMS:
        raise web.HTTPForbidden(text="Formulir tidak sah atau kedaluwarsa. Muat ulang halaman.")


def page(
    request: web.Request,
    template: str,
    actor: Actor | None,
    context: Mapping[str, object],
    status: int = 200,
) -> web.Response:
    """A console page, with the CSRF token its forms carry and the person signed in."""
    token, nonce = csrf.issue(request, FORMS)
    response = render(
        request,
        f"admin/{template}",
        {"actor": actor, "csrf_token": token, **context},
        status=status,
    )
    csrf.keep_nonce(request, response, nonce)
    return response


def refused(
    request: web.Request,
    actor: Actor | None,
    status: int,
    title: str,
    message: str,
    back: tuple[str, str] = ("/admin/", "Kembali ke antrian"),
) -> web.Response:
    """A console page saying why not (403, 404, 409): what it is, why, and a way back."""
    context = {"title": title, "message": message, "back": back[0], "back_label": back[1]}
    return page(request, "refused.html", actor, context, status)
