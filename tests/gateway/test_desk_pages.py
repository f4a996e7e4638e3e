"""`/desk`: staff log in with their token, log walk-in and phone complaints, print a receipt."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import FormData
from itsdangerous import URLSafeTimedSerializer

from gateway.signing import Signer
from tests.conftest import (
    ADMIN_AUTH,
    ADMIN_TOKEN,
    DESK_TOKEN,
    Running,
    form_data,
    make_settings,
    start_gateway,
    tiny_png,
    tracking_id_on,
)

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


async def log_in(running: Running, token: str = DESK_TOKEN) -> None:
    async with running.http.post(
        "/desk/login", data={"token": token}, allow_redirects=False
    ) as response:
        assert response.status == 303, await response.text()
    assert session_cookie(running)


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
    assert 'name="csrf_token"' not in html and "Uraian laporan" not in html


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
    async with desk.http.post(
        "/desk/login", data={"token": token}, allow_redirects=False
    ) as response:
        html = await response.text()
        assert response.status == status
        set_cookie = response.headers.getall("Set-Cookie", [])
    if status == 403:
        assert "Nama pengguna, kata sandi atau token petugas salah." in html
        assert not [c for c in set_cookie if c.startswith(f"{SESSION}=")]
        assert session_cookie(desk) is None
    else:
        assert response.headers["Location"] == "/desk"
        [cookie] = [c for c in set_cookie if c.startswith(f"{SESSION}=")]
        attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
        assert {"httponly", "samesite", "path", "max-age"} <= attributes
        assert "SameSite=Strict" in cookie
        assert token.strip() not in cookie  # the cookie names the staff, not their token


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
    async with desk.http.post("/desk/logout", allow_redirects=False) as response:
        assert response.status == 303 and response.headers["Location"] == "/desk"
    assert session_cookie(desk) is None
    async with desk.http.get("/desk") as response:
        assert response.status == 401
    token = "not-needed: refused before the form is read"
    status, _ = await post_desk(desk, fields(token), "urlencoded")
    assert status == 401
    assert desk.count() == 0


def forged_sessions() -> list[tuple[str, str]]:
    secret = make_settings(Path("unused")).secret_key
    assert secret is not None
    right = Signer(secret.get_secret_value())
    genuine = right.session("budi", "desk")
    return [
        ("another key", Signer("not-the-gateway-key").session("budi", "desk")),
        ("edited signature", genuine[:-2] + ("AA" if not genuine.endswith("AA") else "BB")),
        ("edited staff", genuine.replace(genuine.split(".")[0], "eyJzdGFmZiI6ImFuaSJ9")),
        ("admin role", right.session("ani", "admin")),
        ("csrf token", right.csrf_token("nonce", "submission")),
        (
            "other salt",
            URLSafeTimedSerializer(secret.get_secret_value()).dumps(
                {"staff": "budi", "role": "desk"}
            ),
        ),
        ("not signed", "eyJzdGFmZiI6ImJ1ZGkiLCJyb2xlIjoiZGVzayJ9"),
        ("garbage", "x"),
    ]


@pytest.mark.parametrize(
    ("why", "cookie"), [pytest.param(*case, id=case[0]) for case in forged_sessions()]
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
