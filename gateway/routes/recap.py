"""`GET /api/v1/recap`: the recap of a period as JSON, or as a CSV or XLSX download.

`recap_of` and `download` are also the console's (`/admin/recap`, `/admin/recap.csv`,
`/admin/recap.xlsx`): the page and the API read the same rows into the same recap, and
serve the same bytes for the same period."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, time, timedelta
from typing import Literal

from aiohttp import web
from openpyxl import Workbook
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from gateway.apidoc import operation
from gateway.auth import require_staff
from gateway.context import Gateway, gateway_of
from gateway.errors import validation_error
from gateway.params import LocalDate
from workflow.recap import Recap, make_recap
from workflow.roles import REGENCY_READERS

routes = web.RouteTableDef()
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_DAYS = 366 * 3

HEADER = (
    "bagian", "kode", "nama", "jumlah", "diverifikasi", "verifikasi_tepat_waktu", "dijawab",
    "jawaban_tepat_waktu", "median_hari_kerja_verifikasi", "median_hari_kerja_jawaban",
)  # fmt: skip
Cell = str | int | float | None


class RecapParams(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: LocalDate = Field(alias="from", description="first local date of receipt")
    to: LocalDate = Field(description="last local date of receipt (inclusive)")
    format: Literal["json", "csv", "xlsx"] = "json"

    @model_validator(mode="after")
    def _period(self) -> RecapParams:
        if self.to < self.from_:
            raise ValueError("to: must not be before from")
        if (self.to - self.from_).days > MAX_DAYS:
            raise ValueError(f"to: a period of at most {MAX_DAYS} days")
        return self


@routes.get("/api/v1/recap")
@operation(
    "The recap of a period (format=csv or xlsx: a download)",
    {200: (Recap, "The recap, or the same table as a download")},
    query=RecapParams,
    secured=True,
    files={200: ("text/csv", XLSX)},
    errors=(401, 403, 422),
)
async def recap(request: web.Request) -> web.Response:
    gw = gateway_of(request)
    await require_staff(request, REGENCY_READERS)
    try:
        params = RecapParams.model_validate(dict(request.query))
    except ValidationError as exc:
        raise validation_error(exc, "Periode rekap tidak valid.") from None
    result = await recap_of(gw, params.from_, params.to)
    if params.format == "json":
        return web.Response(text=result.model_dump_json(), content_type="application/json")
    return download(result, params.format)


async def recap_of(gw: Gateway, first: date, last: date) -> Recap:
    """The recap of the complaints received from `first` to `last`, local dates of the
    profile's time zone, both included."""
    zone = gw.profile.zone
    start = datetime.combine(first, time(), zone)
    end = datetime.combine(last + timedelta(days=1), time(), zone)
    tally = await gw.store.recap_tally(start, end, gw.profile.timezone)
    return make_recap(tally, gw.profile, first, last)


def download(result: Recap, kind: Literal["csv", "xlsx"]) -> web.Response:
    """The recap's table as a file to save, named after the regency and the period."""
    name = f"{file_stem(result)}.{kind}"
    disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
    if kind == "csv":
        return web.Response(
            text=to_csv(result), content_type="text/csv", charset="utf-8", headers=disposition
        )
    return web.Response(body=to_xlsx(result), content_type=XLSX, headers=disposition)


def file_stem(result: Recap) -> str:
    """`rekap-lapor-kabupaten-ketapang-2026-08-01-2026-08-31`."""
    regency = re.sub(r"[^a-z0-9]+", "-", result.regency.lower()).strip("-")
    return f"rekap-lapor-{regency}-{result.period_from}-{result.period_to}"


def table(result: Recap) -> list[tuple[Cell, ...]]:
    """The recap as one table: the counts of each section (each adds up to the total),
    then each agency's timeliness; the CSV and the XLSX are this table."""
    rows: list[tuple[Cell, ...]] = [("total", "", "Jumlah laporan", result.total)]
    sections = (
        ("status", result.by_state),
        ("kanal", result.by_channel),
        ("kategori", result.by_category),
        ("klasifikasi", result.by_classification),
        ("instansi", result.by_agency),
    )
    for section, counts in sections:
        rows += [(section, c.key, c.label, c.count) for c in counts]
    rows += [
        (
            "kinerja_instansi", a.agency, a.name, a.received, a.verified, a.verified_on_time,
            a.answered, a.answered_on_time, a.median_working_days_to_verify,
            a.median_working_days_to_answer,
        )
        for a in result.agencies
    ]  # fmt: skip
    rows.append(
        ("persen_tepat_waktu", "", "Verifikasi / jawaban tepat waktu (%)", None, None,
         result.verified_on_time_percent, None, result.answered_on_time_percent)
    )  # fmt: skip
    return rows


def to_csv(result: Recap) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    writer.writerows(table(result))
    return out.getvalue()


def to_xlsx(result: Recap) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Rekap"
    sheet.append(list(HEADER))
    for row in table(result):
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
