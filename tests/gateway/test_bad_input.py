"""Bad input gets a clear 4xx, never a 500, and nothing half-written (invariant 5).

Every case runs against a fresh gateway and ends with the complaints and outbox tables
empty: a refused request leaves no trace in the store.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pytest
from aiohttp import FormData

from channels.app.models import ErrorBody
from tests.conftest import DESK_AUTH, Running, form_data, start_gateway, tiny_png, tracking_id_on
from tests.gateway.test_webform_flow import COMPLAINT, form

APP = "/api/v1/complaints"
DESK = "/api/v1/desk/complaints"
VALID: dict[str, object] = {
    "text": "Sampah menumpuk di pasar lama sejak dua minggu, baunya sampai ke rumah warga.",
    "phone": "0812-3456-7890",
}
JSON = "application/json"


def nothing_stored(running: Running) -> None:
    counts = {t: running.count(t) for t in ("complaints", "outbox", "inbound_payloads")}
    assert counts == {"complaints": 0, "outbox": 0, "inbound_payloads": 0}


@dataclass(frozen=True)
class Bad:
    """One bad request: its body (bytes as sent, or a change to a valid body) and the answer."""

    body: bytes | Callable[[dict[str, object]], object]
    status: int
    error: str
    field: str | None = None
    content_type: str = JSON

    def encode(self, valid: dict[str, object]) -> bytes:
        return self.body if isinstance(self.body, bytes) else json.dumps(self.body(valid)).encode()


def change(**fields: object) -> Callable[[dict[str, object]], object]:
    return lambda valid: valid | fields


def without(*names: str) -> Callable[[dict[str, object]], object]:
    return lambda valid: {k: v for k, v in valid.items() if k not in names}


BAD_JSON: dict[str, Bad] = {
    "text/plain": Bad(
        json.dumps(VALID).encode(), 415, "unsupported_media_type", None, "text/plain"
    ),
    "form-urlencoded": Bad(
        urlencode({"text": str(VALID["text"])}).encode(),
        415,
        "unsupported_media_type",
        None,
        "application/x-www-form-urlencoded",
    ),
    "json-suffix-type": Bad(
        json.dumps(VALID).encode(), 415, "unsupported_media_type", None, "application/problem+json"
    ),
    "empty-body": Bad(b"", 400, "malformed_json"),
    "malformed": Bad(b'{"text": "Jalan rusak parah sekali",', 400, "malformed_json"),
    "single-quotes": Bad(b"{'text': 'Jalan rusak parah sekali'}", 400, "malformed_json"),
    "invalid-utf8": Bad(
        b'{"text": "Jalan rusak \xff\xfe parah sekali", "anonymous": true}', 400, "malformed_json"
    ),
    "latin1": Bad(
        '{"text": "Jalan rusak café parah", "anonymous": true}'.encode("latin-1"),
        400,
        "malformed_json",
    ),
    "deeply-nested": Bad(b"[" * 100_000 + b"]" * 100_000, 400, "malformed_json"),
    "nested-in-a-field": Bad(
        b'{"text": "Jalan rusak parah sekali", "name": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        400,
        "malformed_json",
    ),
    "huge-integer": Bad(
        b'{"text": "Jalan rusak parah", "anonymous": ' + b"1" * 5000 + b"}", 400, "malformed_json"
    ),
    "array": Bad(lambda valid: [valid], 422, "validation_error", "body"),
    "null": Bad(b"null", 422, "validation_error", "body"),
    "string": Bad(b'"Jalan rusak parah sekali"', 422, "validation_error", "body"),
    "missing-text": Bad(without("text"), 422, "validation_error", "text"),
    "text-null": Bad(change(text=None), 422, "validation_error", "text"),
    "text-too-short": Bad(change(text="rusak"), 422, "validation_error", "text"),
    "text-only-spaces": Bad(change(text=" " * 40), 422, "validation_error", "text"),
    "text-invisible": Bad(change(text="\u200b\u2060\u200e" * 10), 422, "validation_error", "text"),
    "text-control-chars": Bad(change(text="\x00\x07\x1b" * 10), 422, "validation_error", "text"),
    "text-lone-surrogate": Bad(change(text="\ud800" * 20), 422, "validation_error", "text"),
    "text-too-long": Bad(change(text="a" * 10_001), 422, "validation_error", "text"),
    "text-number": Bad(change(text=12345678901), 422, "validation_error", "text"),
    "unknown-field": Bad(change(nik="6104010101010001"), 422, "validation_error", "nik"),
    "phone-short-code": Bad(change(phone="12345"), 422, "validation_error", "phone"),
    "phone-too-short": Bad(change(phone="0812"), 422, "validation_error", "phone"),
    "phone-too-long": Bad(change(phone="0812-0000-0000-0000"), 422, "validation_error", "phone"),
    "phone-letters": Bad(change(phone="nomor saya"), 422, "validation_error", "phone"),
    "phone-number-type": Bad(change(phone=81234567890), 422, "validation_error", "phone"),
    "bad-email": Bad(change(email="bukan-email"), 422, "validation_error", "email"),
    "email-no-domain": Bad(change(email="siti@"), 422, "validation_error", "email"),
    "unknown-category": Bad(change(category="politik"), 422, "validation_error", "category"),
    "unknown-classification": Bad(
        change(classification="keluhan"), 422, "validation_error", "classification"
    ),
    "future-incident": Bad(
        change(incident_date="2026-08-15"), 422, "validation_error", "incident_date"
    ),
    "not-a-date": Bad(change(incident_date="kemarin"), 422, "validation_error", "incident_date"),
    "impossible-date": Bad(
        change(incident_date="2026-02-30"), 422, "validation_error", "incident_date"
    ),
    "no-contact": Bad(without("phone"), 422, "validation_error", "contact"),
    "blank-contact": Bad(change(phone="  ", email=""), 422, "validation_error", "contact"),
    "anonymous-maybe": Bad(change(anonymous="maybe"), 422, "validation_error", "anonymous"),
    "confidential-list": Bad(change(confidential=[]), 422, "validation_error", "confidential"),
    "location-too-long": Bad(change(location="x" * 301), 422, "validation_error", "location"),
    "name-object": Bad(change(name={"first": "Siti"}), 422, "validation_error", "name"),
}


@pytest.mark.parametrize("path", [APP, DESK])
@pytest.mark.parametrize("case", list(BAD_JSON.values()), ids=list(BAD_JSON))
async def test_bad_json_input_is_refused_clearly_and_stores_nothing(
    tmp_path: Path, path: str, case: Bad
) -> None:
    # The default limit (256 KiB) holds the 200 KB of brackets: they are parsed, not cut off.
    running = await start_gateway(tmp_path, max_json_bytes=256 * 1024)
    valid = VALID | ({"channel": "walkin"} if path == DESK else {})
    headers = {"Content-Type": case.content_type, **(DESK_AUTH if path == DESK else {})}
    try:
        async with running.http.post(path, data=case.encode(valid), headers=headers) as response:
            assert response.content_type == JSON
            body = ErrorBody.model_validate(await response.json())
            assert (response.status, body.error) == (case.status, case.error), body
        assert body.message  # a reason in words, not just a code
        if case.field is not None:
            assert case.field in [problem.field for problem in body.fields], body
        nothing_stored(running)
    finally:
        await running.stop()


async def test_every_problem_is_named_at_once(gateway: Running) -> None:
    bad = {"text": "rusak", "phone": "123", "email": "x", "category": "politik", "foo": 1}
    async with gateway.http.post(APP, json=bad) as response:
        assert response.status == 422
        body = ErrorBody.model_validate(await response.json())
    assert {p.field for p in body.fields} == {"text", "phone", "email", "category", "foo"}
    nothing_stored(gateway)


# -- size limits ---------------------------------------------------------------------------

LIMIT = 1000


async def _chunked(data: bytes) -> AsyncIterator[bytes]:
    """No Content-Length: the body is sent in chunks and its size is found only by reading."""
    for start in range(0, len(data), 256):
        yield data[start : start + 256]
        await asyncio.sleep(0)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("path", [APP, DESK])
async def test_a_body_over_the_json_limit_is_a_413(
    tmp_path: Path, path: str, chunked: bool
) -> None:
    running = await start_gateway(tmp_path, max_json_bytes=LIMIT)
    extra = {"channel": "walkin"} if path == DESK else {}
    headers = {"Content-Type": JSON, **(DESK_AUTH if path == DESK else {})}
    try:
        # Just under the limit is taken, so the limit is the setting and not a fixed size.
        small = json.dumps(VALID | extra | {"location": "x" * 100}).encode()
        assert len(small) <= LIMIT
        async with running.http.post(path, data=small, headers=headers) as response:
            assert response.status == 201
        assert running.count() == 1

        # A valid complaint, only too long: the 413 is about the size, not the content.
        big = json.dumps(VALID | extra | {"text": "Jalan rusak parah. " * 60}).encode()
        assert len(big) > LIMIT
        data = _chunked(big) if chunked else big
        async with running.http.post(path, data=data, headers=headers) as response:
            assert response.status == 413
            body = ErrorBody.model_validate(await response.json())
        assert body.error == "too_large"
        assert str(LIMIT) in body.message
        assert running.count("complaints") == 1
        assert running.count("outbox") == 1
    finally:
        await running.stop()


# -- the web form --------------------------------------------------------------------------


def stored_files(running: Running) -> list[Path]:
    root = Path(running.gateway.blobs.root)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def incoming_files(running: Running) -> list[Path]:
    incoming = Path(running.gateway.blobs.root) / "incoming"
    return sorted(incoming.iterdir()) if incoming.exists() else []


async def post_form(
    running: Running, data: FormData | bytes, headers: dict[str, str] | None = None
) -> tuple[int, str]:
    async with running.http.post("/lapor", data=data, headers=headers) as response:
        return response.status, await response.text()


def plain_form(**fields: str) -> FormData:
    """The form fields without a CSRF token."""
    return form_data({"text": COMPLAINT, "phone": "0812-3456-7890", **fields})


CSRF_MESSAGE = "Formulir sudah kedaluwarsa atau tidak sah"


@pytest.mark.parametrize(
    "token",
    [None, "", "forged-token", "eyJuIjoiYSIsInMiOiJiIn0.ZmFrZQ.c2lnbmF0dXJl"],
    ids=["no-field", "empty", "forged", "forged-signed-shape"],
)
async def test_form_without_a_good_csrf_token_is_a_403(gateway: Running, token: str | None) -> None:
    await gateway.form_token()  # the browser has the cookie; the token is what is wrong
    data = plain_form() if token is None else form(token)
    status, html = await post_form(gateway, data)
    assert status == 403
    assert CSRF_MESSAGE in html
    nothing_stored(gateway)


async def test_a_token_without_its_cookie_is_a_403(gateway: Running) -> None:
    token = await gateway.form_token()
    gateway.http.cookie_jar.clear()  # another browser replaying a token it saw
    status, html = await post_form(gateway, form(token))
    assert status == 403
    assert CSRF_MESSAGE in html
    nothing_stored(gateway)


async def test_a_file_before_the_csrf_token_is_refused_unstored(gateway: Running) -> None:
    await gateway.form_token()
    data = FormData()
    data.add_field("attachments", tiny_png(), filename="foto.png", content_type="image/png")
    data.add_field("text", COMPLAINT)
    status, _ = await post_form(gateway, data)
    assert status == 403
    nothing_stored(gateway)
    assert stored_files(gateway) == []


async def test_a_forged_token_does_not_get_files_stored(gateway: Running) -> None:
    await gateway.form_token()
    data = form("forged-token")
    data.add_field("attachments", tiny_png(), filename="foto.png", content_type="image/png")
    status, _ = await post_form(gateway, data)
    assert status == 403
    nothing_stored(gateway)
    assert stored_files(gateway) == []


@pytest.mark.parametrize(
    "body",
    [json.dumps({"text": COMPLAINT, "phone": "0812-3456-7890"}).encode(), b"text=Jalan"],
    ids=["json", "text-plain"],
)
async def test_form_in_another_media_type_is_a_415(gateway: Running, body: bytes) -> None:
    content_type = JSON if body.startswith(b"{") else "text/plain"
    status, html = await post_form(gateway, body, {"Content-Type": content_type})
    assert status == 415
    assert "Jenis berkas tidak didukung" in html
    nothing_stored(gateway)


@pytest.mark.parametrize(
    ("content", "filename", "content_type"),
    [
        (
            b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n",
            "surat.pdf",
            "application/pdf",
        ),
        (
            b"ini bukan gambar, hanya teks biasa yang diberi nama .png\n" * 5,
            "foto.png",
            "image/png",
        ),
        (
            b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 100,
            "foto.jpg",
            "image/jpeg",
        ),
        (
            b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
            "a.svg",
            "image/svg+xml",
        ),
    ],
    ids=["pdf", "text-named-png", "exe-named-jpg", "svg"],
)
async def test_an_upload_that_is_not_a_photo_or_video_is_a_415(
    gateway: Running, content: bytes, filename: str, content_type: str
) -> None:
    data = form(await gateway.form_token())
    data.add_field("attachments", content, filename=filename, content_type=content_type)
    status, html = await post_form(gateway, data)
    assert status == 415
    assert "Jenis berkas tidak didukung" in html
    nothing_stored(gateway)
    assert stored_files(gateway) == []


async def test_an_upload_over_the_size_limit_is_a_413_and_leaves_no_file(
    tmp_path: Path,
) -> None:
    running = await start_gateway(tmp_path, max_upload_bytes=1024)
    try:
        data = form(await running.form_token())
        big_png = tiny_png() + b"\x00" * 2048  # real PNG bytes first, so it passes the sniff
        data.add_field("attachments", big_png, filename="besar.png", content_type="image/png")
        status, html = await post_form(running, data)
        assert status == 413
        assert "Berkas terlalu besar" in html
        nothing_stored(running)
        assert incoming_files(running) == []  # the partial temp file was removed
        assert stored_files(running) == []
    finally:
        await running.stop()


async def test_more_files_than_allowed_is_a_413(tmp_path: Path) -> None:
    running = await start_gateway(tmp_path, max_upload_files=2)
    try:
        data = form(await running.form_token())
        for i in range(3):
            data.add_field("attachments", tiny_png(), filename=f"{i}.png", content_type="image/png")
        status, html = await post_form(running, data)
        assert status == 413
        assert "Paling banyak 2 berkas" in html
        nothing_stored(running)
        assert incoming_files(running) == []
    finally:
        await running.stop()


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"text": ""}, "text", "wajib diisi"),
        ({"text": "rusak"}, "text", "terlalu pendek (minimal 10 karakter)"),
        ({"text": "\u200b" * 30}, "text", "terlalu pendek (minimal 10 karakter)"),
        ({"phone": "123"}, "phone", "tidak valid"),
        ({"incident_date": "2026-08-15"}, "incident_date", "tidak valid"),
        ({"category": "politik"}, "category", "tidak valid"),
        ({"phone": ""}, "contact", "isi nomor telepon atau e-mail"),
    ],
    ids=[
        "missing-text",
        "short-text",
        "invisible-text",
        "bad-phone",
        "future-date",
        "unknown-category",
        "no-contact",
    ],
)
async def test_form_field_problems_are_shown_in_indonesian(
    gateway: Running, fields: dict[str, str], field: str, words: str
) -> None:
    status, html = await post_form(gateway, form(await gateway.form_token(), **fields))
    assert status == 422
    assert "Data yang dikirim belum benar" in html
    if field != "contact":  # the contact rule belongs to no single input
        assert f'<p class="error" id="{field}-error">{words}' in html
    else:
        assert words in html
    nothing_stored(gateway)


async def test_a_urlencoded_form_that_arrives_in_pieces_is_read_whole(gateway: Running) -> None:
    token = await gateway.form_token()
    body = urlencode({"csrf_token": token, "text": COMPLAINT, "phone": "0812-3456-7890"}).encode()

    async def pieces() -> AsyncIterator[bytes]:
        # A pause between pieces so the server sees the first one alone.
        for start in range(0, len(body), 60):
            yield body[start : start + 60]
            await asyncio.sleep(0.02)

    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    async with gateway.http.post("/lapor", data=pieces(), headers=headers) as response:
        html = await response.text()
        assert response.status == 201, html
    complaint = await gateway.store.get_complaint(tracking_id_on(html))
    assert complaint is not None and complaint.text == COMPLAINT
