"""`GET /api/v1/recap`: what came in over a period of local dates and how it was handled,
as JSON and as the CSV and XLSX downloads of one table."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from tests.conftest import ADMIN_AUTH, Running, all_dispatched, file_complaint, start_gateway
from tests.gateway.workflow_support import (
    OTHER_AGENCY,
    Staff,
    Team,
    case_of,
    must,
    sign_in,
    team,
    walk_to,
)

KETAPANG = ZoneInfo("Asia/Pontianak")
PERIOD = "from=2026-08-14&to=2026-08-15"
HEADER = [
    "bagian", "kode", "nama", "jumlah", "diverifikasi", "verifikasi_tepat_waktu", "dijawab",
    "jawaban_tepat_waktu", "median_hari_kerja_verifikasi", "median_hari_kerja_jawaban",
]  # fmt: skip


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of August 2026 in Ketapang, as the clock keeps it (UTC)."""
    return datetime(2026, 8, day, hour, minute, tzinfo=KETAPANG).astimezone(UTC)


@dataclass(frozen=True)
class Worked:
    """A gateway with complaints filed over three days and worked as in `worked`."""

    running: Running
    team: Team
    answered: str
    late: str


@pytest.fixture
async def worked(tmp_path: Path) -> AsyncIterator[Worked]:
    """Filed and worked, in Ketapang's local time:

    - Thu 13 Aug, app, health: verified to DINKES (before the period)
    - Fri 14 Aug 10:00, app, roads: answered by PUPR the same day
    - Fri 14 Aug 10:05, web, health: verified to DINKES the same day
    - Fri 14 Aug 23:30 (16:30 UTC), walk-in, water: waiting
    - Sat 15 Aug 00:30 (14 Aug UTC), phone, roads, aspirasi: verified to PUPR on Fri 21 Aug,
      after its verification deadline
    - Sun 16 Aug 00:10, app: waiting (after the period)
    """
    running = await start_gateway(tmp_path)
    try:
        yield await work(running)
    finally:
        await running.stop()


async def work(running: Running) -> Worked:
    t = await team(running)

    async def file(at: datetime, channel: str, **fields: Any) -> str:
        running.clock.now = at
        tracking_id = await file_complaint(running, channel, **fields)
        await all_dispatched(running)
        return tracking_id

    before = await file(
        local(13, 10), "app", text="Puskesmas Delta Pawan tutup saat jam kerja.",
        phone="081200000001", category="kesehatan",
    )  # fmt: skip
    await must(running, t.penghubung, before, "verifikasi", agency=OTHER_AGENCY)
    answered = await file(
        local(14, 10), "app", text="Jalan berlubang di Jl. Merdeka, motor sering jatuh.",
        phone="081200000002", category="jalan_jembatan",
    )  # fmt: skip
    await walk_to(running, t, answered, "dijawab")
    forwarded = await file(
        local(14, 10, 5), "web", text="Obat di Puskesmas Sukamaju kosong sejak sebulan.",
        phone="081200000003", category="kesehatan",
    )  # fmt: skip
    await must(running, t.penghubung, forwarded, "verifikasi", agency=OTHER_AGENCY)
    await file(
        local(14, 23, 30), "walkin", text="Air PDAM keruh dan berbau di Kelurahan Sampit.",
        phone="081200000004", category="air_bersih",
    )  # fmt: skip
    late = await file(
        local(15, 0, 30), "phone", text="Usul jalur sepeda di sepanjang Jl. Gajah Mada.",
        phone="081200000005", category="jalan_jembatan", classification="aspirasi",
    )  # fmt: skip
    await file(
        local(16, 0, 10), "app", text="Lampu jalan di depan SDN 3 Ketapang mati.",
        phone="081200000006", category="jalan_jembatan",
    )  # fmt: skip

    running.clock.now = local(21, 9)
    t = await signed_in_again(running, t)  # the tokens of 14 August have expired
    # The late one's verification deadline (3 working days; Mon 17 Aug is a holiday) passed.
    status, detail = await case_of(running, t.utama, late)
    assert status == 200, detail
    assert detail["case"]["verification_due"] == "2026-08-20" and detail["case"]["overdue"]
    await must(running, t.penghubung, late, "verifikasi", agency="PUPR")

    return Worked(running, t, answered, late)


async def signed_in_again(running: Running, t: Team) -> Team:
    async def again(staff: Staff) -> Staff:
        return Staff(staff.username, await sign_in(running, staff.username))

    return Team(*[await again(s) for s in (t.utama, t.penghubung, t.opd, t.pejabat)])


async def recap(running: Running, query: str, headers: dict[str, str]) -> tuple[int, Any]:
    async with running.http.get(f"/api/v1/recap?{query}", headers=headers) as response:
        return response.status, await response.json()


def counts(section: Iterable[dict[str, Any]]) -> dict[str, int]:
    return {c["key"]: c["count"] for c in section}


async def test_the_recap_counts_what_came_in_over_the_period(worked: Worked) -> None:
    """Totals are the complaints received on the period's local dates; every section adds
    up to the total; per agency, what was verified and answered, and in time."""
    status, body = await recap(worked.running, PERIOD, worked.team.utama.auth)
    assert status == 200, body
    assert body["regency"] == "Kabupaten Ketapang"
    assert (body["period_from"], body["period_to"]) == ("2026-08-14", "2026-08-15")
    assert body["total"] == 4
    for section in ("by_state", "by_channel", "by_category", "by_classification", "by_agency"):
        assert sum(counts(body[section]).values()) == body["total"], section
    assert counts(body["by_channel"]) == {"app": 1, "web": 1, "walkin": 1, "phone": 1}
    assert counts(body["by_state"]) == {"dijawab": 1, "diteruskan": 2, "diterima": 1}
    assert counts(body["by_category"]) == {"jalan_jembatan": 2, "kesehatan": 1, "air_bersih": 1}
    assert counts(body["by_classification"]) == {"pengaduan": 3, "aspirasi": 1}
    assert counts(body["by_agency"]) == {"PUPR": 2, OTHER_AGENCY: 1, "-": 1}

    agencies = {a["agency"]: a for a in body["agencies"]}
    numbers = ("received", "verified", "verified_on_time", "answered", "answered_on_time")
    assert {k: agencies["PUPR"][k] for k in numbers} == {
        "received": 2,
        "verified": 2,
        "verified_on_time": 1,  # the phone complaint was verified after its deadline
        "answered": 1,
        "answered_on_time": 1,
    }
    assert {k: agencies[OTHER_AGENCY][k] for k in numbers} == {
        "received": 1,  # the one of 13 August is not in the period
        "verified": 1,
        "verified_on_time": 1,
        "answered": 0,
        "answered_on_time": 0,
    }
    assert agencies["PUPR"]["median_working_days_to_answer"] == 0.0
    assert all(
        a["received"] == 0 for code, a in agencies.items() if code not in ("PUPR", OTHER_AGENCY)
    )
    assert body["verified_on_time_percent"] == 66.7
    assert body["answered_on_time_percent"] == 100.0
    assert agencies["PUPR"]["answered_on_time_percent"] == 100.0
    assert agencies[OTHER_AGENCY]["answered_on_time_percent"] is None
    assert body["on_time_target_percent"] == 90


async def test_the_recap_counts_each_week_by_channel_and_how_far_cases_got(
    worked: Worked,
) -> None:
    """Friday 14 and Saturday 15 August are one ISO week (from Monday 10 August); of the
    four, one was answered, two forwarded, one waits for verification."""
    _, body = await recap(worked.running, PERIOD, ADMIN_AUTH)
    [week] = body["by_week"]
    assert (week["week"], week["monday"], week["total"]) == ("2026-W33", "2026-08-10", 4)
    assert counts(week["by_channel"]) == counts(body["by_channel"])
    assert counts(body["funnel"]) == {
        "diterima": 4,
        "diteruskan": 3,
        "didisposisi": 1,
        "ditindaklanjuti": 1,
        "disetujui": 1,
        "dijawab": 1,
        "selesai": 0,
    }
    assert counts(body["closed_early"]) == {"ditolak": 0, "diarsipkan": 0}

    _, month = await recap(worked.running, "from=2026-08-01&to=2026-08-31", ADMIN_AUTH)
    assert [w["monday"] for w in month["by_week"]] == [
        "2026-07-27", "2026-08-03", "2026-08-10", "2026-08-17", "2026-08-24", "2026-08-31",
    ]  # fmt: skip
    assert [w["total"] for w in month["by_week"]] == [0, 0, 6, 0, 0, 0]


async def test_one_day_is_counted_by_its_local_date(worked: Worked) -> None:
    """A period of one local date counts what was received on it in Ketapang's time."""
    status, body = await recap(worked.running, "from=2026-08-15&to=2026-08-15", ADMIN_AUTH)
    assert status == 200, body
    assert body["total"] == 1 and counts(body["by_channel"]) == {"phone": 1}
    status, body = await recap(worked.running, "from=2026-08-01&to=2026-08-31", ADMIN_AUTH)
    assert body["total"] == 6


def normalised(rows: Iterable[Sequence[Any]]) -> list[list[str | float]]:
    """Cells compared as numbers where they are numbers, else as text; empty is '', and
    empty cells at the end of a row (a spreadsheet pads its rows) are left off."""

    def cell(value: Any) -> str | float:
        if value is None or value == "":
            return ""
        try:
            return float(value)
        except (TypeError, ValueError):
            return str(value)

    def trimmed(cells: list[str | float]) -> list[str | float]:
        while cells and cells[-1] == "":
            cells.pop()
        return cells

    return [trimmed([cell(v) for v in row]) for row in rows]


async def download(worked: Worked, format_: str) -> tuple[str, str, bytes]:
    """Content type, Content-Disposition and body of the period's recap in `format_`."""
    async with worked.running.http.get(
        f"/api/v1/recap?{PERIOD}&format={format_}", headers=worked.team.penghubung.auth
    ) as response:
        assert response.status == 200
        return (
            response.headers["Content-Type"],
            response.headers["Content-Disposition"],
            await response.read(),
        )


async def test_the_csv_and_xlsx_downloads_are_the_same_table(worked: Worked) -> None:
    """Both downloads are named after the regency and the period, hold the same rows, and
    their counts are the JSON's."""
    _, body = await recap(worked.running, PERIOD, ADMIN_AUTH)
    csv_type, csv_name, csv_bytes = await download(worked, "csv")
    xlsx_type, xlsx_name, xlsx_bytes = await download(worked, "xlsx")
    assert csv_type.startswith("text/csv")
    assert xlsx_type == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    for disposition, extension in ((csv_name, "csv"), (xlsx_name, "xlsx")):
        assert disposition.startswith("attachment;")
        assert "kabupaten-ketapang" in disposition
        assert "2026-08-14" in disposition and "2026-08-15" in disposition
        assert disposition.endswith(f'.{extension}"')

    csv_rows = list(csv.reader(io.StringIO(csv_bytes.decode("utf-8"))))
    sheet = load_workbook(io.BytesIO(xlsx_bytes), read_only=True).active
    assert sheet is not None
    xlsx_rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert csv_rows[0] == HEADER and [str(v) for v in xlsx_rows[0]] == HEADER
    assert normalised(xlsx_rows) == normalised(csv_rows)

    table: dict[str, dict[str, int]] = {}
    for row in csv_rows[1:]:
        if row[3]:
            table.setdefault(row[0], {})[row[1]] = int(row[3])
    assert table["total"] == {"": body["total"]}
    sections = {
        "status": "by_state",
        "kanal": "by_channel",
        "kategori": "by_category",
        "klasifikasi": "by_classification",
        "instansi": "by_agency",
    }
    for section, key in sections.items():
        assert table[section] == counts(body[key]), section
    performance = {
        row[1]: [int(v) for v in row[3:8]] for row in csv_rows if row[0] == "kinerja_instansi"
    }
    assert performance == {
        a["agency"]: [
            a["received"],
            a["verified"],
            a["verified_on_time"],
            a["answered"],
            a["answered_on_time"],
        ]
        for a in body["agencies"]
    }
    [percent] = [row for row in csv_rows if row[0] == "persen_tepat_waktu"]
    assert float(percent[5]) == body["verified_on_time_percent"]
    assert float(percent[7]) == body["answered_on_time_percent"]


async def test_only_the_regency_readers_get_the_recap(worked: Worked) -> None:
    """admin_instansi (account or env token) and admin_penghubung: 200; an agency's roles
    403."""
    t = worked.team
    for auth in (t.utama.auth, t.penghubung.auth, ADMIN_AUTH):
        assert (await recap(worked.running, PERIOD, auth))[0] == 200
    for auth in (t.opd.auth, t.pejabat.auth):
        status, body = await recap(worked.running, PERIOD, auth)
        assert status == 403 and body["error"] == "forbidden"
    assert (await recap(worked.running, PERIOD, {}))[0] == 401


async def test_a_period_ending_before_it_starts_is_422_naming_to(worked: Worked) -> None:
    """`to` before `from`: 422 naming `to`."""
    status, body = await recap(worked.running, "from=2026-08-15&to=2026-08-14", ADMIN_AUTH)
    assert status == 422, body
    assert [f["field"] for f in body["fields"]] == ["to"]
