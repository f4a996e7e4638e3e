"""`anonim` and `rahasia` end to end: an anonymous reporter is shown to no staff role and
kept nowhere but as the address the answer goes to; a confidential complaint's text,
place, files and answer are for the regency's readers and the agency holding it only; and
nothing secret reaches the logs."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import pytest

from tests.conftest import (
    ADMIN_TOKEN,
    Running,
    all_dispatched,
    eventually,
    file_complaint,
    form_data,
    start_gateway,
    tiny_png,
    tracking_id_on,
)
from tests.fakes.twilio_api import FakeTwilio
from tests.gateway.sms_support import (
    CITIZEN,
    SMS_SETTINGS,
    TEXT,
    TWILIO_SID,
    TWILIO_TOKEN,
    tracking_id_in,
    twilio_sms,
)
from tests.gateway.workflow_support import (
    AGENCY,
    OTHER_AGENCY,
    PASSWORD,
    Staff,
    Team,
    act,
    add_staff,
    case_of,
    must,
    team,
    walk_to,
)
from workflow.roles import Role

NAME = "Siti Aminah"
PHONE = "0813-5555-1234"
PHONE_E164 = "+6281355551234"
EMAIL = "siti.aminah@example.id"
ENV_ADMIN = Staff("ani-env", ADMIN_TOKEN)
SECRET_TEXT = "Kepala desa meminta uang pelicin Rp500.000 untuk surat keterangan tanah."
SECRET_PLACE = "Kantor Desa Sungai Awan Kiri"
SECRET_FILE = "bukti-kuitansi.png"
SECRET_ANSWER = "Inspektorat memeriksa kepala desa yang bersangkutan pekan ini."
ANSWER = "Jalan diperbaiki pekan depan."  # walk_to's answer


@pytest.fixture
async def twilio() -> AsyncIterator[FakeTwilio]:
    async with FakeTwilio(TWILIO_SID, TWILIO_TOKEN) as fake:
        yield fake


@pytest.fixture
async def running(tmp_path: Path, twilio: FakeTwilio) -> AsyncIterator[Running]:
    """A gateway that sends SMS through (fake) Twilio and takes SMS on its webhook; its own
    http address is its public one, so the web form's cookies work over 127.0.0.1."""
    settings = SMS_SETTINGS | {
        "public_base_url": "",
        "twilio_account_sid": TWILIO_SID,
        "twilio_from": "+6281100001708",
        "twilio_api_url": twilio.base_url,
    }
    gateway = await start_gateway(tmp_path, **settings)
    yield gateway
    await gateway.stop()


async def sms_from(running: Running, sender: str, body: str) -> str:
    """An SMS to 1708 through the Twilio webhook, signed for this gateway's address; the
    tracking ID of its acknowledgement."""
    url = running.url("/webhooks/sms/twilio")
    status, twiml = await twilio_sms(running, body, sender=sender, url=url)
    assert status == 200, twiml
    return tracking_id_in(twiml)


def leaks(text: str, secrets: Iterable[str]) -> list[str]:
    """The secrets found in `text`."""
    return [s for s in secrets if s in text]


def reporter_traces(*, name: str | None = NAME, phone: str = PHONE_E164) -> list[str]:
    """What would show the reporter: the name, the number in any usual spelling."""
    local = phone.removeprefix("+62")
    found = [phone, local, "0" + local, f"{local[:3]}-{local[3:7]}-{local[7:]}"]
    return found + ([name] if name else [])


def stored(running: Running, tracking_id: str) -> tuple[dict[str, Any], str]:
    """The complaint's row and its raw inbound payload (decoded, percent-escapes undone),
    read from the SQLite file."""
    conn = sqlite3.connect(running.sqlite_store.path)
    conn.row_factory = sqlite3.Row
    try:
        found = conn.execute("SELECT * FROM complaints WHERE tracking_id = ?", (tracking_id,))
        row = dict(found.fetchone())
        payload = conn.execute(
            "SELECT body FROM inbound_payloads WHERE complaint_id = ?", (row["id"],)
        ).fetchone()
    finally:
        conn.close()
    raw = payload[0].decode("utf-8", "replace") if payload else ""
    return row, raw + "\n" + unquote_plus(raw)


async def text_of(running: Running, path: str, staff: Staff, **headers: str) -> tuple[int, str]:
    async with running.http.get(path, headers=staff.auth | headers) as response:
        return response.status, await response.text()


async def public_status(running: Running, tracking_id: str) -> tuple[dict[str, Any], str]:
    """The status page as JSON and as HTML."""
    path = f"/status/{tracking_id}"
    async with running.http.get(path, headers={"Accept": "application/json"}) as response:
        assert response.status == 200
        data: dict[str, Any] = await response.json()
    async with running.http.get(path) as response:
        assert response.status == 200
        html = await response.text()
    return data, html


async def answer_sms(twilio: FakeTwilio, to: str, answer: str = ANSWER) -> list[str]:
    """The SMS carrying `answer` that Twilio was asked to send to `to`, once there."""

    async def probe() -> list[str]:
        return [m["Body"] for m in twilio.sent if m["To"] == to and answer in m["Body"]]

    return await eventually(probe, bool)


def readers(t: Team) -> list[Staff]:
    """Every role that reads a PUPR case, and the read-only env admin."""
    return [t.utama, ENV_ADMIN, t.penghubung, t.opd, t.pejabat]


@pytest.mark.parametrize(
    ("channel", "contact", "reply_channel"),
    [
        ("web", {"phone": PHONE}, "sms"),
        ("app", {"phone": PHONE, "email": EMAIL}, "email"),
    ],
    ids=["web-with-phone", "app-with-phone-and-email"],
)
async def test_an_anonymous_reporter_is_shown_to_no_one(
    running: Running,
    twilio: FakeTwilio,
    channel: str,
    contact: dict[str, str],
    reply_channel: str,
) -> None:
    """An anonymous web or app complaint with a name and contact: the reporter is null for
    every role, and the name, number and e-mail are in no answer of the API (queue, detail,
    recap) nor on the status page, in no stored complaint column but its reply address, and
    not in its raw payload; the reply address stays, so the answer still goes out (by SMS
    to the number when no e-mail was given)."""
    t = await team(running)
    fields = {"text": TEXT, "name": NAME, "anonymous": True, "category": "jalan_jembatan"}
    tracking_id = await file_complaint(running, channel, **fields, **contact)
    await walk_to(running, t, tracking_id, "dijawab")
    secrets = reporter_traces() + ([EMAIL] if "email" in contact else [])

    for staff in readers(t):
        status, detail = await case_of(running, staff, tracking_id)
        assert status == 200, (staff.username, detail)
        assert detail["anonymous"] is True and detail["reporter"] is None
        assert detail["reply_channel"] == reply_channel
        _, body = await text_of(running, f"/api/v1/complaints/{tracking_id}", staff)
        assert leaks(body, secrets) == [], staff.username
        status, body = await text_of(running, "/api/v1/complaints", staff)
        assert status == 200 and tracking_id in body
        assert leaks(body, secrets) == [], staff.username
    public, page = await public_status(running, tracking_id)
    assert leaks(str(public), secrets) == [] and leaks(page, secrets) == []
    for format_ in ("json", "csv"):
        status, body = await text_of(
            running, f"/api/v1/recap?from=2026-08-14&to=2026-08-14&format={format_}", t.utama
        )
        assert status == 200 and leaks(body, secrets) == []

    row, raw = stored(running, tracking_id)
    assert row["reporter_name"] is None and row["reporter_phone"] is None
    assert row["reporter_email"] is None and row["anonymous"] == 1
    reply_address = row.pop("reply_address")
    assert reply_address == (PHONE_E164 if reply_channel == "sms" else EMAIL)
    assert leaks(str(row), secrets) == []
    assert TEXT in raw and leaks(raw, secrets) == []

    if reply_channel == "sms":
        [answer] = await answer_sms(twilio, PHONE_E164)
        assert tracking_id in answer and ANSWER in answer


async def test_an_sms_complaint_made_anonymous_at_verification(
    running: Running, twilio: FakeTwilio
) -> None:
    """Verified with anonymous=true, an SMS complaint loses its reporter: no number in the
    detail, the raw payload blanked; the answer still goes by SMS to the number."""
    t = await team(running)
    tracking_id = await sms_from(running, CITIZEN, TEXT)
    await all_dispatched(running)
    secrets = reporter_traces(name=None, phone=CITIZEN)
    status, before = await case_of(running, t.penghubung, tracking_id)
    assert before["reporter"]["phone"] == CITIZEN and before["reply_channel"] == "sms"
    assert leaks(stored(running, tracking_id)[1], secrets)  # the provider's form, as it came

    verified = await must(
        running, t.penghubung, tracking_id, "verifikasi", agency=AGENCY, anonymous=True
    )
    assert verified["anonymous"] is True and verified["reporter"] is None
    for staff in readers(t):
        status, body = await text_of(running, f"/api/v1/complaints/{tracking_id}", staff)
        assert status == 200 and '"reporter":null' in body
        assert leaks(body, secrets) == [], staff.username
    row, raw = stored(running, tracking_id)
    assert row["reporter_phone"] is None and row["reply_address"] == CITIZEN
    assert TEXT in raw and leaks(raw, secrets) == []

    await must(running, t.opd, tracking_id, "disposisi", to=t.pejabat.username)
    await must(running, t.pejabat, tracking_id, "tindak_lanjut", text="Tim turun ke lokasi.")
    await must(running, t.opd, tracking_id, "konsep", perihal="Jalan rusak", isi=ANSWER)
    await must(running, t.opd, tracking_id, "ajukan")
    await must(running, t.pejabat, tracking_id, "setujui")
    await must(running, t.opd, tracking_id, "terbitkan")
    [answer] = await answer_sms(twilio, CITIZEN)
    assert ANSWER in answer
    status, body = await text_of(running, f"/api/v1/complaints/{tracking_id}", t.utama)
    assert leaks(body, secrets) == []


@pytest.mark.parametrize("field", ["anonymous", "confidential"])
async def test_anonymous_and_confidential_cannot_be_turned_off(
    running: Running, field: str
) -> None:
    """Verifying an anonymous, confidential complaint with the flag false is a 422 naming
    the field, and the case stays as it was."""
    t = await team(running)
    tracking_id = await file_complaint(
        running, "app", text=SECRET_TEXT, anonymous=True, confidential=True
    )
    await all_dispatched(running)
    status, body = await act(
        running, t.penghubung, tracking_id, "verifikasi", agency="PUPR", **{field: False}
    )
    assert status == 422, body
    assert [f["field"] for f in body["fields"]] == [field]
    _, detail = await case_of(running, t.penghubung, tracking_id)
    assert detail["case"]["state"] == "diterima"
    assert detail["anonymous"] is True and detail["confidential"] is True


async def test_a_confidential_complaint_is_read_only_by_those_handling_it(
    running: Running,
) -> None:
    """`rahasia`: the text, place and files are null on the public status page and, once
    the case moved on, in the old agency's view; the regency's readers and the agency now
    holding it read them; the published answer is not on the status page."""
    t = await team(running)
    dinkes_opd = await add_staff(running, "opd-dinkes", Role.ADMIN_OPD, OTHER_AGENCY)
    dinkes_pejabat = await add_staff(
        running, "pejabat-dinkes", Role.PEJABAT_PENGHUBUNG, OTHER_AGENCY, name="dr. Hasan"
    )
    fields: dict[str, str | bool] = {
        "csrf_token": await running.form_token(),
        "text": SECRET_TEXT,
        "phone": PHONE,
        "location": SECRET_PLACE,
        "confidential": True,
        "category": "jalan_jembatan",
    }
    data = form_data(fields)
    data.add_field("attachments", tiny_png(), filename=SECRET_FILE, content_type="image/png")
    async with running.http.post("/lapor", data=data) as response:
        html = await response.text()
        assert response.status == 201, html
    tracking_id = tracking_id_on(html)
    await all_dispatched(running)
    secrets = [SECRET_TEXT, SECRET_PLACE, SECRET_FILE]

    data_json, page = await public_status(running, tracking_id)
    assert data_json["confidential"] is True
    assert data_json["text"] is None and data_json["location"] is None
    assert leaks(str(data_json), secrets) == [] and leaks(page, secrets) == []

    await must(running, t.penghubung, tracking_id, "verifikasi", agency=AGENCY)
    await must(running, t.opd, tracking_id, "disposisi", to=t.pejabat.username)
    running.clock.advance(hours=1)
    await must(running, t.penghubung, tracking_id, "alihkan", agency=OTHER_AGENCY)
    running.clock.advance(hours=1)
    await must(running, dinkes_opd, tracking_id, "disposisi", to=dinkes_pejabat.username)
    await must(running, dinkes_pejabat, tracking_id, "tindak_lanjut", text="Diteruskan ke APIP.")
    await must(running, dinkes_opd, tracking_id, "konsep", perihal="Pungli", isi=SECRET_ANSWER)
    await must(running, dinkes_opd, tracking_id, "ajukan")
    await must(running, dinkes_pejabat, tracking_id, "setujui")
    published = await must(running, dinkes_opd, tracking_id, "terbitkan")
    assert published["case"]["state"] == "dijawab"

    for staff in (t.opd, t.pejabat):
        status, detail = await case_of(running, staff, tracking_id)
        assert status == 200 and detail["moved"] is True
        assert detail["text"] is None and detail["location"] is None
        assert detail["attachments"] == [] and detail["notas"] == []
        _, body = await text_of(running, f"/api/v1/complaints/{tracking_id}", staff)
        assert leaks(body, [*secrets, SECRET_ANSWER]) == [], staff.username
        _, body = await text_of(running, "/api/v1/complaints", staff)
        assert tracking_id in body and leaks(body, [*secrets, SECRET_ANSWER]) == []

    for staff in (t.utama, t.penghubung, dinkes_opd, dinkes_pejabat):
        status, detail = await case_of(running, staff, tracking_id)
        assert status == 200, (staff.username, detail)
        assert detail["text"] == SECRET_TEXT and detail["location"] == SECRET_PLACE
        assert [a["filename"] for a in detail["attachments"]] == [SECRET_FILE]
        assert [n["isi"] for n in detail["notas"]] == [SECRET_ANSWER]

    data_json, page = await public_status(running, tracking_id)
    assert data_json["state"] == "dijawab" and data_json["answer"] is None
    assert data_json["text"] is None and data_json["location"] is None
    for shown in (str(data_json), page):
        assert leaks(shown, [*secrets, SECRET_ANSWER, "Pungli"]) == []


async def test_the_old_agency_cannot_search_a_confidential_text(running: Running) -> None:
    """The queue's text search does not find a confidential complaint for an agency that
    may no longer read its text: a hit would tell them the words it holds."""
    t = await team(running)
    dinkes_opd = await add_staff(running, "opd-dinkes", Role.ADMIN_OPD, OTHER_AGENCY)
    tracking_id = await file_complaint(
        running, "app", text=SECRET_TEXT, location=SECRET_PLACE, phone=PHONE, confidential=True
    )
    await all_dispatched(running)
    await must(running, t.penghubung, tracking_id, "verifikasi", agency=AGENCY)
    await must(running, t.penghubung, tracking_id, "alihkan", agency=OTHER_AGENCY)

    async def found(staff: Staff, words: str) -> bool:
        status, body = await text_of(running, f"/api/v1/complaints?q={words}", staff)
        assert status == 200, body
        return tracking_id in body

    # Those who may read it find it by its words.
    for staff in (t.utama, t.penghubung, dinkes_opd):
        assert await found(staff, "pelicin") and await found(staff, "Sungai Awan")
    # PUPR still lists it (moved, text null), but not by words it may not read.
    assert await found(t.opd, "")
    assert not await found(t.opd, "pelicin")
    assert not await found(t.opd, "Sungai Awan")


async def test_no_reporter_token_or_password_reaches_the_logs(
    running: Running, twilio: FakeTwilio, caplog: pytest.LogCaptureFixture
) -> None:
    """With every logger at DEBUG through sign-ins (one failed), an anonymous complaint's
    whole walk and its SMS answer, no record holds the reporter's name or number, a token
    or a password."""
    caplog.set_level(logging.DEBUG)
    t = await team(running)
    wrong = "salah-sandi-rahasia-42"
    async with running.http.post(
        "/api/v1/auth/token", json={"username": "ani", "password": wrong}
    ) as response:
        assert response.status == 401
    fields = {"text": TEXT, "name": NAME, "phone": PHONE, "anonymous": True}
    tracking_id = await file_complaint(running, "web", **fields)
    await walk_to(running, t, tracking_id, "dijawab")
    await answer_sms(twilio, PHONE_E164)
    _, detail = await case_of(running, ENV_ADMIN, tracking_id)
    assert detail["reporter"] is None

    tokens = [s.token for s in (t.utama, t.penghubung, t.opd, t.pejabat)]
    secrets = [*reporter_traces(), PASSWORD, wrong, ADMIN_TOKEN, *tokens]
    assert caplog.records, "nothing was logged at all"
    found = [
        (record.name, leaks(f"{record.getMessage()} {record.exc_text or ''}", secrets))
        for record in caplog.records
    ]
    assert [f for f in found if f[1]] == []
