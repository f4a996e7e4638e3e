"""`/admin/recap`: the recap of a period as charts and the table of the downloads, for the
regency's readers (Admin Utama, Admin Penghubung).

The period is the API's (`?from=YYYY-MM-DD&to=YYYY-MM-DD`, local dates of receipt; the
current month so far when absent). The page, `/admin/recap.csv` and `/admin/recap.xlsx`
read the recap with the API's own `recap_of` and serve its `download`, so the page, the
files and `GET /api/v1/recap` always agree; only the way in differs (the console's session
cookie here, a bearer token there).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal
from urllib.parse import urlencode

from aiohttp import web
from markupsafe import Markup
from pydantic import TypeAdapter, ValidationError

from config.locale import long_date
from config.profile import Profile
from gateway.console import charts
from gateway.console.access import page, refused, signed_in
from gateway.console.charts import Bar, Column, Series
from gateway.context import Gateway, gateway_of
from gateway.params import LocalDate
from gateway.routes.recap import HEADER, MAX_DAYS, Cell, RecapParams, download, recap_of, table
from gateway.views import state_name
from normalizer.models import Channel
from workflow.recap import NONE, AgencyRecap, Count, Recap
from workflow.roles import REGENCY_READERS, Actor

routes = web.RouteTableDef()

MONTHS = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
          "September", "Oktober", "November", "Desember")  # fmt: skip
SHORT_MONTHS = ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov",
                "Des")  # fmt: skip
CHANNEL_COLOURS = {c.value: charts.PALETTE[i % len(charts.PALETTE)] for i, c in enumerate(Channel)}
"""One colour per channel, the same in every period."""

COLUMNS = {
    "bagian": "Bagian",
    "kode": "Kode",
    "nama": "Nama",
    "jumlah": "Jumlah",
    "diverifikasi": "Diverifikasi",
    "verifikasi_tepat_waktu": "Verifikasi tepat waktu",
    "dijawab": "Dijawab",
    "jawaban_tepat_waktu": "Jawaban tepat waktu",
    "median_hari_kerja_verifikasi": "Median hari kerja verifikasi",
    "median_hari_kerja_jawaban": "Median hari kerja jawaban",
}
"""The table's column headings in Indonesian, for the downloads' column names."""
NUMERIC = frozenset(HEADER[3:])
LOCAL_DATE: TypeAdapter[date] = TypeAdapter(LocalDate)


@dataclass(frozen=True)
class Chart:
    heading: str
    svg: Markup
    note: str = ""


@routes.get("/admin/recap")
async def recap_page(request: web.Request) -> web.Response:
    asked = await _asked(request)
    if isinstance(asked, web.Response):
        return asked
    gw, actor, today, (first, last) = asked
    result = await recap_of(gw, first, last)
    query = urlencode({"from": first.isoformat(), "to": last.isoformat()})
    return page(
        request,
        "recap.html",
        actor,
        _form(today, first.isoformat(), last.isoformat())
        | {
            "recap": result,
            "first": first,
            "last": last,
            "csv_url": f"/admin/recap.csv?{query}",
            "xlsx_url": f"/admin/recap.xlsx?{query}",
            "charts": _charts(gw, result),
            "weeks": _weeks(gw.profile, result),
            "headings": [COLUMNS[h] for h in HEADER],
            "rows": [_cells(row) for row in table(result)],
            "number": charts.number,
        },
    )


@routes.get("/admin/recap.csv")
async def recap_csv(request: web.Request) -> web.Response:
    return await _file(request, "csv")


@routes.get("/admin/recap.xlsx")
async def recap_xlsx(request: web.Request) -> web.Response:
    return await _file(request, "xlsx")


async def _file(request: web.Request, kind: Literal["csv", "xlsx"]) -> web.Response:
    """The download of the period: the very bytes `GET /api/v1/recap?format=…` serves."""
    asked = await _asked(request)
    if isinstance(asked, web.Response):
        return asked
    gw, _, _, (first, last) = asked
    return download(await recap_of(gw, first, last), kind)


async def _asked(
    request: web.Request,
) -> tuple[Gateway, Actor, date, tuple[date, date]] | web.Response:
    """Who asks, today's local date and the period asked for; or the page that refuses
    them: signed out, to sign in (303); not a regency reader, 403; a period that is not
    one, 422."""
    gw = gateway_of(request)
    actor = await signed_in(request)
    if actor.role not in REGENCY_READERS:
        role = gw.profile.message(f"role.{actor.role.value}")
        message = (
            "Halaman Rekap hanya untuk Admin Utama dan Admin Penghubung. "
            f"Akun Anda ({role}) tidak dapat membukanya."
        )
        return refused(request, actor, 403, "Rekap", message)
    today = gw.clock().astimezone(gw.profile.zone).date()
    period = _period(request.query, today)
    if isinstance(period, str):
        first, last = request.query.get("from", ""), request.query.get("to", "")
        context = _form(today, first, last) | {"error": period}
        return page(request, "recap.html", actor, context, status=422)
    return gw, actor, today, period


# -- the period ---------------------------------------------------------------------------


def _period(query: Mapping[str, str], today: date) -> tuple[date, date] | str:
    """The period asked for (an absent or empty date is the current month's: its first
    day, today), or what is wrong with it, in words for the page."""
    given = {
        "from": query.get("from") or today.replace(day=1).isoformat(),
        "to": query.get("to") or today.isoformat(),
    }
    try:
        params = RecapParams.model_validate(given)
    except ValidationError as exc:
        fields = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
        if fields:
            names = " dan ".join(n for f, n in (("from", "Dari"), ("to", "Sampai")) if f in fields)
            return (
                f"Tanggal {names} tidak valid. Tulis tanggal sebagai TTTT-BB-HH, "
                "misalnya 2026-08-01, antara tahun 2000 dan 2100."
            )
        # Both dates are valid (pydantic reads more than ISO dates: '1786060800' too).
        first, last = (
            LOCAL_DATE.validate_python(given["from"]),
            LOCAL_DATE.validate_python(given["to"]),
        )
        if last < first:
            return "Tanggal Sampai tidak boleh sebelum tanggal Dari."
        return f"Periode rekap paling panjang {MAX_DAYS} hari; pilih periode yang lebih pendek."
    return params.from_, params.to


def _form(today: date, first: str, last: str) -> dict[str, Any]:
    """What the period form and its quick links need."""
    this_month = today.replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)

    def link(start: date, end: date) -> dict[str, Any]:
        query = {"from": start.isoformat(), "to": end.isoformat()}
        return {
            "url": f"/admin/recap?{urlencode(query)}",
            "current": (first, last) == (query["from"], query["to"]),
        }

    return {
        "period_from": first,
        "period_to": last,
        "this_month": link(this_month, today)
        | {"label": f"Bulan ini ({_month(this_month)}, s.d. {today.day})"},
        "last_month": link(last_month, this_month - timedelta(days=1))
        | {"label": f"Bulan lalu ({_month(last_month)})"},
    }


# -- the charts ---------------------------------------------------------------------------


def _count_bars(counts: list[Count], unnamed: str, colour: str) -> list[Bar]:
    """A bar per count of a recap's section, the complaints without a value named `unnamed`."""
    return [
        Bar(c.label if c.key != NONE else unnamed, c.count, charts.number(c.count), colour, c.key)
        for c in counts
    ]


def _charts(gw: Gateway, result: Recap) -> list[Chart]:
    period = f"{long_date(result.period_from)} sampai {long_date(result.period_to)}"
    series = [
        Series(c.key, _channel(gw, c.key), CHANNEL_COLOURS.get(c.key, charts.PALETTE[-1]))
        for c in result.by_channel
    ]
    columns = [
        Column(
            label=_short(w.monday),
            title=f"Pekan {_week_span(w.monday)}",
            values={c.key: c.count for c in w.by_channel},
            key=w.week,
        )
        for w in result.by_week
    ]
    none = "Tidak ada laporan pada periode ini."
    weekly = charts.stacked_columns(
        "grafik-pekan",
        "Laporan per pekan menurut kanal",
        f"Jumlah laporan yang diterima setiap pekan (Senin–Minggu), {period}, menurut kanal; "
        "setiap kolom diberi label tanggal Seninnya.",
        columns,
        series,
        empty=none,
    )
    categories = charts.bars(
        "grafik-kategori",
        "Laporan menurut kategori",
        f"Jumlah laporan menurut kategori, {period}.",
        _count_bars(result.by_category, "Tanpa kategori", charts.PALETTE[0]),
        empty=none,
    )
    agencies = charts.bars(
        "grafik-instansi",
        "Laporan menurut instansi",
        f"Jumlah laporan menurut instansi yang menanganinya, {period}.",
        _count_bars(result.by_agency, "Belum diteruskan ke instansi", charts.PALETTE[3]),
        empty=none,
    )
    target = result.on_time_target_percent
    on_time = charts.bars(
        "grafik-tepat-waktu",
        "Persentase jawaban tepat waktu per instansi",
        f"Bagian laporan yang dijawab sebelum tenggatnya dari semua yang dijawab, per "
        f"instansi, {period}; target {target}%.",
        [_on_time(a, target) for a in result.agencies if a.answered_on_time_percent is not None],
        scale=100,
        target=target,
        target_label=f"Target {target}%",
        empty="Belum ada laporan yang dijawab pada periode ini.",
    )
    reached = result.funnel + result.closed_early
    funnel = charts.bars(
        "grafik-corong",
        "Tahapan yang dicapai laporan",
        f"Berapa laporan, {period}, yang sampai pada setiap tahapan prosedur, dan berapa yang "
        "ditutup tanpa jawaban.",
        [
            Bar(state_name(c.key), c.count, charts.number(c.count), charts.PALETTE[0], c.key)
            for c in result.funnel
            if any(r.count for r in reached)
        ]
        + [
            Bar(
                f"{state_name(c.key)} (ditutup tanpa jawaban)",
                c.count,
                charts.number(c.count),
                charts.CLOSED,
                c.key,
            )
            for c in result.closed_early
            if any(r.count for r in reached)
        ],
        scale=max(c.count for c in reached),
        empty=none,
    )
    return [
        Chart("Laporan per pekan menurut kanal", weekly),
        Chart("Menurut kategori", categories),
        Chart("Menurut instansi", agencies),
        Chart(
            "Jawaban tepat waktu per instansi",
            on_time,
            f"Garis putus-putus: target {target}% dari profil. Hijau: mencapai target; "
            "merah: di bawah target.",
        ),
        Chart(
            "Tahapan laporan",
            funnel,
            "Setiap laporan dihitung pada tahapan yang sudah dicapainya dan semua tahapan "
            "sebelumnya.",
        ),
    ]


def _on_time(agency: AgencyRecap, target: int) -> Bar:
    percent = agency.answered_on_time_percent or 0.0
    reached = percent >= target
    return Bar(
        agency.name,
        percent,
        f"{charts.number(percent)}% ({agency.answered_on_time}/{agency.answered})",
        charts.GOOD if reached else charts.BAD,
        agency.agency,
        "mencapai target" if reached else "di bawah target",
    )


def _weeks(profile: Profile, result: Recap) -> dict[str, Any]:
    """The weekly chart's numbers as a table (for readers who cannot see the chart)."""
    channels = [c.key for c in result.by_channel]
    return {
        "channels": [(c, profile.message(f"channel.{c}")) for c in channels],
        "rows": [
            (
                _week_span(w.monday),
                [next((c.count for c in w.by_channel if c.key == k), 0) for k in channels],
                w.total,
            )
            for w in result.by_week
        ],
    }


def _channel(gw: Gateway, key: str) -> str:
    return gw.profile.message(f"channel.{key}")


def _short(day: date) -> str:
    """'10 Agu'."""
    return f"{day.day} {SHORT_MONTHS[day.month - 1]}"


def _month(day: date) -> str:
    return f"{MONTHS[day.month - 1]} {day.year}"


def _week_span(monday: date) -> str:
    """'10–16 Agustus 2026', '27 Juli – 2 Agustus 2026', '28 Desember 2026 – 3 Januari 2027'."""
    sunday = monday + timedelta(days=6)
    if monday.month == sunday.month:
        return f"{monday.day}–{sunday.day} {_month(sunday)}"
    if monday.year == sunday.year:
        return f"{monday.day} {MONTHS[monday.month - 1]} – {sunday.day} {_month(sunday)}"
    return f"{monday.day} {_month(monday)} – {sunday.day} {_month(sunday)}"


def _cells(row: tuple[Cell, ...]) -> list[tuple[str, bool]]:
    """A row of the table as the page shows it: each cell's text and whether it is a
    number (numbers with a decimal comma; a section's name in words)."""
    cells: list[tuple[str, bool]] = []
    for name, value in zip(HEADER, row + (None,) * (len(HEADER) - len(row)), strict=True):
        if value is None:
            cells.append(("", name in NUMERIC))
        elif isinstance(value, int | float) and not isinstance(value, bool):
            cells.append((charts.number(value), True))
        elif name == "bagian":
            cells.append((str(value).replace("_", " ").capitalize(), False))
        else:
            cells.append((str(value), False))
    return cells
