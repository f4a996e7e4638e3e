"""Signing in to the console (`/admin/login`) and out (Keluar): a server-side session in an
HttpOnly, SameSite=Lax cookie, CSRF on both forms, the API's lock-out, and every other page
sending a signed-out visitor to sign in and back."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from html import unescape
from pathlib import Path

import pytest
from aiohttp import ClientSession, DummyCookieJar

from gateway.csrf import CSRF_COOKIE
from tests.conftest import Running, start_gateway
from tests.gateway.console.support import COOKIE, Console, People
from tests.gateway.workflow_support import PASSWORD, add_staff
from workflow.roles import Role

PAGES = ["/admin/", "/admin/?state=diterima&mine=true", "/admin/cases/K7M2XQ9PD", "/admin/recap"]


@pytest.fixture
async def browser(gateway: Running) -> AsyncIterator[Console]:
    console = Console(gateway)
    yield console
    await console.close()


@pytest.mark.parametrize("path", PAGES)
async def test_a_signed_out_visitor_is_sent_to_sign_in_and_back(
    gateway: Running, browser: Console, path: str
) -> None:
    await add_staff(gateway, "ani", Role.ADMIN_PENGHUBUNG)
    sent = await browser.get(path, follow=False)
    assert sent.status == 303
    assert sent.location is not None and sent.location.startswith("/admin/login?next=")
    login = await browser.get(sent.location)
    assert "Nama pengguna" in login.text() and "Kata sandi" in login.text()
    assert '<button type="submit">Masuk</button>' in login.html
    signed = await browser.post(
        "/admin/login",
        {"csrf_token": login.csrf(), "username": "ani", "password": PASSWORD,
         "next": _field(login.html, "next")},
        follow=False,
    )  # fmt: skip
    assert signed.status == 303 and signed.location == path


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/desk", ""])
async def test_after_signing_in_only_a_console_page_is_a_destination(
    gateway: Running, browser: Console, target: str
) -> None:
    await add_staff(gateway, "ani", Role.ADMIN_PENGHUBUNG)
    login = await browser.get("/admin/login")
    signed = await browser.post(
        "/admin/login",
        {"csrf_token": login.csrf(), "username": "ani", "password": PASSWORD, "next": target},
        follow=False,
    )
    assert signed.status == 303 and signed.location == "/admin/"


async def test_the_session_cookie_is_httponly_lax_and_names_a_server_side_session(
    gateway: Running, browser: Console
) -> None:
    await add_staff(gateway, "ani", Role.ADMIN_PENGHUBUNG)
    login = await browser.get("/admin/login")
    async with browser.http.post(
        "/admin/login",
        data={"csrf_token": login.csrf(), "username": "ani", "password": PASSWORD},
        allow_redirects=False,
    ) as response:
        [cookie] = [c for c in response.headers.getall("Set-Cookie") if c.startswith(COOKIE)]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert gateway.count("sessions") == 1


async def test_the_cookie_is_secure_behind_an_https_address(tmp_path: Path) -> None:
    running = await start_gateway(tmp_path, public_base_url="https://lapor.ketapangkab.go.id")
    try:
        await add_staff(running, "ani", Role.ADMIN_PENGHUBUNG)
        # A browser sends a Secure cookie back over https only; this client speaks plain
        # http to the test server, so it hands the CSRF cookie back itself.
        async with running.http.get("/admin/login") as response:
            html = await response.text()
            nonce = response.cookies[CSRF_COOKIE]
        assert nonce["secure"]
        token = re.search(r'name="csrf_token" value="([^"]+)"', html)
        assert token
        async with (
            ClientSession(cookie_jar=DummyCookieJar()) as bare,
            bare.post(
                running.url("/admin/login"),
                data={"csrf_token": token.group(1), "username": "ani", "password": PASSWORD},
                headers={"Cookie": f"{CSRF_COOKIE}={nonce.value}"},
                allow_redirects=False,
            ) as response,
        ):
            assert response.status == 303
            session = response.cookies[COOKIE]
        assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"
    finally:
        await running.stop()


@pytest.mark.parametrize(
    ("username", "password"), [("ani", "salah-sekali-kata-sandinya"), ("tidakada", PASSWORD)]
)
async def test_a_wrong_password_or_unknown_name_is_refused_alike(
    gateway: Running, browser: Console, username: str, password: str
) -> None:
    await add_staff(gateway, "ani", Role.ADMIN_PENGHUBUNG)
    refused = await browser.sign_in(username, password)
    assert refused.status == 403
    assert "Nama pengguna atau kata sandi salah." in refused.text()
    assert f'value="{username}"' in refused.html and password not in refused.html
    assert browser.session is None


async def test_front_desk_staff_sign_in_at_the_desk_not_the_console(
    gateway: Running, browser: Console
) -> None:
    await add_staff(gateway, "sari", Role.PETUGAS_LOKET)
    refused = await browser.sign_in("sari")
    assert refused.status == 403 and browser.session is None


async def test_five_failures_lock_the_account_out_as_the_api_does(
    gateway: Running, browser: Console
) -> None:
    await add_staff(gateway, "ani", Role.ADMIN_PENGHUBUNG)
    for _ in range(5):
        assert (await browser.sign_in("ani", "salah-sekali-kata-sandinya")).status == 403
    locked = await browser.sign_in("ani")  # even the right password, for now
    assert locked.status == 429 and "15 menit" in locked.text()
    async with gateway.http.post(
        "/api/v1/auth/token", json={"username": "ani", "password": PASSWORD}
    ) as response:
        assert response.status == 429  # one lock-out, whichever door was knocked on
    gateway.clock.advance(minutes=15, seconds=1)
    assert (await browser.sign_in("ani")).status == 200


async def test_signing_in_needs_the_login_pages_csrf_token(
    gateway: Running, browser: Console
) -> None:
    await add_staff(gateway, "ani", Role.ADMIN_PENGHUBUNG)
    forged = await browser.post("/admin/login", {"username": "ani", "password": PASSWORD})
    assert forged.status == 403 and browser.session is None


async def test_keluar_ends_the_session_on_the_server(gateway: Running, staff: People) -> None:
    console = staff.penghubung
    cookie = console.session
    queue = await console.get("/admin/")
    assert "Keluar" in queue.text()
    forged = await console.post("/admin/logout", {})
    assert forged.status == 403 and console.session == cookie  # CSRF on signing out too
    out = await console.post("/admin/logout", {"csrf_token": queue.csrf()}, follow=False)
    assert out.status == 303 and out.location == "/admin/login"
    assert console.session is None
    # The old cookie, replayed, names a session that no longer exists.
    console.http.cookie_jar.update_cookies({COOKIE: cookie or ""})
    assert (await console.get("/admin/", follow=False)).status == 303


async def test_an_api_token_is_not_a_console_session(gateway: Running, staff: People) -> None:
    browser = Console(gateway)
    try:
        browser.http.cookie_jar.update_cookies({COOKIE: staff.team.penghubung.token})
        assert (await browser.get("/admin/", follow=False)).status == 303
    finally:
        await browser.close()


def _field(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, name
    return unescape(match.group(1))
