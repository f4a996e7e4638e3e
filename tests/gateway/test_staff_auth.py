"""Staff sign-in through the API: tokens, their end (logout, a disabled account, a new
password, expiry), the lock-out after failed sign-ins, the environment's operator tokens,
and passwords kept only as argon2 hashes."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from typing import Any

import pytest

from gateway import accounts
from tests.conftest import (
    ADMIN_AUTH,
    ADMIN_TOKEN,
    DESK_AUTH,
    Running,
    all_dispatched,
    file_complaint,
)
from tests.gateway.workflow_support import PASSWORD, Staff, act, add_staff, case_of
from workflow.roles import Role

COMPLAINT: dict[str, Any] = {
    "text": "Jalan di depan SDN 3 Ketapang berlubang besar, sudah dua motor jatuh.",
    "phone": "0812 3456 7890",
    "category": "jalan_jembatan",
}
LOGIN_FAILED = {"error": "bad_login", "message": "Nama pengguna atau kata sandi salah."}


async def token_request(
    running: Running, username: str, password: str
) -> tuple[int, dict[str, str], dict[str, Any]]:
    """`POST /api/v1/auth/token`: status, headers and JSON body."""
    body = {"username": username, "password": password}
    async with running.http.post("/api/v1/auth/token", json=body) as response:
        return response.status, dict(response.headers), await response.json()


async def queue_status(running: Running, headers: dict[str, str]) -> int:
    async with running.http.get("/api/v1/complaints", headers=headers) as response:
        await response.read()
        return response.status


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_token_names_its_role_and_agency_and_lasts_twelve_hours(gateway: Running) -> None:
    """A sign-in answers the token, its role and agency, and an expiry 12 h from now."""
    await gateway.gateway.accounts.add("opd-pupr", PASSWORD, Role.ADMIN_OPD, agency="PUPR")
    status, _, issued = await token_request(gateway, "opd-pupr", PASSWORD)
    assert status == 200, issued
    assert set(issued) == {"token", "expires_at", "role", "agency"}
    assert issued["role"] == "admin_opd" and issued["agency"] == "PUPR"
    assert len(issued["token"]) >= 32
    expires = datetime.fromisoformat(issued["expires_at"])
    assert expires == gateway.clock.now + timedelta(hours=12)
    assert await queue_status(gateway, bearer(issued["token"])) == 200

    # Each sign-in is a token of its own.
    _, _, again = await token_request(gateway, "opd-pupr", PASSWORD)
    assert again["token"] != issued["token"]


async def test_an_unknown_user_and_a_wrong_password_get_the_same_401(gateway: Running) -> None:
    """The answer does not tell whether the username exists."""
    await gateway.gateway.accounts.add("ani", PASSWORD, Role.ADMIN_PENGHUBUNG)
    unknown = await token_request(gateway, "tidak-ada", PASSWORD)
    wrong = await token_request(gateway, "ani", "bukan-kata-sandinya")
    for status, _, body in (unknown, wrong):
        assert status == 401
        assert body | {"fields": []} == LOGIN_FAILED | {"fields": []}
    assert unknown[2] == wrong[2]


async def test_five_failures_lock_the_username_out(gateway: Running) -> None:
    """Five failed sign-ins within 15 minutes: the sixth is 429 even with the right password,
    with an integer Retry-After of at most 900 s counted from the oldest failure; a moment
    after it the right password signs in."""
    await gateway.gateway.accounts.add("ani", PASSWORD, Role.ADMIN_PENGHUBUNG)
    for _ in range(5):
        status, _, body = await token_request(gateway, "ani", "salah-kata-sandi")
        assert status == 401, body
        gateway.clock.advance(seconds=30)

    status, headers, body = await token_request(gateway, "ani", PASSWORD)
    assert status == 429, body
    assert body["error"] == "too_many_attempts"
    retry_after = int(headers["Retry-After"])
    # The first failure was 2.5 minutes ago: the lock lifts 15 minutes after it.
    assert retry_after == 15 * 60 - 5 * 30
    # Another username is not locked by them.
    await gateway.gateway.accounts.add("budi", PASSWORD, Role.ADMIN_PENGHUBUNG)
    assert (await token_request(gateway, "budi", PASSWORD))[0] == 200

    gateway.clock.advance(seconds=retry_after + 1)
    status, _, issued = await token_request(gateway, "ani", PASSWORD)
    assert status == 200, issued


async def test_a_lock_out_lifts_fifteen_minutes_after_a_burst_of_failures(
    gateway: Running,
) -> None:
    """Five failures at one moment lock for 15 minutes: Retry-After 900, and a client that
    waits as told (the clock 15 minutes on) signs in with the right password."""
    await gateway.gateway.accounts.add("ani", PASSWORD, Role.ADMIN_PENGHUBUNG)
    for _ in range(5):
        assert (await token_request(gateway, "ani", "salah-kata-sandi"))[0] == 401
    status, headers, _ = await token_request(gateway, "ani", PASSWORD)
    assert status == 429
    assert int(headers["Retry-After"]) == 900

    gateway.clock.advance(minutes=15)
    status, headers, body = await token_request(gateway, "ani", PASSWORD)
    assert status == 200, (status, headers.get("Retry-After"), body)


async def test_logout_revokes_the_token(gateway: Running) -> None:
    """After `POST /api/v1/auth/logout` the token is refused; other tokens still work."""
    staff = await add_staff(gateway, "ani", Role.ADMIN_PENGHUBUNG)
    other = await add_staff(gateway, "utama", Role.ADMIN_INSTANSI)
    async with gateway.http.post("/api/v1/auth/logout", headers=staff.auth) as response:
        assert response.status == 204
    assert await queue_status(gateway, staff.auth) == 401
    assert await queue_status(gateway, other.auth) == 200
    async with gateway.http.post("/api/v1/auth/logout", headers=staff.auth) as response:
        assert response.status == 401


async def test_disabling_an_account_ends_its_token_at_once(gateway: Running) -> None:
    """A disabled account's token is 401 on the next request, and it cannot sign in."""
    staff = await add_staff(gateway, "ani", Role.ADMIN_PENGHUBUNG)
    assert await queue_status(gateway, staff.auth) == 200
    await gateway.store.disable_staff("ani", gateway.clock())
    assert await queue_status(gateway, staff.auth) == 401
    status, _, body = await token_request(gateway, "ani", PASSWORD)
    assert status == 401 and body["error"] == "bad_login"


async def test_a_new_password_ends_the_old_tokens(gateway: Running) -> None:
    """After set_password the tokens issued before are 401, the old password is refused and
    the new one signs in."""
    staff = await add_staff(gateway, "ani", Role.ADMIN_PENGHUBUNG)
    await gateway.gateway.accounts.set_password("ani", "kata-sandi-baru-2026")
    assert await queue_status(gateway, staff.auth) == 401
    assert (await token_request(gateway, "ani", PASSWORD))[0] == 401
    status, _, issued = await token_request(gateway, "ani", "kata-sandi-baru-2026")
    assert status == 200
    assert await queue_status(gateway, bearer(issued["token"])) == 200


async def test_an_expired_token_is_refused(gateway: Running) -> None:
    """A token works until its expires_at and is 401 from then on."""
    staff = await add_staff(gateway, "ani", Role.ADMIN_PENGHUBUNG)
    gateway.clock.advance(hours=11, minutes=59)
    assert await queue_status(gateway, staff.auth) == 200
    gateway.clock.advance(minutes=1)
    assert await queue_status(gateway, staff.auth) == 401


async def test_the_admin_env_token_reads_but_never_acts(gateway: Running) -> None:
    """LAPOR_ADMIN_TOKENS: a read-only admin_instansi; every action is 403, and no action is
    offered to it."""
    tracking_id = await file_complaint(gateway, **COMPLAINT)
    await all_dispatched(gateway)
    assert await queue_status(gateway, ADMIN_AUTH) == 200
    env_admin = Staff("ani", ADMIN_TOKEN)
    status, detail = await case_of(gateway, env_admin, tracking_id)
    assert status == 200 and detail["allowed_actions"] == []
    version = detail["case"]["version"]
    for action, fields in (
        ("verifikasi", {"agency": "PUPR"}),
        ("tunda", {"question": "Di mana tepatnya?"}),
        ("tolak", {"reason": "spam"}),
    ):
        status, body = await act(gateway, env_admin, tracking_id, action, version=version, **fields)
        assert status == 403, (action, body)
        assert body["error"] == "forbidden"
    status, detail = await case_of(gateway, env_admin, tracking_id)
    assert detail["case"]["state"] == "diterima" and detail["case"]["version"] == version


async def test_front_desk_staff_do_not_read_the_queue(gateway: Running) -> None:
    """The desk env token and a petugas_loket account are 403 on the queue and a case."""
    tracking_id = await file_complaint(gateway, **COMPLAINT)
    loket = await add_staff(gateway, "loket-1", Role.PETUGAS_LOKET, name="Rina")
    for headers in (DESK_AUTH, loket.auth):
        assert await queue_status(gateway, headers) == 403
        async with gateway.http.get(
            f"/api/v1/complaints/{tracking_id}", headers=headers
        ) as response:
            assert response.status == 403


async def test_a_petugas_loket_account_files_at_the_desk_under_its_name(gateway: Running) -> None:
    """`POST /api/v1/desk/complaints` with a petugas_loket account's token: 201, and the
    complaint is logged by that username."""
    loket = await add_staff(gateway, "loket-1", Role.PETUGAS_LOKET, name="Rina")
    body = COMPLAINT | {"channel": "walkin", "name": "Pak Harun"}
    async with gateway.http.post(
        "/api/v1/desk/complaints", json=body, headers=loket.auth
    ) as response:
        created = await response.json()
        assert response.status == 201, created
    assert created["citizen_code"] and len(created["citizen_code"]) == 6
    async with gateway.http.get(
        f"/api/v1/complaints/{created['tracking_id']}", headers=ADMIN_AUTH
    ) as response:
        detail = await response.json()
    assert detail["logged_by"] == "loket-1" and detail["channel"] == "walkin"

    # Other roles do not file at the desk.
    reader = await add_staff(gateway, "utama", Role.ADMIN_INSTANSI)
    async with gateway.http.post(
        "/api/v1/desk/complaints", json=body, headers=reader.auth
    ) as response:
        assert response.status == 403


def test_passwords_are_hashed_with_argon2id_at_its_recommended_cost(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.undo()  # the real hasher, not the tests' quick one
    hashed = accounts.hash_password("kata-sandi-yang-panjang")
    assert hashed.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    with pytest.raises(accounts.AccountError):
        accounts.hash_password("pendek123")  # under 10 characters


async def test_env_tokens_are_not_revoked_by_logout(gateway: Running) -> None:
    async with gateway.http.post("/api/v1/auth/logout", headers=ADMIN_AUTH) as response:
        assert response.status == 400 and (await response.json())["error"] == "not_revocable"
    assert await queue_status(gateway, ADMIN_AUTH) == 200


async def test_passwords_are_stored_only_as_argon2_hashes(gateway: Running) -> None:
    """The staff row holds an argon2 hash, never the password; tokens are kept hashed too."""
    staff = await add_staff(gateway, "ani", Role.ADMIN_PENGHUBUNG)
    with sqlite3.connect(gateway.sqlite_store.path) as conn:
        (stored,) = conn.execute(
            "SELECT password_hash FROM staff WHERE username = 'ani'"
        ).fetchone()
        tokens = conn.execute("SELECT * FROM staff_tokens").fetchall()
    assert stored.startswith("$argon2")
    assert PASSWORD not in stored
    assert tokens and all(staff.token not in str(row) for row in tokens)
    # The file and its write-ahead log, where recent writes live until a checkpoint.
    path = gateway.sqlite_store.path
    files = (path, path.with_name(path.name + "-wal"))
    database = b"".join(f.read_bytes() for f in files if f.exists())
    assert PASSWORD.encode() not in database and staff.token.encode() not in database
