"""The unified admin queue: who may read it, how it filters, sorts and pages; one complaint."""

from __future__ import annotations

import base64
import json
import random
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from normalizer.tracking import ALPHABET, generate_tracking_id
from tests.conftest import (
    ADMIN_AUTH,
    DESK_AUTH,
    Running,
    all_dispatched,
    file_complaint,
    update_case,
)
from tests.gateway.conftest import gateway_on
from tests.store.backends import BACKENDS


# The workflow on both stores: each step's version, timeline and counts as PostgreSQL keeps
# them too.
@pytest.fixture(params=BACKENDS)
async def gateway(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Running]:
    async with gateway_on(request.param, request, tmp_path) as running:
        yield running


WIB = ZoneInfo("Asia/Pontianak")
PHONE = "0812-3456-7890"
Json = dict[str, Any]


# -- filing complaints through the real channels --------------------------------------


async def file(running: Running, text: str, channel: str = "app", **fields: str | bool) -> str:
    """File a complaint on `channel` (web form, app API or desk API); its tracking ID."""
    return await file_complaint(running, channel, **{"text": text, "phone": PHONE, **fields})


async def get(running: Running, path: str, **params: str) -> tuple[int, Json]:
    async with running.http.get(path, params=params, headers=ADMIN_AUTH) as response:
        body: Json = await response.json()
        return response.status, body


async def queue(running: Running, **params: str) -> Json:
    status, body = await get(running, "/api/v1/complaints", **params)
    assert status == 200, body
    return body


async def queue_ids(running: Running, **params: str) -> list[str]:
    return [item["tracking_id"] for item in (await queue(running, **params))["items"]]


async def filtered(running: Running, ids: Mapping[str, str], **params: str) -> dict[str, Json]:
    """The queue filtered by `params`, each item under the key its complaint was filed under
    in `ids` (key → tracking ID)."""
    by_id = {tracking_id: key for key, tracking_id in ids.items()}
    return {by_id[item["tracking_id"]]: item for item in (await queue(running, **params))["items"]}


async def set_case(running: Running, tracking_id: str, state: str, closed: bool = False) -> None:
    """Put a case in a state directly; a closed case has no current deadline."""
    now = running.clock()
    closing = {"closed_at": now, "due_at": None} if closed else {}
    await update_case(running, tracking_id, state=state, updated_at=now, **closing)


def unknown_tracking_id(seed: int = 7) -> str:
    return generate_tracking_id(random.Random(seed))


def mistyped(tracking_id: str) -> str:
    """The ID with its first symbol replaced: the check symbol no longer fits."""
    other = ALPHABET[(ALPHABET.index(tracking_id[0]) + 1) % len(ALPHABET)]
    return other + tracking_id[1:]


def cursor_of(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


async def dispatch_now(running: Running) -> None:
    dispatcher = running.dispatcher()
    while await dispatcher.run_once():
        pass


# -- who may read the queue -------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/complaints", "/api/v1/complaints/{id}"])
@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, 401),
        ({"Authorization": "Bearer "}, 401),
        ({"Authorization": "Basic YW5pOmFkbWlu"}, 401),
        ({"Authorization": "Bearer not-a-known-token"}, 401),
        (DESK_AUTH, 403),
        (ADMIN_AUTH, 200),
    ],
)
async def test_only_admin_tokens_read_the_queue(
    gateway: Running, path: str, headers: Mapping[str, str], expected: int
) -> None:
    tracking_id = await file(gateway, "Lampu jalan mati di depan masjid sejak seminggu.")
    async with gateway.http.get(path.format(id=tracking_id), headers=headers) as response:
        body = await response.json()
        assert response.status == expected, body
        if expected == 401:
            assert "WWW-Authenticate" in response.headers
    if expected != 200:
        assert body["error"] in {"unauthorized", "forbidden"}
        assert "text" not in body and "items" not in body


# -- filters ----------------------------------------------------------------------------

# key: (channel, category, text, location)
FILED: dict[str, tuple[str, str, str, str]] = {
    "jalan": (
        "app",
        "jalan_jembatan",
        "Jalan berlubang besar di depan Pasar Baru, motor sering jatuh.",
        "Kecamatan Delta Pawan",
    ),
    "air": (
        "app",
        "air_bersih",
        "Air PDAM mati tiga hari, warga terpaksa membeli air galon.",
        "Kelurahan Sampit",
    ),
    "persen": (
        "walkin",
        "perhubungan",
        "Tarif parkir di pelabuhan naik 100% tanpa pemberitahuan resmi.",
        "Jl. Merdeka",
    ),
    "seribu": (
        "phone",
        "perhubungan",
        "Juru parkir memungut 1000 rupiah per jam di depan toko roti.",
        "Jl. Merdeka",
    ),
    "garis": (
        "web",
        "lingkungan",
        "Sampah menumpuk di gang no_7 sejak minggu lalu, baunya menyengat.",
        "Kecamatan Benua Kayong",
    ),
    "spasi": (
        "web",
        "lingkungan",
        "Sampah menumpuk di gang no 7 dan gang no 9, truk tidak datang.",
        "Kecamatan Benua Kayong",
    ),
}


async def file_all(running: Running) -> dict[str, str]:
    """File FILED an hour apart and wait for every case; key → tracking ID."""
    ids = {}
    for key, (channel, category, text, location) in FILED.items():
        ids[key] = await file(running, text, channel, category=category, location=location)
        running.clock.advance(hours=1)
    await all_dispatched(running)
    return ids


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, {"jalan", "air", "persen", "seribu", "garis", "spasi"}),
        ({"channel": "app"}, {"jalan", "air"}),
        ({"channel": "web"}, {"garis", "spasi"}),
        ({"channel": "walkin"}, {"persen"}),
        ({"channel": "phone"}, {"seribu"}),
        ({"channel": "sms"}, set()),
        ({"category": "perhubungan"}, {"persen", "seribu"}),
        ({"category": "air_bersih"}, {"air"}),
        ({"category": "kesehatan"}, set()),
        ({"agency": "PUPR"}, {"jalan"}),
        ({"agency": "PDAM"}, {"air"}),
        ({"agency": "DISHUB"}, {"persen", "seribu"}),
        ({"agency": "DINKES"}, set()),
        ({"state": "diterima"}, {"jalan", "air", "persen", "garis", "spasi"}),
        ({"state": "selesai"}, {"seribu"}),
        ({"state": "ditolak"}, set()),
        ({"q": "pasar baru"}, {"jalan"}),  # text, any case
        ({"q": "Sampit"}, {"air"}),  # location
        ({"q": "merdeka"}, {"persen", "seribu"}),
        ({"q": "100%"}, {"persen"}),  # unescaped, "100%" would also find "1000"
        ({"q": "no_7"}, {"garis"}),  # unescaped, "no_7" would also find "no 7"
        ({"q": "%"}, {"persen"}),
        ({"q": "_"}, {"garis"}),
        ({"q": "tidak ada di laporan mana pun"}, set()),
        ({"channel": "web", "q": "no 9"}, {"spasi"}),
        ({"category": "perhubungan", "state": "diterima"}, {"persen"}),
    ],
)
async def test_each_filter_narrows_the_queue(
    gateway: Running, params: dict[str, str], expected: set[str]
) -> None:
    ids = await file_all(gateway)
    await set_case(gateway, ids["seribu"], "selesai", closed=True)
    found = await filtered(gateway, ids, **params)
    assert set(found) == expected
    for key, item in found.items():
        channel, category, _, _ = FILED[key]
        assert item["channel"] == channel and item["category"] == category


async def test_a_tracking_id_finds_its_complaint(gateway: Running) -> None:
    ids = await file_all(gateway)
    air = ids["air"]
    for given in (air, air.lower(), f"  {air} ", f"{air[:4]}-{air[4:8]}-{air[8]}", " ".join(air)):
        assert await queue_ids(gateway, q=given) == [ids["air"]], given
    assert await queue_ids(gateway, q=unknown_tracking_id()) == []


async def test_an_anonymous_reporter_is_hidden_from_the_queue(gateway: Running) -> None:
    named = await file(gateway, "Puskesmas tutup pada jam layanan.", name="Siti Aminah")
    anonymous = await file(
        gateway,
        "Pungutan liar saat mengurus KTP di kantor kecamatan.",
        name="Rahmat Hidayat",
        phone="0813-9876-5432",
        email="Rahmat.H@example.id",
        anonymous=True,
    )
    async with gateway.http.get("/api/v1/complaints", headers=ADMIN_AUTH) as response:
        raw = await response.text()
    items = {item["tracking_id"]: item for item in json.loads(raw)["items"]}
    assert items[anonymous]["anonymous"] is True
    assert items[anonymous]["reporter"] is None
    assert items[named]["reporter"] == {
        "name": "Siti Aminah",
        "phone": "+6281234567890",
        "email": None,
    }
    for secret in ("Rahmat", "0813", "+6281398765432", "6281398765432", "rahmat.h@"):
        assert secret.lower() not in raw.lower()
    status, detail = await get(gateway, f"/api/v1/complaints/{anonymous}")
    assert status == 200 and detail["reporter"] is None
    assert "Rahmat" not in json.dumps(detail)


# -- time: overdue, local dates, urgency ---------------------------------------------------


async def file_over_time(running: Running) -> dict[str, str]:
    """Complaints on several local days; one closed and one not yet dispatched.

    The clock starts on Friday 14 Aug 2026, 10:00 WIB (UTC+7) and ends on Tuesday
    25 Aug, 08:00 WIB: past the completion deadline of everything received 14-15 Aug.
    """
    clock = running.clock
    assert clock() == datetime(2026, 8, 14, 10, 0, tzinfo=WIB)
    ids = {"pagi": await file(running, "Jembatan kayu di desa kami miring dan retak.")}
    clock.now = datetime(2026, 8, 14, 23, 30, tzinfo=WIB)  # 16:30 UTC, 14 Aug
    ids["malam"] = await file(running, "Lampu jalan padam di seluruh kompleks perumahan.")
    clock.now = datetime(2026, 8, 15, 3, 0, tzinfo=WIB)  # 20:00 UTC, still 14 Aug in UTC
    ids["dini_hari"] = await file(running, "Suara musik keras dari tempat hiburan malam.")
    clock.now = datetime(2026, 8, 24, 10, 0, tzinfo=WIB)
    ids["baru"] = await file(running, "Air PDAM keruh dan berbau sejak kemarin pagi.")
    await dispatch_now(running)
    await set_case(running, ids["malam"], "selesai", closed=True)
    clock.now = datetime(2026, 8, 25, 8, 0, tzinfo=WIB)
    ids["belum"] = await file(running, "Sampah tidak diangkut di Jalan Gajah Mada.")
    return ids


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"overdue": "true"}, {"pagi", "dini_hari"}),
        ({"overdue": "false"}, {"malam", "baru", "belum"}),
        ({"from": "2026-08-14", "to": "2026-08-14"}, {"pagi", "malam"}),
        ({"from": "2026-08-15", "to": "2026-08-15"}, {"dini_hari"}),
        ({"from": "2026-08-15"}, {"dini_hari", "baru", "belum"}),
        ({"to": "2026-08-14"}, {"pagi", "malam"}),
        ({"from": "2026-08-16", "to": "2026-08-23"}, set()),
        ({"from": "2026-08-25", "to": "2026-08-25"}, {"belum"}),
        ({"from": "2026-08-15", "overdue": "true"}, {"dini_hari"}),
    ],
)
async def test_overdue_and_local_date_filters(
    dispatch_off: Running, params: dict[str, str], expected: set[str]
) -> None:
    ids = await file_over_time(dispatch_off)
    assert set(await filtered(dispatch_off, ids, **params)) == expected


async def test_the_overdue_flag_and_the_urgent_order(dispatch_off: Running) -> None:
    ids = await file_over_time(dispatch_off)
    items = (await queue(dispatch_off))["items"]
    assert [i["tracking_id"] for i in items] == [
        ids[k] for k in ("belum", "baru", "dini_hari", "malam", "pagi")
    ]  # newest first by default
    cases = {i["tracking_id"]: i["case"] for i in items}
    assert cases[ids["belum"]] is None
    assert {k: cases[ids[k]]["overdue"] for k in ("pagi", "malam", "dini_hari", "baru")} == {
        "pagi": True,
        "malam": False,  # closed in time
        "dini_hari": True,
        "baru": False,
    }
    assert cases[ids["pagi"]]["completion_due"] == "2026-08-24"
    assert cases[ids["dini_hari"]]["completion_due"] == "2026-08-24"
    assert cases[ids["baru"]]["completion_due"] > "2026-08-24"
    # The earliest current deadline first (ties: filed first), closed cases last; a complaint
    # not yet opened as a case (a moment's state) is only among the newest.
    urgent = await queue_ids(dispatch_off, sort="urgent")
    assert urgent == [ids[k] for k in ("pagi", "dini_hari", "baru", "malam")]


# -- pagination ---------------------------------------------------------------------------


async def walk(running: Running, between: int = 0, **params: str) -> tuple[list[str], int]:
    """Follow next_cursor with limit=2; optionally file `between` complaints after each page.
    Returns the IDs visited and the number of pages."""
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = await queue(running, limit="2", **params, **({"cursor": cursor} if cursor else {}))
        pages += 1
        assert len(page["items"]) <= 2
        seen += [item["tracking_id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return seen, pages
        for n in range(between):
            running.clock.advance(minutes=1)
            await file(running, f"Laporan susulan {pages}.{n}: selokan tersumbat sampah.")
        if between:
            await all_dispatched(running)
        assert pages < 50, "the walk does not end"


async def file_seven(running: Running) -> list[str]:
    """Seven complaints; some received at the very same instant (ties broken by id)."""
    ids = []
    for n, advance in enumerate([0, 1, 0, 0, 2, 0, 3]):
        running.clock.advance(minutes=advance)
        ids.append(await file(running, f"Pohon tumbang menutup jalan desa nomor {n}."))
    await all_dispatched(running)
    return ids


@pytest.mark.parametrize("sort", ["newest", "urgent"])
async def test_walking_the_cursor_visits_each_complaint_once_in_order(
    gateway: Running, sort: str
) -> None:
    filed = await file_seven(gateway)
    whole = await queue_ids(gateway, sort=sort)
    assert sorted(whole) == sorted(filed)
    seen, pages = await walk(gateway, sort=sort)
    assert seen == whole
    assert pages == 4


async def test_pages_stay_stable_while_complaints_arrive(gateway: Running) -> None:
    filed = await file_seven(gateway)
    whole = await queue_ids(gateway)
    seen, _ = await walk(gateway, between=2)
    assert seen == whole  # the new ones are newer: they are on page one of a new walk
    assert gateway.count() == len(filed) + 6
    assert not set(await queue_ids(gateway, limit="6")) & set(filed)


async def test_urgent_pages_stay_stable_while_complaints_arrive(gateway: Running) -> None:
    filed = await file_seven(gateway)
    whole = await queue_ids(gateway, sort="urgent")
    seen, _ = await walk(gateway, between=1, sort="urgent")
    # Arrivals have later deadlines (or later receipt on the same day): after the others.
    assert seen[: len(filed)] == whole
    assert len(seen) == len(set(seen))
    assert set(seen[len(filed) :]) <= set(await queue_ids(gateway, sort="urgent")) - set(filed)


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "!!!!",
        "é",
        cursor_of([]),
        cursor_of({"s": "newest"}),
        cursor_of({"s": "newest", "k": [1, 2]}),
        cursor_of({"s": "newest", "k": ["2026-08-14T03:00:00.000000Z"]}),
        cursor_of({"s": "newest", "k": "ab"}),  # a string is not a key, though it has 2 items
        cursor_of({"s": "oldest", "k": ["a", "b"]}),
    ],
)
async def test_a_cursor_the_store_did_not_issue_is_400(gateway: Running, cursor: str) -> None:
    await file_seven(gateway)
    status, body = await get(gateway, "/api/v1/complaints", cursor=cursor)
    assert status == 400, body
    assert body["error"] == "invalid_cursor"


@pytest.mark.parametrize(("issued_for", "used_for"), [("newest", "urgent"), ("urgent", "newest")])
async def test_a_cursor_of_the_other_sort_order_is_400(
    gateway: Running, issued_for: str, used_for: str
) -> None:
    await file_seven(gateway)
    cursor = (await queue(gateway, sort=issued_for, limit="2"))["next_cursor"]
    assert cursor
    status, body = await get(gateway, "/api/v1/complaints", sort=used_for, cursor=cursor)
    assert status == 400 and body["error"] == "invalid_cursor"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"state": "nope"}, "state"),
        ({"channel": "twitter"}, "channel"),  # the value `x` replaced it
        ({"limit": "0"}, "limit"),
        ({"limit": "1000"}, "limit"),
        ({"limit": "dua"}, "limit"),
        ({"from": "not-a-date"}, "from"),
        ({"to": "2026-02-30"}, "to"),
        ({"overdue": "mungkin"}, "overdue"),
        ({"sort": "oldest"}, "sort"),
        ({"q": "x" * 201}, "q"),
        ({"from": "0001-01-01"}, "from"),  # no instant in UTC: once a 500
        ({"to": "9999-12-31"}, "to"),
        ({"colour": "red"}, "colour"),
        ({"from_": "2026-08-14"}, "from_"),  # the Python name is not a parameter
        ({"category": "jalan_tol"}, "category"),  # not a category of the profile
        ({"agency": "PUPR-X"}, "agency"),  # not an agency of the profile
    ],
)
async def test_invalid_parameters_are_422_naming_the_parameter(
    gateway: Running, params: dict[str, str], field: str
) -> None:
    status, body = await get(gateway, "/api/v1/complaints", **params)
    assert status == 422, body
    assert body["error"] == "validation_error"
    assert [problem["field"] for problem in body["fields"]] == [field]


# -- one complaint --------------------------------------------------------------------------


@pytest.mark.parametrize(("channel", "actor"), [("app", "app"), ("phone", "budi")])
async def test_one_complaint_with_its_timeline(gateway: Running, channel: str, actor: str) -> None:
    tracking_id = await file(
        gateway,
        "Jalan berlubang di depan SD Negeri 3, dua motor jatuh.",
        channel,
        location="Kecamatan Delta Pawan",
    )
    await all_dispatched(gateway)
    status, detail = await get(gateway, f"/api/v1/complaints/{tracking_id.lower()}")
    assert status == 200, detail
    assert detail["tracking_id"] == tracking_id
    assert detail["channel"] == channel
    assert detail["location"] == "Kecamatan Delta Pawan"
    assert detail["logged_by"] == (None if channel == "app" else "budi")
    assert detail["case"]["state"] == "diterima"
    assert detail["case"]["suggested_agency"] == "PUPR"
    timeline = [(e["kind"], e["state"], e["actor"]) for e in detail["timeline"]]
    assert timeline == [
        ("complaint.received", None, actor),
        ("case.opened", "diterima", "dispatcher"),
    ]
    assert detail["timeline"][0]["at"] == detail["received_at"]


async def test_an_undispatched_complaint_has_no_case_yet(dispatch_off: Running) -> None:
    tracking_id = await file(dispatch_off, "Pipa PDAM bocor di depan kantor lurah.")
    status, detail = await get(dispatch_off, f"/api/v1/complaints/{tracking_id}")
    assert status == 200
    assert detail["case"] is None
    assert [e["kind"] for e in detail["timeline"]] == ["complaint.received"]


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (lambda _: unknown_tracking_id(), "Laporan tidak ditemukan."),
        (mistyped, "Nomor pelacakan tidak valid."),
        (lambda t: t[:-1], "Nomor pelacakan tidak valid."),
        (lambda _: "bukan-nomor", "Nomor pelacakan tidak valid."),
    ],
)
async def test_an_unknown_or_mistyped_id_is_404(
    gateway: Running, given: Callable[[str], str], message: str
) -> None:
    tracking_id = await file(gateway, "Saluran irigasi sawah kami tersumbat lumpur.")
    status, body = await get(gateway, f"/api/v1/complaints/{given(tracking_id)}")
    assert status == 404, body
    assert body == {"error": "not_found", "message": message, "fields": []}
