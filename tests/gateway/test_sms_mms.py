"""MMS photos to 1708: Twilio's `MediaUrl{N}` fetched from its API (a fake here) into the
blob store and attached to the complaint, as the web form attaches an upload, and every way
a media can fail to be taken."""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator

from tests.conftest import ADMIN_AUTH, Running, eventually, start_gateway, tiny_png
from tests.fakes.twilio_api import FakeTwilio
from tests.gateway.conftest import twilio_sender
from tests.gateway.sms_support import (
    CITIZEN,
    SMS_SETTINGS,
    TEXT,
    TWILIO_SID,
    TWILIO_TOKEN,
    TWILIO_URL,
    query,
    signed_twilio_form,
    tracking_id_in,
    twiml_text,
)

PNG = tiny_png()
# Bytes after a PNG's last chunk are ignored by every reader: distinct files, still PNGs.
OTHER_PNG = PNG + b"\x00" * 16
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n"

Media = Sequence[tuple[str, str]]
"""(MediaUrl, MediaContentType) of each media of an MMS, in order."""


def mms_sid() -> str:
    return "MM" + uuid.uuid4().hex


def media_sid(media_url: str) -> str:
    return media_url.rsplit("/", 1)[1]


@asynccontextmanager
async def mms_gateway(
    tmp_path: Path, twilio: FakeTwilio, **settings: Any
) -> AsyncIterator[Running]:
    """A gateway taking SMS by Twilio's webhook and fetching media from `twilio`."""
    running = await start_gateway(tmp_path, **(SMS_SETTINGS | twilio_sender(twilio) | settings))
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
async def mms(tmp_path: Path, twilio: FakeTwilio) -> AsyncIterator[Running]:
    async with mms_gateway(tmp_path, twilio) as running:
        yield running


async def send_mms(running: Running, body: str, media: Media, sid: str) -> str:
    """POST Twilio's webhook for an MMS, signed as Twilio signs it; returns the reply SMS."""
    params, _ = signed_twilio_form(body, CITIZEN, sid)
    params["NumMedia"] = str(len(media))
    for n, (url, content_type) in enumerate(media):
        params[f"MediaUrl{n}"] = url
        params[f"MediaContentType{n}"] = content_type
    headers = {
        "X-Twilio-Signature": RequestValidator(TWILIO_TOKEN).compute_signature(TWILIO_URL, params),
        "Content-Type": "application/x-www-form-urlencoded",
    }
    async with running.http.post(
        "/webhooks/sms/twilio", data=urlencode(params), headers=headers
    ) as response:
        twiml = await response.text()
        assert response.status == 200, twiml
    reply = twiml_text(twiml)
    assert reply is not None, twiml
    return reply


async def complaint(running: Running, tracking_id: str) -> dict[str, Any]:
    """The complaint as an admin reads it in the API: its attachments and timeline."""
    async with running.http.get(f"/api/v1/complaints/{tracking_id}", headers=ADMIN_AUTH) as r:
        detail: dict[str, Any] = await r.json()
        assert r.status == 200, detail
    return detail


def media_events(detail: dict[str, Any]) -> list[tuple[str, str]]:
    """(state, note) of each media on the complaint's timeline."""
    return [(e["state"], e["note"]) for e in detail["timeline"] if e["kind"] == "sms.media"]


async def settled(running: Running, tracking_id: str, n: int) -> dict[str, Any]:
    """The complaint once `n` media are on its timeline (fetched, failed or refused)."""
    await eventually(lambda: complaint(running, tracking_id), lambda d: len(media_events(d)) >= n)
    # Read again: the API reads the complaint before its timeline, each as committed then.
    return await complaint(running, tracking_id)


def blob_files(running: Running) -> list[Path]:
    return [p for p in running.gateway.blobs.root.rglob("*") if p.is_file()]


async def test_an_mms_photo_is_fetched_through_the_redirect_and_attached(
    mms: Running, twilio: FakeTwilio
) -> None:
    sid = mms_sid()
    # The phone announced a JPEG; the bytes are a PNG, and the bytes decide.
    url = twilio.add_media(sid, PNG, "image/jpeg", redirect=True)

    reply = await send_mms(mms, TEXT, [(url, "image/jpeg")], sid)

    tracking_id = tracking_id_in(reply)
    detail = await settled(mms, tracking_id, 1)
    [attachment] = detail["attachments"]
    assert attachment["content_type"] == "image/png"
    assert attachment["size"] == len(PNG)
    assert attachment["sha256"] == hashlib.sha256(PNG).hexdigest()
    assert attachment["filename"].startswith("ME") and attachment["filename"].endswith(".png")
    assert mms.gateway.blobs.path_for(attachment["sha256"]).read_bytes() == PNG
    # Referenced, so the sweep of files nobody references keeps it.
    assert await mms.store.referenced_blobs([attachment["sha256"]]) == {attachment["sha256"]}
    assert media_events(detail) == [("fetched", "image/png")]
    assert detail["text"] == TEXT


async def test_a_photo_only_mms_is_a_complaint_with_the_photo(
    mms: Running, twilio: FakeTwilio
) -> None:
    sid = mms_sid()
    url = twilio.add_media(sid, PNG, "image/png")

    reply = await send_mms(mms, "", [(url, "image/png")], sid)

    # The ordinary acknowledgement: neither the help text nor a request for more words.
    tracking_id = tracking_id_in(reply)
    assert reply == mms.profile.message(
        "sms.ack", regency=mms.profile.regency, short_code="1708", tracking_id=tracking_id
    )
    detail = await settled(mms, tracking_id, 1)
    assert detail["text"] == mms.profile.message("sms.photo_only")
    assert detail["flags"] == []
    [attachment] = detail["attachments"]
    assert attachment["sha256"] == hashlib.sha256(PNG).hexdigest()


@pytest.mark.parametrize(
    ("moved", "reason"),
    [
        pytest.param("https://media.example.net/", "not on https://api.twilio.com", id="host"),
        pytest.param("https://api.twilio.com:8443/", "not on https://api.twilio.com", id="port"),
        pytest.param("https://evil@api.twilio.com/", "not on https://api.twilio.com", id="user"),
        pytest.param("https://api.twilio.com/x/", "not a Twilio media URL", id="path"),
    ],
)
async def test_a_media_url_off_twilios_api_is_refused_and_never_requested(
    mms: Running, twilio: FakeTwilio, moved: str, reason: str
) -> None:
    sid = mms_sid()
    # A media the fake holds, its URL moved off Twilio's API: had the gateway requested
    # it (from anywhere), the fake would have seen it.
    elsewhere = twilio.add_media(sid, PNG, "image/png").replace("https://api.twilio.com/", moved)
    ours = twilio.add_media(sid, OTHER_PNG, "image/png")

    reply = await send_mms(mms, TEXT, [(elsewhere, "image/png"), (ours, "image/png")], sid)

    detail = await settled(mms, tracking_id_in(reply), 2)
    assert sorted(media_events(detail)) == [
        ("fetched", "image/png"),
        ("refused", f"image/png [{reason}]"),
    ]
    assert twilio.media_requests == [media_sid(ours)] and twilio.requests == 1
    [attachment] = detail["attachments"]
    assert attachment["sha256"] == hashlib.sha256(OTHER_PNG).hexdigest()


async def test_a_503_is_tried_again_later_and_then_fetched(
    mms: Running, twilio: FakeTwilio
) -> None:
    sid = mms_sid()
    url = twilio.add_media(sid, PNG, "image/png")
    twilio.fail_next(503)

    tracking_id = tracking_id_in(await send_mms(mms, TEXT, [(url, "image/png")], sid))

    async def media_row() -> tuple[Any, ...]:
        [found] = query(mms, "SELECT state, attempts, last_error FROM sms_media")
        return found

    waiting = await eventually(media_row, lambda r: r[1] == 1 and r[2] is not None)
    assert waiting == ("pending", 1, "HTTP 503 Service Unavailable")
    assert (await complaint(mms, tracking_id))["attachments"] == []

    mms.clock.advance(minutes=1)  # past the first backoff (5 s ± 20 %)

    detail = await settled(mms, tracking_id, 1)
    assert media_events(detail) == [("fetched", "image/png")]
    assert len(detail["attachments"]) == 1
    assert await media_row() == ("fetched", 2, None)
    assert twilio.media_requests == [media_sid(url)]  # the 503 came before the API


async def test_a_401_fails_at_once_with_the_reason_and_no_credentials(tmp_path: Path) -> None:
    # Twilio's auth token was rotated: the gateway's (still valid for signatures here)
    # no longer opens the API.
    async with FakeTwilio(TWILIO_SID, "the-rotated-auth-token") as rotated:
        sid = mms_sid()
        url = rotated.add_media(sid, PNG, "image/png")
        async with mms_gateway(tmp_path, rotated) as running:
            tracking_id = tracking_id_in(await send_mms(running, TEXT, [(url, "image/png")], sid))

            detail = await settled(running, tracking_id, 1)

            assert media_events(detail) == [("failed", "image/png [HTTP 401 Unauthorized]")]
            assert detail["attachments"] == []
            assert query(running, "SELECT attempts FROM sms_media") == [(1,)]
            credentials = base64.b64encode(f"{TWILIO_SID}:{TWILIO_TOKEN}".encode()).decode()
            assert TWILIO_TOKEN not in str(detail) and credentials not in str(detail)


@pytest.mark.parametrize(
    ("body", "announced", "reason"),
    [
        pytest.param(
            PNG + b"\x00" * 1024, "image/png", "larger than 1024 bytes", id="over-the-size-limit"
        ),
        pytest.param(PDF, "application/pdf", "not a photo or video", id="pdf"),
        pytest.param(b"Jalan rusak parah.\n" * 20, "text/plain", "not a photo or video", id="text"),
    ],
)
async def test_a_media_that_is_too_large_or_no_photo_is_refused_and_not_kept(
    tmp_path: Path, twilio: FakeTwilio, body: bytes, announced: str, reason: str
) -> None:
    sid = mms_sid()
    url = twilio.add_media(sid, body, announced)
    async with mms_gateway(tmp_path, twilio, max_upload_bytes=1024) as running:
        tracking_id = tracking_id_in(await send_mms(running, TEXT, [(url, announced)], sid))

        detail = await settled(running, tracking_id, 1)

        assert media_events(detail) == [("refused", f"{announced} [{reason}]")]
        assert detail["attachments"] == []
        assert blob_files(running) == []  # nothing half-written left in incoming/ either


async def test_no_more_media_are_attached_than_the_upload_limit(
    tmp_path: Path, twilio: FakeTwilio
) -> None:
    sid = mms_sid()
    bodies = [PNG, OTHER_PNG, PNG + b"\x00" * 32]
    urls = [twilio.add_media(sid, body, "image/png") for body in bodies]
    async with mms_gateway(tmp_path, twilio, max_upload_files=2) as running:
        reply = await send_mms(running, TEXT, [(url, "image/png") for url in urls], sid)

        detail = await settled(running, tracking_id_in(reply), 3)

        # The first two, in the MMS's order; the third is never downloaded.
        hashes = [a["sha256"] for a in detail["attachments"]]
        assert hashes == [hashlib.sha256(body).hexdigest() for body in bodies[:2]]
        assert sorted(media_events(detail)) == [
            ("fetched", "image/png"),
            ("fetched", "image/png"),
            ("refused", "image/png [the complaint holds the most files allowed (2)]"),
        ]
        assert twilio.media_requests == [media_sid(url) for url in urls[:2]]


async def test_the_same_mms_delivered_twice_is_fetched_once(
    mms: Running, twilio: FakeTwilio
) -> None:
    sid = mms_sid()
    url = twilio.add_media(sid, PNG, "image/png")

    first = await send_mms(mms, TEXT, [(url, "image/png")], sid)
    again = await send_mms(mms, TEXT, [(url, "image/png")], sid)

    assert again == first
    await settled(mms, tracking_id_in(first), 1)

    async def pending() -> list[tuple[Any, ...]]:
        return query(mms, "SELECT id FROM sms_media WHERE state = 'pending'")

    await eventually(pending, lambda rows: rows == [])  # a second record would be fetched
    detail = await complaint(mms, tracking_id_in(first))
    assert media_events(detail) == [("fetched", "image/png")]
    assert len(detail["attachments"]) == 1
    assert twilio.media_requests == [media_sid(url)]


async def test_a_photo_added_to_a_complaint_joins_it_and_one_with_cek_is_dropped(
    mms: Running, twilio: FakeTwilio
) -> None:
    tracking_id = tracking_id_in(await send_mms(mms, TEXT, [], mms_sid()))
    added, asked = mms_sid(), mms_sid()
    photo = twilio.add_media(added, PNG, "image/png")
    unwanted = twilio.add_media(asked, OTHER_PNG, "image/png")

    await send_mms(mms, f"TAMBAH {tracking_id} ini fotonya", [(photo, "image/png")], added)
    await send_mms(mms, f"CEK {tracking_id}", [(unwanted, "image/png")], asked)

    detail = await settled(mms, tracking_id, 1)
    assert [a["sha256"] for a in detail["attachments"]] == [hashlib.sha256(PNG).hexdigest()]
    assert query(mms, "SELECT message_id FROM sms_media") == [(added,)]
