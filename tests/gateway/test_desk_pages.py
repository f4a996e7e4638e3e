"""`/desk`: staff sign in (a token or a petugas_loket account), log walk-in and phone
complaints, print a receipt; sessions live on the server and end when they should."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import ClientSession, CookieJar, FormData

from tests.conftest import (
    ADMIN_AUTH,
    ADMIN_TOKEN,
    DESK_TOKEN,
    Running,
    form_data,
    start_gateway,
    tiny_png,
    tracking_id_on,
)
from tests.gateway.workflow_support import PASSWORD
from workflow.roles import Role

SESSION = "lapor_desk"
SARI_TOKEN = "desk-token-sari-0002"
COMPLAINT = "Bapak ini datang melapor: jalan desa di Sungai Awan Kiri rusak berat dan berlubang."


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[Running]:
    """A gateway with two desk staff, budi and sari."""
    running = await start_gateway(tmp_path, desk_tokens=f"budi:{DESK_TOKEN},sari:{SARI_TOKEN}")
    yield running
    await running.stop()


def session_cookie(running: Running) -> str | None:
    cookies = running.http.cookie_jar.filter_cookies(running.server.make_url("/desk"))
    morsel = cookies.get(SESSION)
    return morsel.value if morsel is not None and morsel.value else None


async def login_form(running: Running, **fields: str) -> dict[str, str]:
    """The sign-in form's fields with its CSRF token, as the page gives it."""
    async with running.http.get("/desk") as response:
        html = await response.text()
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html
    return {"csrf_token": match.group(1), **fields}


@dataclass(frozen=True)
class SignIn:
    status: int
    page: str
    cookies: list[str]
    """The Set-Cookie headers of the answer."""
    location: str | None


async def sign_in(running: Running, **fields: str) -> SignIn:
    data = await login_form(running, **fields)
    async with running.http.post("/desk/login", data=data, allow_redirects=False) as response:
        return SignIn(
            response.status,
            await response.text(),
            response.headers.getall("Set-Cookie", []),
            response.headers.get("Location"),
        )


async def log_in(running: Running, token: str = DESK_TOKEN) -> None:
    signed = await sign_in(running, token=token)
    assert signed.status == 303, signed.page
    assert session_cookie(running)


async def log_out(running: Running) -> int:
    async with running.http.get("/desk") as response:
        html = await response.text()
    tokens = re.findall(r'action="/desk/logout".*?name="csrf_token" value="([^"]+)"', html, re.S)
    data = {"csrf_token": tokens[0]} if tokens else {}
    async with running.http.post("/desk/logout", data=data, allow_redirects=False) as response:
        return response.status


def fields(token: str, **values: str) -> dict[str, str]:
    form = {
        "csrf_token": token,
        "channel": "walkin",
        "text": COMPLAINT,
        "name": "Pak Darto",
        "phone": "0813 5200 1234",
        "location": "Desa Sungai Awan Kiri, Kecamatan Muara Pawan",
        "category": "jalan_jembatan",
    }
    form.update(values)
    return {name: value for name, value in form.items() if value != "<absent>"}


def multipart(values: dict[str, str]) -> FormData:
    data = form_data(values)  # csrf_token first, as on the page
    data.add_field("attachments", tiny_png(), filename="jalan.png", content_type="image/png")
    return data


async def post_desk(running: Running, values: dict[str, str], encoding: str) -> tuple[int, str]:
    body: FormData | dict[str, str]
    body = multipart(values) if encoding == "multipart" else values
    async with running.http.post("/desk", data=body) as response:
        return response.status, await response.text()


# -- logging in and out -----------------------------------------------------------------


async def test_the_desk_without_a_session_is_the_login_page(desk: Running) -> None:
    async with desk.http.get("/desk") as response:
        html = await response.text()
        assert response.status == 401
    assert 'action="/desk/login"' in html and 'name="token"' in html
    assert 'name="username"' in html and 'name="password"' in html
    assert "Uraian laporan" not in html


@pytest.mark.parametrize(
    ("token", "status"),
    [
        ("", 403),
        ("salah", 403),
        (DESK_TOKEN + "x", 403),
        (DESK_TOKEN[:-1], 403),
        (ADMIN_TOKEN, 403),  # an admin token is not a desk token
        (DESK_TOKEN, 303),
        (f"  {DESK_TOKEN}\n", 303),  # pasted with blanks around it
        (SARI_TOKEN, 303),
    ],
)
async def test_only_a_desk_token_logs_in(desk: Running, token: str, status: int) -> None:
    signed = await sign_in(desk, token=token)
    assert signed.status == status
    if status == 403:
        assert "Nama pengguna, kata sandi atau token petugas salah." in signed.page
        assert not [c for c in signed.cookies if c.startswith(f"{SESSION}=")]
        assert session_cookie(desk) is None
    else:
        assert signed.location == "/desk"
        [cookie] = [c for c in signed.cookies if c.startswith(f"{SESSION}=")]
        attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
        assert {"httponly", "samesite", "path", "max-age"} <= attributes
        assert "SameSite=Strict" in cookie
        assert token.strip() not in cookie  # a random session token, not theirs


@pytest.mark.parametrize(("token", "staff_id"), [(DESK_TOKEN, "budi"), (SARI_TOKEN, "sari")])
async def test_the_form_names_the_staff_member(desk: Running, token: str, staff_id: str) -> None:
    await log_in(desk, token)
    async with desk.http.get("/desk") as response:
        html = await response.text()
        assert response.status == 200
    assert f"Petugas: <strong>{staff_id}</strong>" in html
    assert 'name="csrf_token"' in html and 'name="channel"' in html
    assert 'value="walkin"' in html and 'value="phone"' in html


async def test_logging_out_ends_the_session(desk: Running) -> None:
    await log_in(desk)
    assert await log_out(desk) == 303
    assert session_cookie(desk) is None
    async with desk.http.get("/desk") as response:
        assert response.status == 401
    token = "not-needed: refused before the form is read"
    status, _ = await post_desk(desk, fields(token), "urlencoded")
    assert status == 401
    assert desk.count() == 0


async def test_signing_in_or_out_needs_the_pages_csrf_token(desk: Running) -> None:
    async with desk.http.post(
        "/desk/login", data={"token": DESK_TOKEN}, allow_redirects=False
    ) as response:
        assert response.status == 403  # a form posted from elsewhere signs nobody in
    assert session_cookie(desk) is None
    await log_in(desk)
    async with desk.http.post("/desk/logout", data={}, allow_redirects=False) as response:
        assert response.status == 403  # nor out
    async with desk.http.get("/desk") as response:
        assert response.status == 200


async def test_signing_out_ends_the_session_on_every_browser(desk: Running) -> None:
    other = await start_second_browser(desk)
    try:
        await log_in(desk)
        await log_in(other)
        assert await log_out(desk) == 303
        async with other.http.get("/desk") as response:
            assert response.status == 401
    finally:
        await other.http.close()


async def test_a_rotated_token_ends_its_sessions(tmp_path: Path) -> None:
    """A session begun with a token ends once the gateway runs with another token for that
    officer, though it bears the same name."""
    first = await start_gateway(tmp_path, desk_tokens=f"budi:{DESK_TOKEN}")
    await log_in(first)
    cookie = session_cookie(first)
    port = first.server.port
    await first.stop()
    rotated = await start_gateway(tmp_path, port=port, desk_tokens=f"budi:{SARI_TOKEN}")
    try:
        headers = {"Cookie": f"{SESSION}={cookie}"}
        async with rotated.http.get("/desk", headers=headers) as response:
            assert response.status == 401
    finally:
        await rotated.stop()


async def test_an_account_signs_in_and_a_new_password_ends_its_session(desk: Running) -> None:
    await desk.gateway.accounts.add("loket1", PASSWORD, Role.PETUGAS_LOKET, name="Rina")
    await desk.gateway.accounts.add("ani", PASSWORD, Role.ADMIN_PENGHUBUNG)
    assert (await sign_in(desk, username="ani", password=PASSWORD)).status == 403  # not desk
    assert (await sign_in(desk, username="loket1", password="salah-salah-salah")).status == 403
    signed = await sign_in(desk, username="loket1", password=PASSWORD)
    assert signed.status == 303, signed.page
    async with desk.http.get("/desk") as response:
        page = await response.text()
        assert response.status == 200 and "Petugas: <strong>loket1</strong>" in page
    await desk.gateway.accounts.set_password("loket1", "kata-sandi-baru-sekali")
    async with desk.http.get("/desk") as response:
        assert response.status == 401


async def test_signing_in_is_throttled_per_address(desk: Running) -> None:
    for _ in range(5):
        assert (await sign_in(desk, username="loket1", password="salah-salah")).status == 403
    locked = await sign_in(desk, username="loket1", password="salah-salah")
    assert locked.status == 429 and "Terlalu banyak percobaan" in locked.page


async def start_second_browser(running: Running) -> Running:
    """Another browser (its own cookies) at the same gateway."""
    http = ClientSession(base_url=running.server.make_url(""), cookie_jar=CookieJar(unsafe=True))
    return Running(running.server, http, running.clock, running.profile)


@pytest.mark.parametrize(
    ("why", "cookie"),
    [
        ("garbage", "x"),
        ("a random token", "dGhpcy1pcy1ub3QtYS1zZXNzaW9uLXRva2VuLWF0LWFsbA"),
        ("the desk token itself", DESK_TOKEN),
        ("an admin token", ADMIN_TOKEN),
    ],
)
async def test_a_forged_session_cookie_is_refused(desk: Running, why: str, cookie: str) -> None:
    headers = {"Cookie": f"{SESSION}={cookie}"}
    async with desk.http.get("/desk", headers=headers) as response:
        html = await response.text()
        assert response.status == 401, why
    assert 'name="token"' in html and "Petugas:" not in html
    async with desk.http.post("/desk", data=fields("x"), headers=headers) as response:
        assert response.status == 401, why
    assert desk.count() == 0


# -- logging a complaint -----------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["multipart", "urlencoded"])
@pytest.mark.parametrize(
    ("channel", "shown"), [("walkin", "Datang langsung"), ("phone", "Telepon")]
)
async def test_a_logged_complaint_gets_a_receipt(
    desk: Running, encoding: str, channel: str, shown: str
) -> None:
    await log_in(desk)
    token = await desk.form_token("/desk")
    status, html = await post_desk(desk, fields(token, channel=channel), encoding)
    assert status == 201, html
    tracking_id = tracking_id_on(html)
    for words in (
        "Tanda Terima Pengaduan",
        "Pengaduan dicatat oleh petugas budi.",
        f"nomor pelacakan {tracking_id}",
        f"/status/{tracking_id}",
        shown,
        "Pak Darto",
        "Jumat, 14 Agustus 2026, pukul 10:00",  # received, local time
        "Kamis, 20 Agustus 2026",  # the verification deadline promised
    ):
        assert words in html, words

    complaint = await desk.store.get_complaint(tracking_id)
    assert complaint is not None
    assert complaint.channel == channel
    assert complaint.logged_by == "budi"
    assert complaint.text == COMPLAINT
    assert complaint.reporter.phone == "+6281352001234"
    assert complaint.category == "jalan_jembatan"
    assert len(complaint.attachments) == (1 if encoding == "multipart" else 0)
    async with desk.http.get(f"/api/v1/complaints/{tracking_id}", headers=ADMIN_AUTH) as r:
        detail = await r.json()
    assert detail["logged_by"] == "budi" and detail["channel"] == channel
    assert detail["timeline"][0]["actor"] == "budi"


async def test_sending_the_desk_form_twice_logs_one_complaint(desk: Running) -> None:
    await log_in(desk)
    token = await desk.form_token("/desk")
    ids = []
    for expected in (201, 200):
        status, html = await post_desk(desk, fields(token), "urlencoded")
        assert status == expected
        ids.append(tracking_id_on(html))
    assert ids[0] == ids[1]
    assert desk.count() == 1


async def test_each_staff_member_signs_their_own_receipts(desk: Running) -> None:
    await log_in(desk, SARI_TOKEN)
    status, html = await post_desk(desk, fields(await desk.form_token("/desk")), "multipart")
    assert status == 201
    assert "Pengaduan dicatat oleh petugas sari." in html
    complaint = await desk.store.get_complaint(tracking_id_on(html))
    assert complaint is not None and complaint.logged_by == "sari"


@pytest.mark.parametrize("encoding", ["multipart", "urlencoded"])
@pytest.mark.parametrize(
    ("change", "field", "error"),
    [
        ({"channel": "<absent>"}, "channel", "wajib diisi"),
        ({"channel": ""}, "channel", "wajib diisi"),
        ({"channel": "sms"}, "channel", "tidak valid"),
        ({"channel": "web"}, "channel", "tidak valid"),
        ({"text": "rusak"}, "text", "terlalu pendek (minimal 10 karakter)"),
        ({"phone": "", "email": ""}, "contact", "isi nomor telepon atau e-mail"),
        ({"category": "bukan_kategori"}, "category", "tidak valid"),
    ],
)
async def test_an_incomplete_desk_form_is_422_and_kept(
    desk: Running, encoding: str, change: dict[str, str], field: str, error: str
) -> None:
    await log_in(desk)
    token = await desk.form_token("/desk")
    status, html = await post_desk(desk, fields(token, **change), encoding)
    assert status == 422, html
    assert "Data yang dikirim belum benar." in html
    if field == "channel":
        assert f'<p class="error">{error}' in html
    else:
        assert f'id="{field}-error">{error}' in html
    assert "Pak Darto" in html  # what staff typed is kept, to correct and send again
    assert desk.count() == 0
    # The page carries a fresh token: corrected, the form goes through.
    fresh = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert fresh
    status, _ = await post_desk(desk, fields(fresh.group(1)), encoding)
    assert status == 201
    assert desk.count() == 1


@pytest.mark.parametrize("token", ["<absent>", "", "tampered.token.value"])
async def test_a_desk_form_without_its_csrf_token_is_refused(desk: Running, token: str) -> None:
    await log_in(desk)
    await desk.form_token("/desk")  # the nonce cookie is there; the token in the form is not
    status, html = await post_desk(desk, fields(token), "urlencoded")
    assert status == 403
    assert "Formulir sudah kedaluwarsa atau tidak sah." in html
    assert desk.count() == 0


async def test_a_web_form_token_is_no_desk_session(desk: Running) -> None:
    """A citizen holding a /lapor form token cannot log complaints as staff."""
    token = await desk.form_token("/lapor")
    status, html = await post_desk(desk, fields(token), "urlencoded")
    assert status == 401
    assert 'name="token"' in html
    assert desk.count() == 0


async def test_a_removed_token_ends_its_sessions(tmp_path: Path) -> None:
    before = await start_gateway(tmp_path, desk_tokens=f"budi:{DESK_TOKEN},sari:{SARI_TOKEN}")
    try:
        await log_in(before, SARI_TOKEN)
        cookie = session_cookie(before)
    finally:
        await before.stop()
    # Restarted with the same secret key, without sari's token.
    after = await start_gateway(tmp_path, desk_tokens=f"budi:{DESK_TOKEN}")
    try:
        headers = {"Cookie": f"{SESSION}={cookie}"}
        async with after.http.get("/desk", headers=headers) as response:
            assert response.status == 401
        await log_in(after)  # budi's own sessions are unaffected
        async with after.http.get("/desk") as response:
            assert response.status == 200
    finally:
        await after.stop()
