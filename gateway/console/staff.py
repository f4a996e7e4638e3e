"""`/admin/staff` ("Petugas"): the Admin Utama's page of staff accounts.

Every account in a table; a new account, an account disabled and a password set anew, each
through gateway/accounts.py as `lapor-gateway staff add|disable|set-password` does, so the
page and the command line keep the same rules (the username, the agency of a role, the
password's minimum length) and the same effects (a disabled account or a new password ends
every token and session of that account at once).

Only an account that may manage accounts (`Actor.may_manage`: admin_instansi) opens it;
anyone else signed in to the console gets 403. A form that succeeds answers with a redirect
to the list, whose address names what was done (`?selesai=…&akun=…`), said as a sentence
only for an account that exists. A generated password is the one exception: it is shown once,
in the answer to the form that made it, and is never in an address or a log.
"""

from __future__ import annotations

import functools
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from gateway.accounts import MIN_PASSWORD, AccountError
from gateway.console.access import page, posted, refused, signed_in
from gateway.context import gateway_of
from store.staff import AccountExists, NoSuchAccount, StaffAccount
from workflow.roles import Actor, Role

routes = web.RouteTableDef()
log = logging.getLogger(__name__)

GENERATED_BYTES = 12
"""A generated password: secrets.token_urlsafe of 12 bytes, 16 characters (96 bits)."""
DETAILS = ("username", "name", "role", "agency", "jabatan", "nip")
"""The fields of a new account the page keeps when it refuses the form (never a password)."""

_DONE = {
    "ditambahkan": "Akun {akun} ditambahkan sebagai {peran}.",
    "dinonaktifkan": "Akun {akun} dinonaktifkan; semua sesi dan token API-nya berakhir.",
    "sandi": "Kata sandi akun {akun} diganti; semua sesi dan token API-nya berakhir.",
}
"""What the list says after a form succeeded (`?selesai=`), of the account `?akun=`."""

Handler = Callable[[web.Request, Actor], Awaitable[web.Response]]


def _managers_only(handler: Handler) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The page for an account that may manage accounts; for anyone else signed in, 403;
    a username without an account, 404."""

    @functools.wraps(handler)
    async def guarded(request: web.Request) -> web.Response:
        actor = await signed_in(request)
        if not actor.may_manage:
            role = gateway_of(request).profile.message(f"role.{actor.role.value}")
            message = (
                "Halaman Petugas hanya dapat dibuka oleh Admin Utama. "
                f"Anda masuk sebagai {role}; minta Admin Utama bila akun perlu diubah."
            )
            return _refusal(request, actor, 403, "Akses ditolak", message, "/admin/")
        try:
            return await handler(request, actor)
        except NoSuchAccount:
            username = request.match_info.get("username", "")
            message = f"Tidak ada akun petugas dengan nama pengguna “{username}”."
            return _refusal(request, actor, 404, "Akun tidak ditemukan", message, "/admin/staff")

    return guarded


def _refusal(
    request: web.Request, actor: Actor, status: int, title: str, message: str, back: str
) -> web.Response:
    return refused(request, actor, status, title, message, (back, "Kembali"))


def _role_name(request: web.Request, role: Role | str) -> str:
    value = role.value if isinstance(role, Role) else role
    return gateway_of(request).profile.message(f"role.{value}")


def _said(request: web.Request, exc: AccountError, role: Role) -> str:
    """Accounts' refusal as the field's message, in Bahasa Indonesia."""
    profile = gateway_of(request).profile
    if exc.problem == "username":
        return (
            "2–40 huruf kecil, angka, titik, garis bawah atau tanda hubung, "
            "diawali huruf atau angka"
        )
    if exc.problem == "agency_required":
        return f"wajib dipilih untuk peran {_role_name(request, role)}"
    if exc.problem == "agency_refused":
        return f"peran {_role_name(request, role)} tidak terikat pada instansi; kosongkan"
    if exc.problem == "agency_unknown":
        return "bukan instansi dalam profil ini"
    if exc.problem == "password_short":
        return profile.message("field.too_short", min=MIN_PASSWORD)
    return profile.message("field.invalid")


def _passwords(
    request: web.Request, fields: dict[str, str], *, required: bool
) -> tuple[str, dict[str, str]]:
    """The password typed twice, and what is wrong with it (its length is Accounts' rule)."""
    password, again = fields.get("password", ""), fields.get("password2", "")
    if required and not password:
        return password, {"password": gateway_of(request).profile.message("field.required")}
    if password != again:
        return password, {"password2": "tidak sama dengan kata sandi di atas"}
    return password, {}


async def _list_page(
    request: web.Request,
    actor: Actor,
    *,
    entered: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    alert: str | None = None,
    status: int = 200,
) -> web.Response:
    gw = gateway_of(request)
    accounts = await gw.store.list_staff()
    context: dict[str, Any] = {
        "accounts": accounts,
        "roles": list(Role),
        "agencies": gw.profile.agencies,
        "agency_names": gw.profile.agency_names,
        "entered": entered or {},
        "errors": errors or {},
        "alert": alert,
        "done": _done(request, accounts) if status == 200 else None,
        "min_password": MIN_PASSWORD,
    }
    return page(request, "staff.html", actor, context, status)


def _done(request: web.Request, accounts: list[StaffAccount]) -> str | None:
    """The sentence of `?selesai=&akun=`, for an account on the list (else nothing: an
    address cannot make the page say something that was not done)."""
    sentence = _DONE.get(request.query.get("selesai", ""))
    username = request.query.get("akun", "")
    account = next((a for a in accounts if a.username == username), None)
    if sentence is None or account is None:
        return None
    return sentence.format(akun=account.username, peran=_role_name(request, account.role))


def _after(what: str, username: str) -> web.HTTPSeeOther:
    return web.HTTPSeeOther("/admin/staff?" + urlencode({"selesai": what, "akun": username}))


@routes.get("/admin/staff")
@_managers_only
async def staff_page(request: web.Request, actor: Actor) -> web.Response:
    return await _list_page(request, actor)


@routes.post("/admin/staff")
@_managers_only
async def add(request: web.Request, actor: Actor) -> web.Response:
    gw = gateway_of(request)
    fields = await posted(request, actor)
    entered = {name: fields.get(name, "").strip() for name in DETAILS}
    password, errors = _passwords(request, fields, required=True)
    if not entered["username"]:
        errors["username"] = gw.profile.message("field.required")
    role = Role(entered["role"]) if entered["role"] in set(Role) else None
    if role is None:
        errors["role"] = "pilih salah satu peran"
    if errors or role is None:
        return await _list_page(request, actor, entered=entered, errors=errors, status=422)
    try:
        account = await gw.accounts.add(
            entered["username"],
            password,
            role,
            agency=entered["agency"] or None,
            name=entered["name"] or None,
            jabatan=entered["jabatan"] or None,
            nip=entered["nip"] or None,
        )
    except AccountError as exc:
        errors = {exc.field: _said(request, exc, role)}
        return await _list_page(request, actor, entered=entered, errors=errors, status=422)
    except AccountExists:
        errors = {"username": "sudah dipakai akun lain; pilih nama pengguna lain"}
        return await _list_page(request, actor, entered=entered, errors=errors, status=409)
    log.info("staff %s: added as %s by %s", account.username, account.role, actor.username)
    raise _after("ditambahkan", account.username)


@routes.post("/admin/staff/{username}/disable")
@_managers_only
async def disable(request: web.Request, actor: Actor) -> web.Response:
    gw = gateway_of(request)
    await posted(request, actor)
    username = request.match_info["username"]
    if username == actor.username:
        alert = (
            "Anda tidak dapat menonaktifkan akun Anda sendiri: Anda akan langsung keluar dan "
            "tidak ada yang dapat mengaktifkannya kembali dari konsol. Minta Admin Utama lain "
            "bila akun ini memang harus dinonaktifkan."
        )
        return await _list_page(request, actor, alert=alert, status=409)
    await gw.accounts.disable(username)
    log.info("staff %s: disabled by %s; every session ended", username, actor.username)
    raise _after("dinonaktifkan", username)


async def _account(request: web.Request) -> StaffAccount:
    account = await gateway_of(request).store.get_staff(request.match_info["username"])
    if account is None:
        raise NoSuchAccount(request.match_info["username"])
    return account


def _password_page(
    request: web.Request,
    actor: Actor,
    account: StaffAccount,
    *,
    errors: dict[str, str] | None = None,
    generated: str | None = None,
    status: int = 200,
) -> web.Response:
    context = {
        "account": account,
        "role_name": _role_name(request, account.role),
        "own": account.username == actor.username,
        "errors": errors or {},
        "generated": generated,
        "min_password": MIN_PASSWORD,
    }
    response = page(request, "staff_password.html", actor, context, status)
    if generated is not None:
        response.headers["Cache-Control"] = "no-store"
    return response


@routes.get("/admin/staff/{username}/password")
@_managers_only
async def password_page(request: web.Request, actor: Actor) -> web.Response:
    return _password_page(request, actor, await _account(request))


@routes.post("/admin/staff/{username}/password")
@_managers_only
async def reset_password(request: web.Request, actor: Actor) -> web.Response:
    gw = gateway_of(request)
    fields = await posted(request, actor)
    account = await _account(request)
    password, errors = _passwords(request, fields, required=False)
    if errors:
        return _password_page(request, actor, account, errors=errors, status=422)
    generated = None
    if not password:
        password = generated = secrets.token_urlsafe(GENERATED_BYTES)
    try:
        await gw.accounts.set_password(account.username, password)
    except AccountError as exc:
        errors = {exc.field: _said(request, exc, Role(account.role))}
        return _password_page(request, actor, account, errors=errors, status=422)
    how = "generated" if generated else "typed"
    log.info(
        "staff %s: new password (%s) set by %s; every session ended",
        account.username,
        how,
        actor.username,
    )
    if generated is not None:
        return _password_page(request, actor, account, generated=generated)
    raise _after("sandi", account.username)
