"""The citizen's path end to end: web form → receipt → admin queue → a `diterima` case."""

from __future__ import annotations

import hashlib
import re
from datetime import date
from pathlib import Path

import pytest
from aiohttp import FormData

from tests.conftest import (
    ADMIN_AUTH,
    Running,
    eventually,
    form_data,
    start_gateway,
    tiny_png,
    tracking_id_on,
)

COMPLAINT = (
    "Jalan di depan SD Negeri 3 berlubang besar sejak hujan deras hari Senin, "
    "sudah dua motor jatuh. Mohon segera diperbaiki."
)


def form(token: str, **fields: str) -> FormData:
    """The citizen's form, its CSRF token first as the page's hidden input comes first."""
    return form_data(
        {
            "csrf_token": token,
            "text": COMPLAINT,
            "name": "Siti Aminah",
            "phone": "0812-3456-7890",
            "location": "Jl. Merdeka, Kecamatan Delta Pawan",
            "incident_date": "2026-08-10",
            **fields,
        }
    )


async def test_form_page_shows_guidance_and_is_protected(gateway: Running) -> None:
    async with gateway.http.get("/lapor") as response:
        html = await response.text()
        assert response.status == 200
        assert "lapor_csrf" in response.cookies
    for words in (
        "secara jelas, lengkap dan kronologis",
        "waktu dan tempat kejadian",
        "bukti pendukung",
        "Anonim",
        "Rahasia",
        "Kecamatan Delta Pawan",
    ):
        assert words in html


@pytest.mark.parametrize(
    ("profile", "verification_due", "completion_due"),
    [
        # Received Friday 14 Aug; Mon 17 Aug is Independence Day.
        ("ketapang", date(2026, 8, 20), date(2026, 8, 24)),  # 5 working days
        ("soppeng", date(2026, 8, 20), date(2026, 8, 20)),  # 3 working days
    ],
)
async def test_form_to_receipt_to_queue_to_case(
    tmp_path: Path, profile: str, verification_due: date, completion_due: date
) -> None:
    running = await start_gateway(tmp_path, profile=profile)
    try:
        token = await running.form_token()
        data = form(token, category="jalan_jembatan")
        data.add_field("attachments", tiny_png(), filename="lubang.png", content_type="image/png")
        async with running.http.post("/lapor", data=data) as response:
            html = await response.text()
            assert response.status == 201, html
        tracking_id = tracking_id_on(html)
        assert f"/status/{tracking_id}" in html
        assert "Kamis, 20 Agustus 2026" in html  # the verification deadline promised

        async def queue() -> list[dict[str, object]]:
            async with running.http.get("/api/v1/complaints", headers=ADMIN_AUTH) as r:
                assert r.status == 200
                items: list[dict[str, object]] = (await r.json())["items"]
                return items

        items = await eventually(queue, lambda items: bool(items and items[0]["case"]), 2.0)
        [item] = items
        assert item["tracking_id"] == tracking_id
        assert item["channel"] == "web"
        assert item["reporter"] == {"name": "Siti Aminah", "phone": "+6281234567890", "email": None}
        case = item["case"]
        assert isinstance(case, dict)
        assert case["state"] == "diterima"
        assert case["verification_due"] == verification_due.isoformat()
        assert case["completion_due"] == completion_due.isoformat()
        assert case["suggested_agency"] == "PUPR"
        attachments = item["attachments"]
        assert isinstance(attachments, list)
        [attachment] = attachments
        png = tiny_png()
        assert attachment["sha256"] == hashlib.sha256(png).hexdigest()
        assert attachment["content_type"] == "image/png" and attachment["size"] == len(png)
        stored = running.gateway.blobs.path_for(attachment["sha256"])
        assert stored.read_bytes() == png
    finally:
        await running.stop()


async def test_category_is_suggested_from_the_text_when_not_chosen(gateway: Running) -> None:
    token = await gateway.form_token()
    text = "Air PDAM mati sudah tiga hari di Kelurahan Sampit, warga kesulitan air bersih."
    async with gateway.http.post("/lapor", data=form(token, text=text)) as response:
        assert response.status == 201
        tracking_id = tracking_id_on(await response.text())
    complaint = await gateway.store.get_complaint(tracking_id)
    assert complaint is not None and complaint.category == "air_bersih"


async def test_sending_the_same_form_twice_files_one_complaint(gateway: Running) -> None:
    token = await gateway.form_token()
    ids = []
    for _ in range(2):  # a double click, or a reload that re-posts
        async with gateway.http.post("/lapor", data=form(token)) as response:
            assert response.status in (200, 201)
            ids.append(tracking_id_on(await response.text()))
    assert ids[0] == ids[1]
    assert gateway.count() == 1


async def test_an_edited_resubmission_is_refused_with_a_fresh_form(gateway: Running) -> None:
    token = await gateway.form_token()
    async with gateway.http.post("/lapor", data=form(token)) as response:
        assert response.status == 201
    async with gateway.http.post("/lapor", data=form(token, text=COMPLAINT + " Tambahan.")) as r:
        html = await r.text()
        assert r.status == 409
    assert "sudah pernah dikirim" in html
    assert gateway.count() == 1
    fresh = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert fresh and fresh.group(1) != token
    async with gateway.http.post(
        "/lapor", data=form(fresh.group(1), text=COMPLAINT + " Lagi.")
    ) as r:
        assert r.status == 201
    assert gateway.count() == 2
