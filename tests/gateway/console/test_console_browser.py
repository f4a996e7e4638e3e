"""Four people at four browsers run the whole procedure in the console, from an SMS in the
queue to *Terbitkan jawaban*, and the citizen's phone gets the answer; the console's
boundaries as a browser meets them; screenshots of every page for the README.

Debian's Chromium, driven by Playwright (see tests/gateway/browsers.py), against a real
gateway on 127.0.0.1 whose SMS go out through a fake of Twilio's API.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, BrowserContext, Page, ViewportSize, expect

from tests.conftest import Running, eventually, file_complaint, start_gateway
from tests.fakes.twilio_api import FakeTwilio
from tests.gateway.browsers import WAIT_MS
from tests.gateway.conftest import twilio_sender
from tests.gateway.sms_support import CITIZEN, TWILIO_SID, TWILIO_TOKEN, twilio_sms
from tests.gateway.workflow_support import AGENCY, OTHER_AGENCY, PASSWORD, Team, add_staff, team
from workflow.roles import Role

pytestmark = pytest.mark.asyncio(loop_scope="module")
expect.set_options(timeout=WAIT_MS)

SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
LAPTOP: ViewportSize = {"width": 1366, "height": 768}
PHONE: ViewportSize = {"width": 390, "height": 844}
SMS = "LAPOR jalan di depan SDN 3 Ketapang berlubang besar sejak hujan hari Senin, dua motor jatuh"
# Other complaints in the queue, so its screenshot shows one as staff see it on a day.
OTHERS = [
    ("web", "Air PDAM di Kelurahan Sampit keruh dan berbau sejak tiga hari."),
    ("walkin", "Lampu penerangan jalan di Jl. Merdeka mati semua sejak seminggu."),
    ("phone", "Sampah menumpuk di dekat Pasar Delta Pawan, tidak diangkut dua minggu."),
    ("app", "Puskesmas Sukamaju tutup pada jam kerja hari Selasa, pasien menunggu di luar."),
]
ANSWER = "Lubang di depan SDN 3 ditambal tim UPT Jalan pada Rabu, 19 Agustus 2026."


@pytest_asyncio.fixture(loop_scope="module")
async def twilio() -> AsyncIterator[FakeTwilio]:
    async with FakeTwilio(TWILIO_SID, TWILIO_TOKEN) as fake:
        yield fake


@pytest_asyncio.fixture(loop_scope="module")
async def running(tmp_path: Path, twilio: FakeTwilio) -> AsyncIterator[Running]:
    # Plain http (cookies not Secure, as the browser reaches 127.0.0.1); the queue's rows
    # refresh every second so a test waits one second, not twenty.
    started = await start_gateway(tmp_path, console_refresh_seconds=1, **twilio_sender(twilio))
    yield started
    await started.stop()


@dataclass
class Desk:
    """One person's browser: their own context (cookies), one tab."""

    context: BrowserContext
    page: Page


async def open_desk(browser: Browser, running: Running, viewport: ViewportSize = LAPTOP) -> Desk:
    context = await browser.new_context(
        locale="id-ID", timezone_id="Asia/Pontianak", viewport=viewport, base_url=running.url("")
    )
    context.set_default_timeout(WAIT_MS)
    return Desk(context, await context.new_page())


async def sign_in(desk: Desk, username: str, *, path: str = "/admin/") -> None:
    page = desk.page
    await page.goto(path)
    await expect(page).to_have_url(re.compile(r"/admin/login\?next="))
    await page.get_by_label("Nama pengguna").fill(username)
    await page.get_by_label("Kata sandi").fill(PASSWORD)
    await page.get_by_role("button", name="Masuk").click()
    await expect(page.get_by_role("button", name="Keluar")).to_be_visible()


async def sms_in(running: Running, text: str) -> None:
    """An SMS to 1708, as Twilio delivers it (signed for the address it calls)."""
    status, twiml = await twilio_sms(running, text, url=running.url("/webhooks/sms/twilio"))
    assert status == 200, twiml


async def take(page: Page, button: str, **fields: str) -> None:
    """Fill the action's fields (by label) and press its button; wait for the saved page."""
    for label, value in fields.items():
        field = page.get_by_label(label, exact=True)
        if await field.evaluate("e => e.tagName") == "SELECT":
            await field.select_option(value)
        else:
            await field.fill(value)
    await page.get_by_role("button", name=button, exact=True).click()
    await expect(page.get_by_role("status")).to_contain_text("Tersimpan")


async def shoot(page: Page, name: str) -> None:
    """The page at a laptop's and at a phone's size, for the README."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for size, viewport in (("laptop", LAPTOP), ("phone", PHONE)):
        await page.set_viewport_size(viewport)
        await page.reload()  # laid out, and its script run, at this size from the start
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], f"{name} is {width} px wide at {size}"
        await page.screenshot(path=str(SCREENSHOTS / f"{name}-{size}.png"))
    await page.set_viewport_size(LAPTOP)
    await page.reload()


async def test_four_people_walk_an_sms_complaint_to_the_answer(
    browser: Browser, running: Running, twilio: FakeTwilio
) -> None:
    people: Team = await team(running)
    desks = {role: await open_desk(browser, running) for role in ("ani", "opd", "pejabat", "utama")}
    try:
        await sms_in(running, SMS)
        for channel, text in OTHERS:
            await file_complaint(running, channel, text=text, anonymous=True)
        ani = desks["ani"].page
        await sign_in(desks["ani"], people.penghubung.username)
        row = ani.get_by_role("row").filter(has_text="SDN 3 Ketapang")
        await expect(row).to_contain_text("SMS")
        await shoot(ani, "antrian")
        await row.get_by_role("link").click()
        await expect(ani.get_by_role("heading", level=2)).to_contain_text("Diterima")
        await take(ani, "Verifikasi & teruskan", **{"Teruskan ke instansi": AGENCY})

        opd, pejabat = desks["opd"].page, desks["pejabat"].page
        await sign_in(desks["opd"], people.opd.username, path="/admin/?mine=true")
        await opd.locator("a.tid").first.click()
        await take(opd, "Disposisi", **{"Kepada Pejabat Penghubung": people.pejabat.username})

        await sign_in(desks["pejabat"], people.pejabat.username, path="/admin/?mine=true")
        await pejabat.locator("a.tid").first.click()
        await take(pejabat, "Kirim tindak lanjut", **{"Keputusan tindak lanjut": "Tambal besok."})

        await opd.reload()
        await take(opd, "Simpan konsep", Perihal="Penambalan jalan", **{"Isi jawaban": "Segera."})
        await take(opd, "Ajukan persetujuan")
        await pejabat.reload()
        await take(
            pejabat, "Kembalikan konsep", **{"Catatan perbaikan untuk Admin OPD": "Tanggalnya?"}
        )
        await opd.reload()
        await expect(opd.locator("aside")).to_contain_text("Tanggalnya?")  # beside the editor
        await take(opd, "Simpan konsep", **{"Isi jawaban": ANSWER})
        await take(opd, "Ajukan persetujuan")
        await pejabat.reload()
        await shoot(pejabat, "kasus")
        await take(pejabat, "Setujui & tandatangani")
        await opd.reload()
        await take(opd, "Terbitkan jawaban")
        await expect(opd.get_by_role("heading", level=2)).to_contain_text("Dijawab")

        async def texts() -> list[str]:
            return [m["Body"] for m in twilio.sent if m["To"] == CITIZEN]

        sent = await eventually(texts, lambda bodies: any(ANSWER in b for b in bodies))
        assert any("PUAS" in b for b in sent)  # and asked to rate it

        await opd.get_by_role("link", name="Lihat cetak nota dinas").click()
        await expect(opd.locator("body")).to_contain_text("SHA-256")
        await shoot(opd, "nota-dinas")

        utama = desks["utama"].page
        await sign_in(desks["utama"], people.utama.username)
        await utama.get_by_role("link", name="Rekap").click()
        await expect(utama.get_by_role("link", name="Unduh XLSX")).to_be_visible()
        await shoot(utama, "rekap")
        await utama.get_by_role("link", name="Petugas").click()
        await expect(utama.get_by_role("button", name="Tambah petugas")).to_be_visible()
        await shoot(utama, "petugas")
    finally:
        for desk in desks.values():
            await desk.context.close()


async def test_an_agency_admin_cannot_open_another_agencys_case(
    browser: Browser, running: Running
) -> None:
    await add_staff(running, "opd-dinkes", Role.ADMIN_OPD, OTHER_AGENCY)
    tracking_id = await file_complaint(
        running, text="Jalan berlubang di depan SDN 3 Ketapang sejak Senin.", anonymous=True
    )
    desk = await open_desk(browser, running)
    try:
        await sign_in(desk, "opd-dinkes")
        response = await desk.page.goto(f"/admin/cases/{tracking_id}")
        assert response is not None and response.status == 404
        await expect(desk.page.get_by_role("heading", level=2)).to_have_text("Tidak ditemukan")
        await expect(desk.page.locator("body")).not_to_contain_text("SDN 3")
    finally:
        await desk.context.close()


async def test_a_signed_out_visitor_comes_back_to_the_page_after_signing_in(
    browser: Browser, running: Running
) -> None:
    await add_staff(running, "ani", Role.ADMIN_PENGHUBUNG)
    tracking_id = await file_complaint(
        running, text="Lampu jalan di Jl. Merdeka mati sejak seminggu.", anonymous=True
    )
    desk = await open_desk(browser, running, PHONE)
    try:
        await sign_in(desk, "ani", path=f"/admin/cases/{tracking_id}")
        await expect(desk.page).to_have_url(re.compile(f"/admin/cases/{tracking_id}$"))
    finally:
        await desk.context.close()


async def test_a_form_whose_csrf_token_was_taken_out_is_refused(
    browser: Browser, running: Running
) -> None:
    await add_staff(running, "ani", Role.ADMIN_PENGHUBUNG)
    tracking_id = await file_complaint(
        running, text="Sampah menumpuk di Pasar Delta Pawan tidak diangkut.", anonymous=True
    )
    desk = await open_desk(browser, running)
    try:
        await sign_in(desk, "ani", path=f"/admin/cases/{tracking_id}")
        page = desk.page
        await page.eval_on_selector_all(
            "input[name=csrf_token]", "inputs => inputs.forEach(i => i.remove())"
        )
        await page.get_by_label("Pertanyaan kepada pelapor").fill("Di RT berapa?")
        async with page.expect_response(lambda r: r.url.endswith("/actions")) as answer:
            await page.get_by_role("button", name="Tunda", exact=True).click()
        assert (await answer.value).status == 403
        await page.goto(f"/admin/cases/{tracking_id}")
        await expect(page.get_by_role("heading", level=2)).to_contain_text("Diterima")
    finally:
        await desk.context.close()


async def test_a_new_complaint_appears_in_the_open_queue_without_a_reload(
    browser: Browser, running: Running
) -> None:
    await add_staff(running, "ani", Role.ADMIN_PENGHUBUNG)
    desk = await open_desk(browser, running)
    try:
        await sign_in(desk, "ani")
        await expect(desk.page.locator("#rows")).to_contain_text("Tidak ada kasus")
        await sms_in(running, "LAPOR jembatan kayu di Desa Sukamaju retak dan miring sejak kemarin")
        # The page polls its rows every second here; nothing reloads it.
        await expect(desk.page.locator("#rows")).to_contain_text("Desa Sukamaju", timeout=10_000)
    finally:
        await desk.context.close()


async def test_signing_in_works_with_the_keyboard_alone(browser: Browser, running: Running) -> None:
    await add_staff(running, "ani", Role.ADMIN_PENGHUBUNG)
    desk = await open_desk(browser, running, PHONE)
    try:
        page = desk.page
        await page.goto("/admin/login")
        await page.keyboard.type("ani")  # the name field has the focus
        await page.keyboard.press("Tab")
        await page.keyboard.type(PASSWORD)
        await page.keyboard.press("Enter")
        await expect(page.get_by_role("button", name="Keluar")).to_be_visible()
    finally:
        await desk.context.close()
