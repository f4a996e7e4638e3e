"""The whole procedure through the API, each step by the right account: an SMS complaint
answered by SMS, a walk-in complaint answered by a letter at the desk."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from channels.sms.segments import segment_count
from store.workflow import DeskItem
from tests.conftest import DESK_AUTH, DESK_TOKEN, Running, eventually
from tests.fakes.twilio_api import FakeTwilio
from tests.gateway.conftest import gateway_on, twilio_sender
from tests.gateway.sms_support import CITIZEN, SMS_SETTINGS, TEXT, tracking_id_in, twilio_sms
from tests.gateway.workflow_support import (
    AGENCY,
    Team,
    must,
    opened,
    team,
    texts_to,
    to_state,
    walk_to,
)
from tests.store.backends import BACKENDS

LONG_ANSWER = (
    "Menindaklanjuti laporan Saudara tentang jalan rusak di depan Pasar Delta Pawan, "
    "Dinas Pekerjaan Umum dan Penataan Ruang telah meninjau lokasi pada hari Senin. "
    "Lubang ditambal sementara dengan aspal dingin, dan perbaikan permanen dengan lapisan "
    "hotmix dijadwalkan pada minggu kedua bulan depan sesuai anggaran pemeliharaan rutin. "
    "Selama pekerjaan berlangsung, lalu lintas dialihkan melalui Jalan Gajah Mada. "
    "Terima kasih atas kepedulian Saudara terhadap keselamatan pengguna jalan."
)


# The workflow on both stores: each step's version, timeline and counts as PostgreSQL keeps
# them too.
@pytest.fixture(params=BACKENDS)
async def gateway(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Running]:
    async with gateway_on(request.param, request, tmp_path) as running:
        yield running


@pytest.fixture(params=BACKENDS)
async def sms_gateway(
    request: pytest.FixtureRequest, tmp_path: Path, twilio: FakeTwilio
) -> AsyncIterator[Running]:
    settings = SMS_SETTINGS | twilio_sender(twilio)
    async with gateway_on(request.param, request, tmp_path, **settings) as running:
        yield running


def kinds(detail: dict[str, Any]) -> list[tuple[str, str | None, str | None]]:
    """(event, actor, role) of the workflow's steps on the timeline."""
    return [
        (e["kind"], e["actor"], e["role"])
        for e in detail["timeline"]
        if e["kind"].startswith("case.") and e["kind"] != "case.opened"
    ]


async def test_an_sms_complaint_walks_from_diterima_to_selesai(
    sms_gateway: Running, twilio: FakeTwilio
) -> None:
    running = sms_gateway
    t: Team = await team(running)
    _, twiml = await twilio_sms(running, TEXT, sender=CITIZEN)
    tracking_id = tracking_id_in(twiml)
    await opened(running)

    detail = await must(running, t.penghubung, tracking_id, "verifikasi", agency=AGENCY)
    assert detail["case"]["state"] == "diteruskan" and detail["case"]["agency"] == AGENCY
    [verified] = await texts_to(twilio, 1)
    assert tracking_id in verified and "Dinas Pekerjaan Umum" in verified

    await must(running, t.opd, tracking_id, "disposisi", to=t.pejabat.username)
    await must(running, t.pejabat, tracking_id, "tindak_lanjut", text="Tim turun ke lokasi.")
    assert "sedang ditindaklanjuti" in (await texts_to(twilio, 2))[1]

    await must(running, t.opd, tracking_id, "konsep", perihal="Jalan rusak", isi="Draf pertama.")
    await must(running, t.opd, tracking_id, "ajukan")
    await must(running, t.pejabat, tracking_id, "kembalikan_konsep", note="Lengkapi jadwalnya.")
    await must(running, t.opd, tracking_id, "konsep", perihal="Jalan rusak", isi=LONG_ANSWER)
    await must(running, t.opd, tracking_id, "ajukan")
    approved = await must(running, t.pejabat, tracking_id, "setujui", note="Setuju.")
    [nota] = approved["notas"]
    assert nota["draft_version"] == 2 and nota["isi"] == LONG_ANSWER
    assert nota["signer_name"] == "Ir. Sri Wahyuni, M.T." and nota["number"].startswith("001/")
    published = await must(running, t.opd, tracking_id, "terbitkan")
    assert published["case"]["state"] == "dijawab"
    assert published["case"]["due_at"] is None  # answered: no deadline runs

    answer, rate = (await texts_to(twilio, 4))[2:4]
    assert answer.startswith(f"LAPOR! {tracking_id}, jawaban Dinas Pekerjaan Umum")
    assert segment_count(answer) <= 3  # cut at a word, with the link to the whole answer
    status_url = f"{SMS_SETTINGS['public_base_url']}/status/{tracking_id}"
    assert answer.endswith(f" ... Selengkapnya: {status_url}")
    assert f"PUAS {tracking_id}" in rate

    _, thanks = await twilio_sms(running, f"PUAS {tracking_id} terima kasih", sender=CITIZEN)
    assert "terima kasih atas penilaian" in thanks
    closed = await to_state(running, t.utama, tracking_id, "selesai")
    assert closed["case"]["closed_at"] is not None and closed["case"]["rating"] == "puas"
    assert kinds(closed) == [
        ("case.verifikasi", "ani", "admin_penghubung"),
        ("case.disposisi", "opd-pupr", "admin_opd"),
        ("case.tindak_lanjut", "pejabat-pupr", "pejabat_penghubung"),
        ("case.konsep", "opd-pupr", "admin_opd"),
        ("case.ajukan", "opd-pupr", "admin_opd"),
        ("case.kembalikan_konsep", "pejabat-pupr", "pejabat_penghubung"),
        ("case.konsep", "opd-pupr", "admin_opd"),
        ("case.ajukan", "opd-pupr", "admin_opd"),
        ("case.setujui", "pejabat-pupr", "pejabat_penghubung"),
        ("case.terbitkan", "opd-pupr", "admin_opd"),
        ("case.penilaian", "warga", None),
    ]
    async with running.http.get(
        f"/status/{tracking_id}", headers={"Accept": "application/json"}
    ) as response:
        public = await response.json()
    assert public["state"] == "selesai" and public["answer"]["text"].endswith(LONG_ANSWER)
    # The public timeline says what happened, never who did it.
    assert all(set(step) == {"at", "label"} for step in public["timeline"])
    for who in ("opd-pupr", "pejabat-pupr", "Sri Wahyuni", "Ani Lestari"):
        assert who not in str(public)


async def walk_in(running: Running, **fields: Any) -> str:
    body = {
        "channel": "walkin",
        "text": "Drainase di Jalan Merdeka tersumbat sampah, air meluap saat hujan.",
        **fields,
    }
    async with running.http.post(
        "/api/v1/desk/complaints", json=body, headers=DESK_AUTH
    ) as response:
        created = await response.json()
        assert response.status == 201, created
    assert len(created["citizen_code"]) == 6  # printed on the desk's receipt
    tracking_id: str = created["tracking_id"]
    return tracking_id


async def desk_items(running: Running, n: int) -> list[DeskItem]:
    return await eventually(running.store.desk_items, lambda found: len(found) == n)


async def test_a_walk_in_complaint_is_answered_by_a_letter_at_the_desk(gateway: Running) -> None:
    t = await team(gateway)
    tracking_id = await walk_in(gateway, name="Pak Harun", phone="0812 7777 8888")
    await walk_to(gateway, t, tracking_id, "dijawab")
    # Every message to a walk-in citizen waits at the desk: a letter, and a call to make.
    items = await desk_items(gateway, 6)
    assert sorted((i.purpose, i.kind) for i in items) == [
        (purpose, kind)
        for purpose in ("answer", "handling", "verified")
        for kind in ("call", "letter")
    ]
    answer = next(i for i in items if i.purpose == "answer" and i.kind == "letter")

    await log_in_at_desk(gateway)
    async with gateway.http.get("/desk") as response:
        page = await response.text()
    assert f"/desk/letters/{answer.message_id}" in page and "+6281277778888" in page
    async with gateway.http.get(f"/desk/letters/{answer.message_id}") as response:
        letter = await response.text()
        assert response.status == 200
    assert "Jalan diperbaiki pekan depan." in letter and "Pak Harun" in letter
    async with gateway.http.post(
        f"/desk/items/{answer.message_id}/letter", allow_redirects=False
    ) as response:
        assert response.status == 303
    left = await gateway.store.desk_items()
    assert answer.message_id not in {i.message_id for i in left if i.kind == "letter"}


async def test_an_anonymous_walk_in_citizen_is_never_called(gateway: Running) -> None:
    t = await team(gateway)
    tracking_id = await walk_in(gateway, name="Tanpa Nama", phone="0812 7777 9999", anonymous=True)
    await opened(gateway)
    await must(gateway, t.penghubung, tracking_id, "verifikasi", agency=AGENCY)
    [letter] = await desk_items(gateway, 1)
    assert letter.kind == "letter" and letter.complaint.reporter.phone is None


async def log_in_at_desk(running: Running) -> None:
    async with running.http.get("/desk") as response:
        token = re.search(r'name="csrf_token" value="([^"]+)"', await response.text())
    assert token is not None
    data = {"token": DESK_TOKEN, "csrf_token": token.group(1)}
    async with running.http.post("/desk/login", data=data, allow_redirects=False) as response:
        assert response.status == 303
