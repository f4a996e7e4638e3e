"""The citizen's status page: what anyone holding a tracking ID may see, and nothing more."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

import pytest

from normalizer.tracking import ALPHABET, generate_tracking_id
from tests.conftest import Running, all_dispatched, file_complaint, update_case

JSON = {"Accept": "application/json"}
TEXT = "Jembatan gantung di Dusun Sungai Besar putus sebagian, anak sekolah terpaksa memutar."
LOCATION = "Dusun Sungai Besar, Kecamatan Sandai"


async def file(running: Running, channel: str = "app", **fields: Any) -> str:
    body = {"text": TEXT, "location": LOCATION, "phone": "0812 3456 7890", **fields}
    return await file_complaint(running, channel, **body)


async def page(running: Running, path: str, json_: bool = False) -> tuple[int, str]:
    async with running.http.get(path, headers=JSON if json_ else {}) as response:
        expected = "application/json" if json_ else "text/html"
        assert response.content_type == expected
        return response.status, await response.text()


async def both(running: Running, tracking_id: str) -> tuple[str, dict[str, Any]]:
    """The HTML page and the JSON body of one status, both 200."""
    status, html = await page(running, f"/status/{tracking_id}")
    assert status == 200, html
    status, text = await page(running, f"/status/{tracking_id}", json_=True)
    assert status == 200, text
    body: dict[str, Any] = json.loads(text)
    return html, body


async def test_before_and_after_the_case_is_opened(dispatch_off: Running) -> None:
    # Received Friday 14 Aug 2026 in Ketapang; Monday 17 Aug is Independence Day.
    tracking_id = await file(dispatch_off, category="jalan_jembatan")
    html, body = await both(dispatch_off, tracking_id)
    assert body["state"] is None and body["state_label"] == "Sedang dicatat"
    assert body["verification_due"] is None and body["completion_due"] is None
    assert "Sedang dicatat" in html and "Batas verifikasi" not in html

    dispatcher = dispatch_off.dispatcher()
    assert await dispatcher.run_once() == 1
    html, body = await both(dispatch_off, tracking_id)
    assert body["tracking_id"] == tracking_id
    assert body["state"] == "diterima"
    assert body["state_label"] == "Diterima, menunggu verifikasi Admin Penghubung"
    assert body["verification_due"] == "2026-08-20"
    assert body["completion_due"] == "2026-08-24"
    assert body["category"] == "Jalan, Jembatan dan Drainase"
    assert body["agency"] is None  # only suggested so far: nothing is promised publicly
    for shown in (
        tracking_id,
        "Diterima, menunggu verifikasi Admin Penghubung",
        "Jumat, 14 Agustus 2026",  # received
        "Kamis, 20 Agustus 2026",  # verification deadline, as on the receipt
        "Senin, 24 Agustus 2026",  # completion deadline
        "Jalan, Jembatan dan Drainase",
        "Belum diteruskan",
    ):
        assert shown in html, shown
    assert "2026-08-20" not in html and "2026-08-24" not in html


@pytest.mark.parametrize(
    ("state", "agency", "label", "agency_name"),
    [
        ("diterima", None, "Diterima, menunggu verifikasi Admin Penghubung", None),
        ("ditunda", None, "Ditunda, menunggu keterangan dari pelapor", None),
        (
            "didisposisi",
            "PUPR",
            "Didisposisikan kepada pejabat penghubung instansi",
            "Dinas Pekerjaan Umum dan Penataan Ruang Kabupaten Ketapang",
        ),
        (
            "menunggu_persetujuan",
            "PUPR",
            "Jawaban sedang menunggu persetujuan",
            "Dinas Pekerjaan Umum dan Penataan Ruang Kabupaten Ketapang",
        ),
        (
            "disetujui",
            "PUPR",
            "Jawaban telah disetujui, segera diterbitkan",
            "Dinas Pekerjaan Umum dan Penataan Ruang Kabupaten Ketapang",
        ),
        (
            "dijawab",
            "PUPR",
            "Telah dijawab",
            "Dinas Pekerjaan Umum dan Penataan Ruang Kabupaten Ketapang",
        ),
        ("diarsipkan", None, "Diarsipkan", None),
        (
            "diteruskan",
            "PUPR",
            "Diteruskan ke instansi terkait",
            "Dinas Pekerjaan Umum dan Penataan Ruang Kabupaten Ketapang",
        ),
        ("ditindaklanjuti", "PDAM", "Sedang ditindaklanjuti", "Perusahaan Umum Daerah Air Minum"),
        ("selesai", "PUPR", "Selesai", "Dinas Pekerjaan Umum dan Penataan Ruang"),
        ("ditolak", None, "Tidak dapat ditindaklanjuti", None),
    ],
)
async def test_each_state_has_its_indonesian_label_and_the_agency_its_name(
    gateway: Running, state: str, agency: str | None, label: str, agency_name: str | None
) -> None:
    tracking_id = await file(gateway)
    await all_dispatched(gateway)
    await update_case(gateway, tracking_id, state=state, agency=agency)
    html, body = await both(gateway, tracking_id)
    assert body["state"] == state and body["state_label"] == label
    assert f'<dd id="state">{label}</dd>' in html
    if agency_name is None:
        assert body["agency"] is None and "Belum diteruskan" in html
    else:
        assert body["agency"].startswith(agency_name) and agency_name in html
        assert "Belum diteruskan" not in html


@pytest.mark.parametrize("confidential", [True, False])
async def test_a_confidential_complaint_shows_neither_text_nor_location(
    gateway: Running, confidential: bool
) -> None:
    tracking_id = await file(gateway, confidential=confidential)
    await all_dispatched(gateway)
    html, body = await both(gateway, tracking_id)
    raw_json = json.dumps(body, ensure_ascii=False)
    hidden = ("Jembatan gantung", "Sungai Besar", "Sandai", "anak sekolah")
    if confidential:
        assert body["confidential"] is True
        assert body["text"] is None and body["location"] is None
        assert "Isi laporan ini dirahasiakan." in html
        for words in hidden:
            assert words not in html and words not in raw_json, words
    else:  # the same words do show when the complaint is not confidential
        assert body["text"] == TEXT and body["location"] == LOCATION
        for words in hidden:
            assert words in html and words in raw_json, words


REPORTER = {"name": "Rahmat Hidayat", "phone": "0813-9876-5432", "email": "Rahmat.H@Example.id"}
# The reporter in every form they might appear in: as typed, E.164, digits, lower-cased.
REPORTER_TRACES = (
    "Rahmat",
    "Hidayat",
    "0813-9876-5432",
    "081398765432",
    "+6281398765432",
    "6281398765432",
    "9876",
    "Rahmat.H@Example.id",
    "rahmat.h@example.id",
    "Example.id",
)


@pytest.mark.parametrize("channel", ["app", "walkin", "phone"])
@pytest.mark.parametrize(
    "reporter",
    [
        {**REPORTER, "anonymous": True},
        REPORTER,
        {"name": REPORTER["name"], "phone": REPORTER["phone"]},
        {"email": REPORTER["email"]},
        {"phone": "+62 813 9876 5432"},
    ],
)
async def test_the_reporter_never_appears(
    gateway: Running, channel: str, reporter: dict[str, Any]
) -> None:
    tracking_id = await file(gateway, channel, **{"phone": None, **reporter})
    await all_dispatched(gateway)
    html, body = await both(gateway, tracking_id)
    raw_json = json.dumps(body, ensure_ascii=False)
    for trace in REPORTER_TRACES:
        assert trace.lower() not in html.lower(), trace
        assert trace.lower() not in raw_json.lower(), trace
    assert TEXT in html  # the page did render the complaint itself


def unknown_id() -> str:
    return generate_tracking_id(random.Random(1708))


def change_one_symbol(tracking_id: str, at: int) -> str:
    other = ALPHABET[(ALPHABET.index(tracking_id[at]) + 5) % len(ALPHABET)]
    return tracking_id[:at] + other + tracking_id[at + 1 :]


def swap_neighbours(tracking_id: str) -> str:
    """The first two different neighbours swapped: swapping equal ones (a random ID starts
    "KK…" one time in 31) would change nothing and make this case flaky."""
    i = next(i for i in range(len(tracking_id) - 1) if tracking_id[i] != tracking_id[i + 1])
    return tracking_id[:i] + tracking_id[i + 1] + tracking_id[i] + tracking_id[i + 2 :]


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (lambda _: unknown_id(), f"Nomor pelacakan {unknown_id()} tidak ditemukan."),
        (lambda _: unknown_id().lower(), f"Nomor pelacakan {unknown_id()} tidak ditemukan."),
        (lambda t: change_one_symbol(t, 0), "tidak valid. Periksa kembali penulisannya."),
        (lambda t: change_one_symbol(t, 4), "tidak valid. Periksa kembali penulisannya."),
        (lambda t: change_one_symbol(t, 8), "tidak valid. Periksa kembali penulisannya."),
        (swap_neighbours, "tidak valid. Periksa kembali penulisannya."),
        (lambda t: t[:-1], "tidak valid. Periksa kembali penulisannya."),
        (lambda _: "LAPOR", "Nomor pelacakan LAPOR tidak valid."),
    ],
)
async def test_unknown_and_mistyped_ids_are_404_with_a_clear_message(
    gateway: Running, given: Callable[[str], str], message: str
) -> None:
    tracking_id = await file(gateway)
    asked = given(tracking_id)
    assert asked != tracking_id
    status, html = await page(gateway, f"/status/{asked}")
    assert status == 404 and message in html
    assert TEXT not in html
    status, text = await page(gateway, f"/status/{asked}", json_=True)
    body = json.loads(text)
    assert status == 404 and body["error"] == "not_found" and message in body["message"]


async def test_what_was_typed_is_escaped_on_the_page(gateway: Running) -> None:
    status, html = await page(gateway, "/status/%3Cscript%3Ealert(1)")
    assert status == 404
    assert "<script>" not in html and "&lt;script&gt;alert(1)" in html


@pytest.mark.parametrize(
    "typed",
    [
        lambda t: t.lower(),
        lambda t: f"{t[:4]}-{t[4:8]}-{t[8]}",
        lambda t: f"{t[:3]}-{t[3:6]}-{t[6:]}".lower(),
        lambda t: f"{t[:4]}%20{t[4:]}",
    ],
)
async def test_lower_case_and_grouped_ids_are_accepted(
    gateway: Running, typed: Callable[[str], str]
) -> None:
    tracking_id = await file(gateway)
    status, html = await page(gateway, f"/status/{typed(tracking_id)}")
    assert status == 200 and f'class="tracking">{tracking_id}<' in html
    status, text = await page(gateway, f"/status/{typed(tracking_id)}", json_=True)
    assert status == 200 and json.loads(text)["tracking_id"] == tracking_id


@pytest.mark.parametrize(
    ("accept", "json_expected"),
    [
        ("application/json", True),
        ("application/json, */*;q=0.5", True),
        ("text/html,application/xhtml+xml,application/json;q=0.9", False),
        ("*/*", False),
        (None, False),
    ],
)
async def test_json_only_for_clients_that_ask_for_it(
    gateway: Running, accept: str | None, json_expected: bool
) -> None:
    tracking_id = await file(gateway)
    headers = {"Accept": accept} if accept else {}
    async with gateway.http.get(f"/status/{tracking_id}", headers=headers) as response:
        assert response.status == 200
        assert response.content_type == ("application/json" if json_expected else "text/html")


async def test_the_lookup_form_redirects_to_the_canonical_page(gateway: Running) -> None:
    tracking_id = await file(gateway)
    grouped = f" {tracking_id[:4]}-{tracking_id[4:]} ".lower()
    async with gateway.http.get(
        "/status", params={"id": grouped}, allow_redirects=False
    ) as response:
        assert response.status == 303
        assert response.headers["Location"] == f"/status/{tracking_id}"
    async with gateway.http.get("/status", params={"id": grouped}) as response:
        assert response.status == 200
        assert response.url.path == f"/status/{tracking_id}"
        assert TEXT in await response.text()


@pytest.mark.parametrize("typed", ["a/../../lapor", "ab\r\nSet-Cookie: x=1", "//evil.example"])
async def test_the_lookup_form_keeps_junk_on_the_status_page(gateway: Running, typed: str) -> None:
    async with gateway.http.get("/status", params={"id": typed}, allow_redirects=False) as r:
        assert r.status == 303
        location = r.headers["Location"]
        assert "Set-Cookie" not in r.headers
    assert location.startswith("/status/") and "/" not in location.removeprefix("/status/")
    async with gateway.http.get(location) as response:
        assert response.status == 404
        assert "tidak valid" in await response.text()


async def test_the_lookup_form_without_an_id(gateway: Running) -> None:
    for path in ("/status", "/status?id=", "/status?id=%20"):
        status, html = await page(gateway, path)
        assert status == 200
        assert 'name="id"' in html and 'role="alert"' not in html
