"""`/admin/recap`: the recap of a period as charts and a table in the console, and its
downloads, agreeing with `GET /api/v1/recap` for the same period.

The complaints, in Ketapang's local time (WIB); "today" is Friday 14 August 2026:

- Fri 31 Jul, app: waiting (last month)
- Mon 3 Aug, app: answered by PUPR on Thu 13 Aug, after its deadline
- Tue 4 Aug, web: waiting
- Wed 5 Aug, walk-in: forwarded to PUPR
- Mon 10 Aug, phone: answered by PUPR the same day
- Tue 11 Aug, app: rejected
- Wed 12 Aug, web: disposed to PUPR's Pejabat
"""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import unescape
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from tests.conftest import Running, all_dispatched, file_complaint
from tests.gateway.console.support import Console, People, people
from tests.gateway.workflow_support import must, walk_to

WIB = ZoneInfo("Asia/Pontianak")
SVG = "{http://www.w3.org/2000/svg}"
THIS_MONTH = "from=2026-08-01&to=2026-08-14"
FUNNEL = {
    "diterima": 6,
    "diteruskan": 4,
    "didisposisi": 3,
    "ditindaklanjuti": 2,
    "disetujui": 2,
    "dijawab": 2,
    "selesai": 0,
}


def wib(month: int, day: int, hour: int = 9) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=WIB).astimezone(UTC)


@dataclass(frozen=True)
class Scene:
    """A running gateway and the four roles signed in to its console."""

    running: Running
    people: People

    @property
    def utama(self) -> Console:
        return self.people.utama

    @property
    def auth(self) -> dict[str, str]:
        return self.people.team.utama.auth


@pytest.fixture
async def filed(gateway: Running, staff: People) -> Scene:
    """The complaints of August (and one of July) filed and worked."""
    await file_august(gateway, staff)
    return Scene(gateway, staff)


@pytest.fixture
def empty(gateway: Running, staff: People) -> Scene:
    """No complaints at all."""
    return Scene(gateway, staff)


async def file_august(gateway: Running, staff: People) -> None:
    """The complaints of the module's docstring, filed and worked at their times."""
    today = gateway.clock.now
    n = 0

    async def file(at: datetime, channel: str, category: str) -> str:
        nonlocal n
        n += 1
        gateway.clock.now = at
        tracking_id = await file_complaint(
            gateway,
            channel,
            text=f"Laporan nomor {n}: jalan rusak dan air keruh di Kelurahan Sampit.",
            phone=f"08120000{n:04d}",
            category=category,
        )
        await all_dispatched(gateway)
        return tracking_id

    t = staff.team
    await file(wib(7, 31), "app", "jalan_jembatan")
    late = await file(wib(8, 3), "app", "jalan_jembatan")
    await file(wib(8, 4, 10), "web", "kesehatan")
    walkin = await file(wib(8, 5, 11), "walkin", "air_bersih")
    await must(gateway, t.penghubung, walkin, "verifikasi", agency="PUPR")
    phone = await file(wib(8, 10, 8), "phone", "jalan_jembatan")
    await walk_to(gateway, t, phone, "dijawab")
    rejected = await file(wib(8, 11), "app", "jalan_jembatan")
    await must(gateway, t.penghubung, rejected, "tolak", reason="tidak_layak")
    disposed = await file(wib(8, 12, 14), "web", "jalan_jembatan")
    await walk_to(gateway, t, disposed, "didisposisi")
    gateway.clock.now = wib(8, 13)
    await walk_to(gateway, t, late, "dijawab")
    gateway.clock.now = today


# -- reading what the browser gets ------------------------------------------------------


async def api(running: Running, query: str, auth: dict[str, str]) -> dict[str, Any]:
    async with running.http.get(f"/api/v1/recap?{query}", headers=auth) as response:
        body: dict[str, Any] = await response.json()
        assert response.status == 200, body
        return body


async def fetch(
    http: Any, path: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    async with http.get(path, headers=headers or {}, allow_redirects=False) as response:
        return response.status, dict(response.headers), await response.read()


def charts(html: str) -> dict[str, ET.Element]:
    """Every chart of the page by its id, parsed as the XML an SVG is."""
    found = {}
    for markup in re.findall(r"(?s)<svg\b.*?</svg>", html):
        svg = ET.fromstring(markup)
        found[svg.attrib["id"]] = svg
    return found


def bars(svg: ET.Element) -> list[ET.Element]:
    return [r for r in svg.iter(f"{SVG}rect") if "data-value" in r.attrib]


def values(svg: ET.Element) -> list[float]:
    return [float(r.attrib["data-value"]) for r in bars(svg)]


class Tables(HTMLParser):
    """The text of each table's cells, row by row, by the table's id."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.current: list[list[str]] | None = None
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.current = self.tables.setdefault(dict(attrs).get("id") or "", [])
        elif tag == "tr" and self.current is not None:
            self.current.append([])
        elif tag in ("td", "th") and self.current is not None:
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self.current is not None and self.cell is not None:
            self.current[-1].append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "table":
            self.current = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def table(html: str, ident: str = "tabel-rekap") -> list[list[str]]:
    parser = Tables()
    parser.feed(html)
    return parser.tables[ident]


def cell(text: str) -> str | float:
    """A cell as the CSV has it: numbers as numbers (the page writes '1.234' and '66,7'),
    a section's name as its key ('Kinerja instansi' → 'kinerja_instansi')."""
    if re.fullmatch(r"[0-9.]+(,[0-9]+)?", text):
        return float(text.replace(".", "").replace(",", "."))
    return text


def from_csv(text: str) -> str | float:
    try:
        return float(text)
    except ValueError:
        return text


def normalised(
    rows: Iterable[Sequence[Any]], read: Callable[[str], str | float]
) -> list[list[str | float]]:
    """Cells as numbers where they are numbers (`read` from text), else text; empty cells
    at the end of a row (a spreadsheet pads its rows) left off."""
    out = []
    for row in rows:
        cells: list[str | float] = []
        for value in row:
            if value is None or value == "":
                cells.append("")
            else:
                cells.append(read(str(value)))
        while cells and cells[-1] == "":
            cells.pop()
        out.append(cells)
    return out


def counts(section: Iterable[dict[str, Any]]) -> dict[str, int]:
    return {c["key"]: c["count"] for c in section}


# -- the page ---------------------------------------------------------------------------


async def test_the_table_is_the_apis_recap_of_this_month(filed: Scene) -> None:
    """Without a period the page shows this month so far; its table holds the numbers of
    the API's JSON for that period, row for row the CSV's."""
    page = await filed.utama.get("/admin/recap")
    assert page.status == 200, page.html
    assert 'name="from" value="2026-08-01"' in page.html
    assert 'name="to" value="2026-08-14"' in page.html
    assert "Sabtu, 1 Agustus 2026" in page.text() and "Jumat, 14 Agustus 2026" in page.text()
    body = await api(filed.running, THIS_MONTH, filed.auth)
    assert body["total"] == 6  # 31 July is last month's
    assert counts(body["by_channel"]) == {"app": 2, "web": 2, "walkin": 1, "phone": 1}

    rows = table(page.html)
    assert rows[0] == [
        "Bagian", "Kode", "Nama", "Jumlah", "Diverifikasi", "Verifikasi tepat waktu",
        "Dijawab", "Jawaban tepat waktu", "Median hari kerja verifikasi",
        "Median hari kerja jawaban",
    ]  # fmt: skip
    shown = [[cell(c) for c in row] for row in rows[1:]]
    found: dict[str, dict[str, float]] = {}
    for row in shown:
        if row[3] != "":
            found.setdefault(str(row[0]), {})[str(row[1])] = float(row[3])
    assert found["Total"] == {"": body["total"]}
    sections = {
        "Status": "by_state",
        "Kanal": "by_channel",
        "Kategori": "by_category",
        "Klasifikasi": "by_classification",
        "Instansi": "by_agency",
    }
    for section, key in sections.items():
        assert found[section] == counts(body[key]), section
    performance = {row[1]: row[3:8] for row in shown if row[0] == "Kinerja instansi"}
    fields = ("received", "verified", "verified_on_time", "answered", "answered_on_time")
    assert performance == {a["agency"]: [a[f] for f in fields] for a in body["agencies"]}
    assert performance["PUPR"] == [4, 4, 3, 2, 1]  # the one of 3 August: late twice

    status, _, csv_bytes = await fetch(
        filed.running.http, f"/api/v1/recap?{THIS_MONTH}&format=csv", filed.auth
    )
    assert status == 200
    csv_rows = list(csv.reader(io.StringIO(csv_bytes.decode("utf-8"))))[1:]
    humane = [[str(c).replace("_", " ").capitalize() if i == 0 else c for i, c in enumerate(r)]
              for r in csv_rows]  # fmt: skip
    assert normalised(rows[1:], cell) == normalised(humane, from_csv)


async def test_the_charts_draw_the_apis_numbers(filed: Scene) -> None:
    """One bar per value that is not 0, each the JSON's value; the weekly columns add up to
    the total; the on-time chart has the profile's target line; the funnel counts how far
    the complaints got."""
    page = await filed.utama.get(f"/admin/recap?{THIS_MONTH}")
    assert page.status == 200, page.html
    body = await api(filed.running, THIS_MONTH, filed.auth)
    drawn = charts(page.html)
    assert set(drawn) == {
        "grafik-pekan", "grafik-kategori", "grafik-instansi", "grafik-tepat-waktu",
        "grafik-corong",
    }  # fmt: skip
    for ident, svg in drawn.items():
        assert svg.attrib["role"] == "img", ident
        assert svg.attrib["width"] == "100%" and svg.attrib["viewBox"].startswith("0 0 400 ")
        assert svg.attrib["aria-labelledby"] == f"{ident}-title {ident}-desc"
        title, desc = svg.find(f"{SVG}title"), svg.find(f"{SVG}desc")
        assert title is not None and title.text and title.attrib["id"] == f"{ident}-title"
        assert desc is not None and desc.text and desc.attrib["id"] == f"{ident}-desc"
        assert not [e for e in svg.iter() if "style" in e.attrib], ident
    assert not re.search(r"<style|<script(?![^>]*\bsrc=)|\sstyle=", page.html)

    weekly = drawn["grafik-pekan"]
    weeks = body["by_week"]
    assert [w["monday"] for w in weeks] == ["2026-07-27", "2026-08-03", "2026-08-10"]
    assert [w["total"] for w in weeks] == [0, 3, 3]
    assert len(bars(weekly)) == sum(len(w["by_channel"]) for w in weeks) == 6
    assert sum(values(weekly)) == body["total"] == 6
    columns = {g.attrib["data-key"]: g for g in weekly.iter(f"{SVG}g") if "data-total" in g.attrib}
    assert {k: int(g.attrib["data-total"]) for k, g in columns.items()} == {
        w["week"]: w["total"] for w in weeks
    }
    for week in weeks:
        segments = {
            r.attrib["data-series"]: int(r.attrib["data-value"])
            for r in columns[week["week"]].iter(f"{SVG}rect")
        }
        assert segments == counts(week["by_channel"]), week["week"]
    labels = [t.text for t in weekly.iter(f"{SVG}text")]
    assert {"27 Jul", "3 Agu", "10 Agu"} <= set(labels)
    assert {"Aplikasi", "Formulir web", "Datang langsung", "Telepon"} <= set(labels)

    for ident, key in (("grafik-kategori", "by_category"), ("grafik-instansi", "by_agency")):
        assert values(drawn[ident]) == [c["count"] for c in body[key]], ident
    assert "Belum diteruskan ke instansi" in {t.text for t in drawn["grafik-instansi"].iter()}

    on_time = drawn["grafik-tepat-waktu"]
    answered = [a for a in body["agencies"] if a["answered"]]
    assert [a["agency"] for a in answered] == ["PUPR"]
    assert answered[0]["answered_on_time_percent"] == 50.0
    assert values(on_time) == [50.0]
    [target] = [g for g in on_time.iter(f"{SVG}g") if "data-target" in g.attrib]
    assert target.attrib["data-target"] == "90" == str(body["on_time_target_percent"])
    assert target.find(f"{SVG}line") is not None
    assert "Target 90%" in [t.text for t in target.iter(f"{SVG}text")]
    [bar] = bars(on_time)
    assert bar.attrib["fill"] == "#b00020"  # below the target

    funnel = drawn["grafik-corong"]
    assert counts(body["funnel"]) == FUNNEL
    assert counts(body["closed_early"]) == {"ditolak": 1, "diarsipkan": 0}
    assert values(funnel) == [n for n in FUNNEL.values() if n] + [1]
    assert [r.attrib.get("fill") for r in bars(funnel)][-1] == "#6b6b6b"


async def test_the_downloads_are_the_apis_bytes(filed: Scene) -> None:
    """*Unduh CSV* gives the API's CSV byte for byte; *Unduh XLSX* opens with openpyxl and
    adds up to the API's numbers, under the same file name."""
    page = await filed.utama.get(f"/admin/recap?{THIS_MONTH}")
    links = dict(
        (unescape(text), unescape(href))
        for href, text in re.findall(r'<a class="download" href="([^"]+)" download>([^<]+)</a>',
                                     page.html)
    )  # fmt: skip
    assert links == {
        "Unduh CSV": f"/admin/recap.csv?{THIS_MONTH}",
        "Unduh XLSX": f"/admin/recap.xlsx?{THIS_MONTH}",
    }
    http, api_http = filed.utama.http, filed.running.http
    status, headers, console_csv = await fetch(http, links["Unduh CSV"])
    assert status == 200
    _, api_headers, api_csv = await fetch(
        api_http, f"/api/v1/recap?{THIS_MONTH}&format=csv", filed.auth
    )
    assert console_csv == api_csv and b"kinerja_instansi,PUPR" in console_csv
    assert headers["Content-Disposition"] == api_headers["Content-Disposition"]
    assert headers["Content-Disposition"].endswith('2026-08-01-2026-08-14.csv"')

    status, headers, console_xlsx = await fetch(http, links["Unduh XLSX"])
    assert status == 200
    assert headers["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    _, _, api_xlsx = await fetch(api_http, f"/api/v1/recap?{THIS_MONTH}&format=xlsx", filed.auth)
    sheets = []
    for data in (console_xlsx, api_xlsx):
        sheet = load_workbook(io.BytesIO(data), read_only=True).active
        assert sheet is not None
        sheets.append([list(row) for row in sheet.iter_rows(values_only=True)])
    assert sheets[0] == sheets[1]
    body = await api(filed.running, THIS_MONTH, filed.auth)
    sums: dict[str, int] = {}
    for row in sheets[0][1:]:
        if isinstance(row[3], int):
            sums[str(row[0])] = sums.get(str(row[0]), 0) + row[3]
    for section in ("total", "status", "kanal", "kategori", "klasifikasi", "instansi"):
        assert sums[section] == body["total"], section
    assert sums["kinerja_instansi"] == sum(a["received"] for a in body["agencies"])


async def test_last_month_is_one_click_away(filed: Scene) -> None:
    """The quick links: this month so far (the page without a period), last month."""
    page = await filed.utama.get("/admin/recap")
    current = re.search(r'<a href="([^"]+)" aria-current="page">([^<]+)</a>', page.html)
    assert current is not None
    assert unescape(current.group(1)) == f"/admin/recap?{THIS_MONTH}"
    assert current.group(2) == "Bulan ini (Agustus 2026, s.d. 14)"
    last = re.search(r'<a href="([^"]+)">Bulan lalu \(Juli 2026\)</a>', page.html)
    assert last is not None
    assert unescape(last.group(1)) == "/admin/recap?from=2026-07-01&to=2026-07-31"
    july = await filed.utama.get(unescape(last.group(1)))
    assert july.status == 200
    assert 'aria-current="page">Bulan lalu (Juli 2026)' in july.html
    weekly = charts(july.html)["grafik-pekan"]
    assert sum(values(weekly)) == 1 and len(bars(weekly)) == 1


async def test_a_period_without_complaints_still_renders(empty: Scene) -> None:
    page = await empty.utama.get("/admin/recap?from=2025-01-01&to=2025-01-31")
    assert page.status == 200, page.html
    drawn = charts(page.html)
    assert len(drawn) == 5
    assert all(bars(svg) == [] for svg in drawn.values())
    assert "Tidak ada laporan pada periode ini." in page.text()
    weekly = drawn["grafik-pekan"]
    totals = [g.attrib["data-total"] for g in weekly.iter(f"{SVG}g") if "data-total" in g.attrib]
    assert totals == ["0"] * 5  # the ISO weeks of 30 Dec 2024 to 27 Jan 2025
    assert table(page.html)[1][:4] == ["Total", "", "Jumlah laporan", "0"]
    assert "Unduh CSV" in page.text() and "Unduh XLSX" in page.text()


# -- who, and a period that is not one --------------------------------------------------


async def test_only_the_regency_readers_see_the_recap(empty: Scene) -> None:
    """Admin Utama and Admin Penghubung: the page; the agency's roles: 403 in words, for the
    page and the downloads alike."""
    assert (await empty.people.penghubung.get(f"/admin/recap?{THIS_MONTH}")).status == 200
    for console in (empty.people.opd, empty.people.pejabat):
        page = await console.get(f"/admin/recap?{THIS_MONTH}")
        assert page.status == 403
        assert "hanya untuk Admin Utama dan Admin Penghubung" in page.text()
        assert "<svg" not in page.html and "tabel-rekap" not in page.html
        for path in ("/admin/recap.csv", "/admin/recap.xlsx"):
            status, headers, data = await fetch(console.http, f"{path}?{THIS_MONTH}")
            assert status == 403 and headers["Content-Type"].startswith("text/html"), path
            assert b"kinerja_instansi" not in data


async def test_a_signed_out_visitor_is_sent_to_sign_in(empty: Scene) -> None:
    visitor = Console(empty.running)
    try:
        for path in ("/admin/recap", "/admin/recap.csv", "/admin/recap.xlsx"):
            page = await visitor.get(f"{path}?{THIS_MONTH}", follow=False)
            assert page.status == 303 and page.location is not None, path
            where = urlsplit(page.location)
            assert where.path == "/admin/login"
            assert parse_qs(where.query)["next"] == [f"{path}?{THIS_MONTH}"]
        # Signed in there, the visitor lands on the recap asked for.
        await visitor.sign_in(empty.people.team.utama.username)
        landed = await visitor.get(f"/admin/recap?{THIS_MONTH}")
        assert landed.status == 200 and "grafik-pekan" in landed.html
    finally:
        await visitor.close()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        pytest.param(
            "from=2026-08-14&to=2026-08-01",
            "Tanggal Sampai tidak boleh sebelum tanggal Dari.",
            id="to-before-from",
        ),
        pytest.param(
            "from=2026-02-30&to=2026-03-01", "Tanggal Dari tidak valid.", id="no-such-day"
        ),
        pytest.param("from=kemarin&to=besok", "Tanggal Dari dan Sampai tidak valid.", id="words"),
        pytest.param(
            "from=2026-09-01T00:00:00&to=2026-08-01",
            "Tanggal Sampai tidak boleh sebelum tanggal Dari.",
            id="a-time-of-day",
        ),
        pytest.param("from=1999-12-31&to=2026-08-01", "Tanggal Dari tidak valid.", id="too-early"),
        pytest.param(
            "from=2020-01-01&to=2026-08-01", "Periode rekap paling panjang 1098 hari", id="too-long"
        ),
    ],
)
async def test_a_bad_period_is_422_beside_the_form(empty: Scene, query: str, message: str) -> None:
    """The page again with the dates as typed and what is wrong beside the form; no chart,
    no table; a download of such a period is refused alike."""
    page = await empty.utama.get(f"/admin/recap?{query}")
    assert page.status == 422, page.html
    error = re.search(r'(?s)<form method="get" action="/admin/recap".*?</form>', page.html)
    assert error is not None and message in unescape(error.group(0))
    assert 'aria-describedby="period-error"' in error.group(0)
    assert "<svg" not in page.html and "tabel-rekap" not in page.html
    given = dict(part.split("=") for part in query.split("&"))
    assert f'name="from" value="{given["from"]}"' in page.html
    status, _, data = await fetch(empty.utama.http, f"/admin/recap.csv?{query}")
    assert status == 422 and message.encode() in data


async def test_the_recap_is_read_in_the_profiles_time_zone(gateway: Running) -> None:
    """Late on the last day of a month in Ketapang is already the next day in UTC: the
    default period is still the local month, and the complaint is in it."""
    gateway.clock.now = datetime(2026, 8, 31, 23, 30, tzinfo=WIB).astimezone(UTC)
    signed = await people(gateway)
    try:
        await file_complaint(gateway, "app", text="Lampu jalan di Jl. Merdeka mati.",
                             phone="081211112222")  # fmt: skip
        await all_dispatched(gateway)
        page = await signed.utama.get("/admin/recap")
        assert 'name="to" value="2026-08-31"' in page.html
        assert 'name="from" value="2026-08-01"' in page.html
        weekly = charts(page.html)["grafik-pekan"]
        assert sum(values(weekly)) == 1
    finally:
        await signed.close()
