"""The printable nota dinas of the console (`/admin/cases/{id}/nota` and `…/nota.pdf`): the
letterhead, number, date, perihal and text; the signer and SHA-256 once approved; KONSEP
until then; the same facts in the PDF; and only for those who may read the case."""

from __future__ import annotations

import hashlib
import io
import random
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from yarl import URL

from gateway.case_detail import AdminComplaintDetail
from gateway.console import nota_pdf
from gateway.console.nota import document
from normalizer.casework import nota_text
from normalizer.tracking import generate_tracking_id
from tests.conftest import DESK_AUTH, Running, file_complaint
from tests.gateway.console.support import Console, Page, People
from tests.gateway.workflow_support import (
    OTHER_AGENCY,
    add_staff,
    case_of,
    must,
    to_state,
    walk_to,
)
from workflow.roles import Role

TEXT = "Jalan di depan SDN 3 Delta Pawan berlubang besar dan membahayakan pengendara motor."
PHONE = "0812-3456-7890"
PERIHAL = "Perbaikan jalan depan SDN 3"
ISI = "Lubang akan ditambal tim UPT Jalan pada Senin, 24 Agustus 2026.\nTerima kasih."
UNICODE_PERIHAL = "Jl. Gajah Mada — “rusak” ✓ 🚧"
UNICODE_ISI = "Perbaikan ruas Jl. Gajah Mada — “rusak” ✓ 🚧 selesai; biaya ± Rp 5 juta (½ APBD)."

AGENCY_NAME = "Dinas Pekerjaan Umum dan Penataan Ruang Kabupaten Ketapang"
TO = "Admin Penghubung SP4N-LAPOR! Kabupaten Ketapang"
SIGNER = "Ir. Sri Wahyuni, M.T."
JABATAN = "Sekretaris Dinas"
NIP = "NIP. 197001011995032001"
NUMBER = "001/ND-LAPOR/PUPR/2026"  # Ketapang's {seq:03d}/ND-LAPOR/{agency}/{year}
DRAFTED_ON = "Jumat, 14 Agustus 2026"  # the test clock: Friday 10.00 WIB
APPROVED_AT = "Jumat, 14 Agustus 2026, 15.00 WIB"  # five hours later (tokens last twelve)


def sha256_of(perihal: str, isi: str) -> str:
    return hashlib.sha256(nota_text(perihal, isi).encode("utf-8")).hexdigest()


def words(text: str) -> str:
    return " ".join(text.split())


def nota_of(page: Page) -> str:
    """The words of the document itself, without the console's frame around it (which
    names the person signed in)."""
    found = re.search(r'(?s)<article class="nota[^"]*".*?</article>', page.html)
    assert found, page.html[:500]
    return Page(page.status, found.group(0), page.url).text()


async def drafted(
    running: Running, staff: People, perihal: str = PERIHAL, isi: str = ISI, **fields: Any
) -> str:
    """A complaint walked to its first draft of the nota dinas (version 1)."""
    tracking_id = await file_complaint(running, "app", text=TEXT, phone=PHONE, **fields)
    await walk_to(running, staff.team, tracking_id, "ditindaklanjuti")
    await must(running, staff.team.opd, tracking_id, "konsep", perihal=perihal, isi=isi)
    return tracking_id


async def approved(running: Running, staff: People, tracking_id: str) -> dict[str, Any]:
    """Submitted, and approved by the Pejabat Penghubung five hours later."""
    await must(running, staff.team.opd, tracking_id, "ajukan")
    running.clock.advance(hours=5)
    return await must(running, staff.team.pejabat, tracking_id, "setujui")


async def pdf_of(console: Console, path: str) -> tuple[str, dict[str, str]]:
    """The PDF's text (spaces collapsed) and the answer's headers."""
    async with console.http.get(path, allow_redirects=False) as response:
        body = await response.read()
        assert response.status == 200, body[:500]
        headers = dict(response.headers)
    assert body.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(body))
    return words("\n".join(page.extract_text() for page in reader.pages)), headers


async def test_a_draft_is_marked_konsep_and_has_no_number(gateway: Running, staff: People) -> None:
    tracking_id = await drafted(gateway, staff)
    page = await staff.opd.get(f"/admin/cases/{tracking_id}/nota")
    assert page.status == 200, page.html
    text = nota_of(page)
    for fact in (
        "Pemerintah Kabupaten Ketapang",
        "Dinas Komunikasi dan Informatika",
        "Jl. Jendral Urip Sumoharjo No. 06 Ketapang 78813",
        "Telepon (0534)-3069638",
        "Nomor: —",
        f"Kepada {TO}",
        f"Dari {AGENCY_NAME}",
        f"Tanggal {DRAFTED_ON}",
        f"Perihal {PERIHAL}",
        words(ISI),
        f"nomor pelacakan {tracking_id}",
        "KONSEP versi 1: belum disetujui",
    ):
        assert fact in text, fact
    assert 'class="konsep-mark"' in page.html and 'class="nota nota-konsep"' in page.html
    assert "SHA-256" not in text and SIGNER not in text and NUMBER not in text
    # The tools: print, the PDF of this very version, back to the case; none of them printed.
    assert re.search(r"<button[^>]*data-print[^>]*>Cetak</button>", page.html)
    assert f'href="/admin/cases/{tracking_id}/nota.pdf?draft=1"' in page.html
    assert "Unduh PDF" in page.text() and "Unduh PDF" not in text
    assert f'href="/admin/cases/{tracking_id}"' in page.html
    # The page's policy allows no inline style: every rule is in the style sheet.
    assert "<style" not in page.html and " style=" not in page.html
    async with staff.opd.http.get("/static/lapor.css") as response:
        css = await response.text()
    assert ".konsep-mark" in css and "@media print" in css and "size: A4" in css


async def test_an_approved_nota_shows_number_signer_time_and_hash(
    gateway: Running, staff: People
) -> None:
    tracking_id = await drafted(gateway, staff)
    case = await approved(gateway, staff, tracking_id)
    [nota] = case["notas"]
    sha = sha256_of(PERIHAL, ISI)
    assert (nota["number"], nota["sha256"]) == (NUMBER, sha)  # the API agrees

    page = await staff.utama.get(f"/admin/cases/{tracking_id}/nota")
    assert page.status == 200, page.html
    text = nota_of(page)
    for fact in (
        f"Nomor: {NUMBER}",
        f"Tanggal {DRAFTED_ON}",
        f"Perihal {PERIHAL}",
        words(ISI),
        APPROVED_AT,
        JABATAN,
        SIGNER,
        NIP,
        f"SHA-256: {sha}",
    ):
        assert fact in text, fact
    assert "KONSEP" not in page.text() and "konsep-mark" not in page.html


async def test_the_date_of_an_approved_nota_is_the_approval_s(
    gateway: Running, staff: People
) -> None:
    """A draft written one day and approved the next is dated the day of approval, and the
    signature names that day's local time (the document itself, beyond a token's life)."""
    tracking_id = await drafted(gateway, staff)
    await approved(gateway, staff, tracking_id)
    status, body = await case_of(gateway, staff.team.utama, tracking_id)
    assert status == 200, body
    case = AdminComplaintDetail.model_validate(body)
    [draft], [nota] = case.drafts, case.notas
    later = nota.model_copy(update={"approved_at": nota.approved_at + timedelta(days=3)})
    doc = document(gateway.profile, case, draft, later)
    assert doc.date == "Senin, 17 Agustus 2026"
    assert doc.signature is not None
    assert doc.signature.signed_at == "Senin, 17 Agustus 2026, 15.00 WIB"
    unsigned = document(gateway.profile, case, draft, None)
    assert unsigned.date == DRAFTED_ON and unsigned.konsep and unsigned.number is None


async def test_a_returned_draft_is_konsep(gateway: Running, staff: People) -> None:
    tracking_id = await drafted(gateway, staff)
    await must(gateway, staff.team.opd, tracking_id, "ajukan")
    await must(
        gateway, staff.team.pejabat, tracking_id, "kembalikan_konsep", note="Perbaiki salam."
    )
    page = await staff.pejabat.get(f"/admin/cases/{tracking_id}/nota")
    assert page.status == 200, page.html
    text = nota_of(page)
    assert "KONSEP versi 1: dikembalikan untuk diperbaiki" in text
    assert 'class="konsep-mark"' in page.html and "Nomor: —" in text
    assert "SHA-256" not in text and SIGNER not in text
    pdf, _ = await pdf_of(staff.pejabat, f"/admin/cases/{tracking_id}/nota.pdf")
    assert "KONSEP" in pdf and "dikembalikan" in pdf and "SHA-256" not in pdf


async def test_draft_picks_a_version_and_an_unknown_one_is_404(
    gateway: Running, staff: People
) -> None:
    tracking_id = await drafted(gateway, staff)
    await must(gateway, staff.team.opd, tracking_id, "ajukan")
    await must(gateway, staff.team.pejabat, tracking_id, "kembalikan_konsep", note="Ulangi.")
    second = "Jalan ditambal dan diaspal ulang pada pekan depan."
    await must(gateway, staff.team.opd, tracking_id, "konsep", perihal="Pengaspalan", isi=second)
    await approved(gateway, staff, tracking_id)
    base = f"/admin/cases/{tracking_id}/nota"

    latest = nota_of(await staff.opd.get(base))
    assert "Perihal Pengaspalan" in latest and f"Nomor: {NUMBER}" in latest
    assert "KONSEP" not in latest

    first = await staff.opd.get(f"{base}?draft=1")
    assert first.status == 200, first.html
    text = nota_of(first)
    assert f"Perihal {PERIHAL}" in text and words(ISI) in text
    assert "KONSEP versi 1: dikembalikan" in text and "Nomor: —" in text
    assert second not in text and NUMBER not in text and SIGNER not in text
    pdf, headers = await pdf_of(staff.opd, f"{base}.pdf?draft=1")
    assert f"nota-dinas-{tracking_id}-v1.pdf" in headers["Content-Disposition"]
    assert PERIHAL in pdf and "KONSEP" in pdf and NUMBER not in pdf

    for wrong in ("3", "0", "-1", "abc", "1.5", "", "1%00"):
        for path in (base, f"{base}.pdf"):
            missing = await staff.opd.get(f"{path}?draft={wrong}")
            assert missing.status == 404, (path, wrong, missing.html[:300])
            assert "Versi konsep nota dinas itu tidak ada." in missing.text()
            assert PERIHAL not in missing.html


async def test_no_draft_yet_is_a_404_that_says_so(gateway: Running, staff: People) -> None:
    tracking_id = await file_complaint(gateway, "app", text=TEXT, phone=PHONE)
    await walk_to(gateway, staff.team, tracking_id, "ditindaklanjuti")
    for path in ("nota", "nota.pdf"):
        page = await staff.opd.get(f"/admin/cases/{tracking_id}/{path}")
        assert page.status == 404, page.html[:300]
        assert "Belum ada nota dinas yang dikonsep untuk laporan ini." in page.text()
    unknown = generate_tracking_id(random.Random(12))
    nobody = await staff.utama.get(f"/admin/cases/{unknown}/nota")
    assert nobody.status == 404 and "Laporan tidak ditemukan." in nobody.text()
    garbage = await staff.utama.get("/admin/cases/not-an-id/nota.pdf")
    assert garbage.status == 404 and "Nomor pelacakan tidak valid." in garbage.text()


async def test_the_pdf_carries_the_same_facts(gateway: Running, staff: People) -> None:
    tracking_id = await drafted(gateway, staff)
    path = f"/admin/cases/{tracking_id}/nota.pdf"
    pdf, headers = await pdf_of(staff.opd, path)
    assert headers["Content-Type"] == "application/pdf"
    assert headers["Content-Disposition"] == f'inline; filename="nota-dinas-{tracking_id}-v1.pdf"'
    for fact in (
        "PEMERINTAH KABUPATEN KETAPANG",
        "NOTA DINAS",
        "Nomor: —",
        TO,
        AGENCY_NAME,
        DRAFTED_ON,
        PERIHAL,
        words(ISI),
        tracking_id,
        "KONSEP",
    ):
        assert fact in pdf, fact
    assert "SHA-256" not in pdf and SIGNER not in pdf

    await approved(gateway, staff, tracking_id)
    pdf, _ = await pdf_of(staff.opd, path)
    sha = sha256_of(PERIHAL, ISI)
    for fact in (NUMBER, DRAFTED_ON, PERIHAL, SIGNER, JABATAN, NIP, APPROVED_AT, sha):
        assert fact in pdf, fact
    assert f"SHA-256: {sha}" in pdf
    assert "KONSEP" not in pdf


async def test_any_text_makes_a_pdf(gateway: Running, staff: People) -> None:
    """Dashes, curly quotes, a check mark and an emoji: the page shows them all, the PDF
    prints every character its font has and marks the one it has not (the emoji)."""
    tracking_id = await drafted(gateway, staff, perihal=UNICODE_PERIHAL, isi=UNICODE_ISI)
    await approved(gateway, staff, tracking_id)
    sha = sha256_of(UNICODE_PERIHAL, UNICODE_ISI)

    page = await staff.opd.get(f"/admin/cases/{tracking_id}/nota")
    assert UNICODE_PERIHAL in page.text() and f"SHA-256: {sha}" in page.text()
    pdf, _ = await pdf_of(staff.opd, f"/admin/cases/{tracking_id}/nota.pdf")
    assert "Jl. Gajah Mada — “rusak” ✓" in pdf
    assert "± Rp 5 juta (½ APBD)" in pdf
    assert "🚧" not in pdf and "\ufffd" in pdf  # no glyph in DejaVu Sans: shown as �
    assert f"SHA-256: {sha}" in pdf and NUMBER in pdf and SIGNER in pdf


async def test_without_the_font_the_pdf_falls_back(
    gateway: Running, staff: People, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A machine without DejaVu still gets the PDF (Latin-1 text), never a 500."""
    monkeypatch.setattr(nota_pdf, "FONT_DIRS", (tmp_path / "no-fonts",))
    tracking_id = await drafted(gateway, staff, perihal=UNICODE_PERIHAL, isi=UNICODE_ISI)
    await approved(gateway, staff, tracking_id)
    pdf, _ = await pdf_of(staff.opd, f"/admin/cases/{tracking_id}/nota.pdf")
    assert 'Jl. Gajah Mada - "rusak" ?' in pdf and "½ APBD" in pdf
    assert (
        NUMBER in pdf
        and SIGNER in pdf
        and f"SHA-256: {sha256_of(UNICODE_PERIHAL, UNICODE_ISI)}" in pdf
    )


async def test_another_agency_gets_404(gateway: Running, staff: People) -> None:
    tracking_id = await drafted(gateway, staff)
    await approved(gateway, staff, tracking_id)
    await add_staff(gateway, "opd-dinkes", Role.ADMIN_OPD, OTHER_AGENCY, name="Dewi")
    other = Console(gateway)
    try:
        assert (await other.sign_in("opd-dinkes")).status == 200
        for path in ("nota", "nota.pdf", "nota?draft=1"):
            page = await other.get(f"/admin/cases/{tracking_id}/{path}")
            assert page.status == 404, (path, page.html[:300])
            assert "Laporan tidak ditemukan." in page.text()
            assert PERIHAL not in page.html and NUMBER not in page.html
    finally:
        await other.close()


async def test_signed_out_is_sent_to_sign_in(gateway: Running, staff: People) -> None:
    tracking_id = await drafted(gateway, staff)
    visitor = Console(gateway)
    try:
        for path in ("nota?draft=1", "nota.pdf"):
            page = await visitor.get(f"/admin/cases/{tracking_id}/{path}", follow=False)
            assert page.status == 303
            assert page.location and page.location.startswith("/admin/login?")
            assert URL(page.location).query["next"] == f"/admin/cases/{tracking_id}/{path}"
            assert PERIHAL not in page.html
    finally:
        await visitor.close()


async def test_a_confidential_nota_is_only_for_its_readers(gateway: Running, staff: People) -> None:
    """`rahasia`: once the case moved to another agency, the agency that drafted and
    approved its nota dinas may no longer open it; the agency holding it and the regency's
    readers may."""
    t = staff.team
    body = {"channel": "walkin", "text": TEXT, "phone": PHONE, "confidential": True}
    async with gateway.http.post("/api/v1/desk/complaints", json=body, headers=DESK_AUTH) as r:
        created = await r.json()
        assert r.status == 201, created
    tracking_id, code = created["tracking_id"], created["citizen_code"]
    await walk_to(gateway, t, tracking_id, "dijawab")  # the walk's draft, approved, published
    path = f"/admin/cases/{tracking_id}/nota"
    assert "Perbaikan jalan" in (await staff.opd.get(path)).text()
    # The citizen is not satisfied; the case goes back, and on to the health office.
    rating = {"kode": code, "rating": "tidak_puas", "text": "Lubang belum ditambal."}
    async with gateway.http.post(f"/status/{tracking_id}/rating", json=rating) as r:
        assert r.status == 202, await r.text()
    await to_state(gateway, t.utama, tracking_id, "didisposisi")
    await must(gateway, t.penghubung, tracking_id, "alihkan", agency=OTHER_AGENCY)
    status, detail = await case_of(gateway, t.opd, tracking_id)
    assert status == 200 and detail["moved"] is True  # PUPR still knows of the case

    for console in (staff.opd, staff.pejabat):
        for suffix in ("", ".pdf", "?draft=1"):
            page = await console.get(path + suffix)
            assert page.status == 404, (suffix, page.html[:300])
            assert "Perbaikan jalan" not in page.html and "diperbaiki" not in page.html
            assert NUMBER not in page.html
    await add_staff(gateway, "opd-dinkes", Role.ADMIN_OPD, OTHER_AGENCY, name="Dewi")
    holder = Console(gateway)
    try:
        assert (await holder.sign_in("opd-dinkes")).status == 200
        for console in (holder, staff.utama, staff.penghubung):
            page = await console.get(path)
            assert page.status == 200 and f"Nomor: {NUMBER}" in page.text(), page.html[:300]
            assert "Sifat Rahasia" in page.text()
    finally:
        await holder.close()
