"""What an anonymous sender could do to the gateway before, each shut: disk filled with
refused uploads, forms without end, pages framed or scripted, links poisoned by the Host
header, sign-in lock-outs from anywhere, unsigned Vonage deliveries."""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import FormData

from gateway.errors import CONTENT_SECURITY_POLICY
from tests.conftest import Running, form_data, start_gateway, tiny_png
from tests.gateway.workflow_support import PASSWORD, add_staff
from workflow.roles import Role

TEXT = "Jalan di depan SDN 3 Ketapang berlubang besar, sudah dua motor jatuh pekan ini."


def stored_files(running: Running) -> list[Path]:
    """Every file of the blob store but the half-written ones of `incoming/`."""
    root = Path(running.gateway.settings.upload_dir)
    return [p for p in root.rglob("*") if p.is_file() and p.parent.name != "incoming"]


async def post_lapor(
    running: Running, fields: dict[str, Any], photos: int = 1, headers: dict[str, str] | None = None
) -> tuple[int, str, dict[str, str]]:
    data = form_data({"csrf_token": await running.form_token(), **fields})
    for n in range(photos):
        # Different bytes each: distinct files in the store.
        data.add_field("attachments", tiny_png() + bytes([n]), filename=f"f{n}.png")
    async with running.http.post("/lapor", data=data, headers=headers or {}) as response:
        return response.status, await response.text(), dict(response.headers)


# -- uploads of a refused form ------------------------------------------------------------


@pytest.mark.parametrize(
    ("why", "fields", "photos", "status"),
    [
        ("too short a text", {"text": "pendek", "phone": "0812 3456 7890"}, 2, 422),
        ("no contact", {"text": TEXT}, 1, 422),
        ("too many files", {"text": TEXT, "phone": "0812 3456 7890"}, 6, 413),
    ],
)
async def test_the_files_of_a_refused_form_do_not_outlive_it(
    gateway: Running, why: str, fields: dict[str, str], photos: int, status: int
) -> None:
    answer, page, _ = await post_lapor(gateway, fields, photos)
    assert answer == status, (why, page)
    assert stored_files(gateway) == [], why
    assert gateway.count() == 0


async def test_a_refused_form_keeps_a_file_another_complaint_references(gateway: Running) -> None:
    taken, _, _ = await post_lapor(gateway, {"text": TEXT, "phone": "0812 3456 7890"})
    assert taken == 201
    [kept] = stored_files(gateway)
    refused, _, _ = await post_lapor(gateway, {"text": "pendek", "phone": "0812 3456 7890"})
    assert refused == 422  # the same photo, in a form that is refused
    assert stored_files(gateway) == [kept]


async def test_the_sweep_removes_old_files_no_complaint_references(gateway: Running) -> None:
    assert (await post_lapor(gateway, {"text": TEXT, "phone": "0812 3456 7890"}))[0] == 201
    [referenced] = stored_files(gateway)
    blobs = gateway.gateway.blobs
    orphan = blobs.path_for("ab" * 32)
    orphan.parent.mkdir(parents=True, exist_ok=True)
    fresh_orphan = blobs.path_for("cd" * 32)
    fresh_orphan.parent.mkdir(parents=True, exist_ok=True)
    leftover = blobs.root / "incoming" / "tmp-of-a-stopped-request"
    leftover.parent.mkdir(parents=True, exist_ok=True)
    for path in (orphan, fresh_orphan, leftover):
        path.write_bytes(b"x")
    day_old = time.time() - 25 * 3600
    for path in (orphan, referenced, leftover):
        os.utime(path, (day_old, day_old))
    removed = await blobs.sweep(24 * 3600, gateway.store.referenced_blobs)
    assert removed == 2
    assert not orphan.exists() and not leftover.exists()
    assert referenced.exists() and fresh_orphan.exists()  # referenced, or still young


@pytest.fixture
async def allowance(tmp_path: Path) -> AsyncIterator[Running]:
    running = await start_gateway(tmp_path, uploads_per_hour=2, trusted_proxies="127.0.0.1/32")
    yield running
    await running.stop()


async def test_an_address_may_upload_so_many_files_an_hour(allowance: Running) -> None:
    def contact(n: int) -> dict[str, str]:
        return {"text": f"{TEXT} Laporan ke-{n}.", "phone": f"0812 3456 78{n:02d}"}

    via = {"X-Forwarded-For": "203.0.113.7"}  # behind the trusted proxy: this client
    assert (await post_lapor(allowance, contact(1), 2, via))[0] == 201
    status, page, headers = await post_lapor(allowance, contact(2), 1, via)
    assert status == 429 and "Terlalu banyak berkas" in page
    assert 0 < int(headers["Retry-After"]) <= 3600
    assert len(stored_files(allowance)) == 2
    other = {"X-Forwarded-For": "203.0.113.8"}  # another client behind the same proxy
    assert (await post_lapor(allowance, contact(3), 1, other))[0] == 201
    allowance.clock.advance(hours=1)
    assert (await post_lapor(allowance, contact(4), 1, via))[0] == 201


async def test_an_untrusted_peer_cannot_pose_as_other_clients(gateway: Running) -> None:
    """Without LAPOR_TRUSTED_PROXIES, X-Forwarded-For is the client's own invention."""
    request = await gateway_request(gateway, {"X-Forwarded-For": "198.51.100.1"})
    assert gateway.gateway.client_of(request) == "127.0.0.1"


async def gateway_request(running: Running, headers: dict[str, str]) -> Any:
    from aiohttp.test_utils import make_mocked_request

    return make_mocked_request(
        "GET", "/", headers=headers, app=running.server.app, transport=_Peer("127.0.0.1")
    )


class _Peer:
    def __init__(self, host: str) -> None:
        self._host = host

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return (self._host, 40000) if name == "peername" else default

    def is_closing(self) -> bool:
        return False


# -- forms without end ----------------------------------------------------------------------


@pytest.mark.parametrize("multipart", [True, False])
async def test_a_form_of_endless_parts_is_refused(gateway: Running, multipart: bool) -> None:
    fields = {"csrf_token": await gateway.form_token(), "text": TEXT}
    data = FormData(fields, default_to_multipart=multipart)
    for n in range(70):
        data.add_field(f"extra{n}", "x")
    async with gateway.http.post("/lapor", data=data) as response:
        assert response.status == 413
    assert gateway.count() == 0


@pytest.mark.parametrize("path", ["/lapor", "/desk", "/desk/login"])
async def test_a_chunked_body_past_the_limit_is_refused_as_it_streams(
    tmp_path: Path, path: str
) -> None:
    running = await start_gateway(tmp_path, max_upload_bytes=1024, max_upload_files=1)
    try:
        limit = running.gateway.settings.max_request_bytes
        boundary = "batas"

        async def body() -> AsyncIterator[bytes]:
            # No Content-Length: only counting what arrives can stop it.
            yield f'--{boundary}\r\nContent-Disposition: form-data; name="text"\r\n\r\n'.encode()
            sent = 0
            while sent <= 2 * limit:
                yield b"a" * 65536
                sent += 65536
            yield f"\r\n--{boundary}--\r\n".encode()

        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        async with running.http.post(path, data=body(), headers=headers) as response:
            assert response.status in (413, 401), await response.text()
            if path != "/desk":  # the desk without a session answers its sign-in page
                assert response.status == 413
        assert running.count() == 0
    finally:
        await running.stop()


# -- pages: framing, scripts, links --------------------------------------------------------


PAGES = ["/lapor", "/desk", "/status", "/status/K7M2XQ9PD"]


@pytest.mark.parametrize("path", PAGES)
async def test_every_page_carries_its_security_headers_and_no_inline_code(
    gateway: Running, path: str
) -> None:
    async with gateway.http.get(path) as response:
        html = await response.text()
        headers = response.headers
    assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Frame-Options"] == "DENY"
    # What the policy would block must not be there: inline scripts, styles or handlers.
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), path
    assert "<style" not in html and " style=" not in html
    assert not re.search(r"\son[a-z]+=", html), path


async def test_the_pages_script_and_style_are_served_by_the_gateway(gateway: Running) -> None:
    for asset, kind in (("/static/lapor.js", "javascript"), ("/static/lapor.css", "css")):
        async with gateway.http.get(asset) as response:
            assert response.status == 200 and kind in response.content_type
            assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_links_never_come_from_the_host_header(gateway: Running) -> None:
    body = {"text": TEXT, "phone": "0812 3456 7890"}
    headers = {"Host": "penipu.example"}
    async with gateway.http.post("/api/v1/complaints", json=body, headers=headers) as response:
        created = await response.json()
    base = gateway.gateway.base_url
    assert created["status_url"] == f"{base}/status/{created['tracking_id']}"
    assert "penipu" not in str(created)


# -- sign-in throttled per account and address ---------------------------------------------


@pytest.fixture
async def behind_proxy(tmp_path: Path) -> AsyncIterator[Running]:
    running = await start_gateway(tmp_path, trusted_proxies="127.0.0.1/32")
    yield running
    await running.stop()


async def token_status(running: Running, password: str, client: str) -> int:
    body = {"username": "ani", "password": password}
    headers = {"X-Forwarded-For": client}
    async with running.http.post("/api/v1/auth/token", json=body, headers=headers) as response:
        return response.status


async def test_nobody_can_lock_an_admin_out_from_elsewhere(behind_proxy: Running) -> None:
    await add_staff(behind_proxy, "ani", Role.ADMIN_PENGHUBUNG)
    for _ in range(5):
        assert await token_status(behind_proxy, "tebakan-salah", "198.51.100.66") == 401
    assert await token_status(behind_proxy, "tebakan-salah", "198.51.100.66") == 429
    # The admin, from the office's own address, still signs in.
    assert await token_status(behind_proxy, PASSWORD, "203.0.113.10") == 200


async def test_one_address_cannot_try_account_after_account(behind_proxy: Running) -> None:
    attacker = "198.51.100.99"
    for n in range(20):
        body = {"username": f"tebakan{n}", "password": "tebakan-salah"}
        headers = {"X-Forwarded-For": attacker}
        async with behind_proxy.http.post(
            "/api/v1/auth/token", json=body, headers=headers
        ) as response:
            assert response.status == 401
    assert await token_status(behind_proxy, "apa-saja-sekali", attacker) == 429


# -- Vonage: unsigned deliveries only when asked for --------------------------------------


async def test_unsigned_vonage_deliveries_are_accepted_only_when_allowed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    unsigned = {
        "msisdn": "6281234567890",
        "to": "1708",
        "messageId": "0A0000000000001",
        "text": TEXT,
        "type": "text",
    }
    with caplog.at_level(logging.WARNING):
        running = await start_gateway(
            tmp_path, vonage_api_key="abcd1234", vonage_allow_unsigned=True
        )
    try:
        assert "LAPOR_VONAGE_ALLOW_UNSIGNED is on" in caplog.text
        async with running.http.post("/webhooks/sms/vonage", data=unsigned) as response:
            assert response.status == 200
        assert running.count() == 1
    finally:
        await running.stop()


async def test_a_file_over_a_limit_under_a_megabyte_is_explained_in_kb(tmp_path: Path) -> None:
    running = await start_gateway(tmp_path, max_upload_bytes=512 * 1024)
    try:
        data = form_data({"csrf_token": await running.form_token(), "text": TEXT})
        data.add_field("attachments", tiny_png() + b"\0" * 600_000, filename="besar.png")
        async with running.http.post("/lapor", data=data) as response:
            page = await response.text()
            assert response.status == 413
        assert "Batas ukuran per berkas adalah 512 KB." in page and "0 MB" not in page
        assert "paling besar 512 KB" in page  # the form's own hint says the same
    finally:
        await running.stop()
