"""A person at a real browser: the citizen's form, its receipt and status page, the front desk.

Debian's Chromium, driven by Playwright, talks to a real gateway on 127.0.0.1. The browser
is launched once for the module; every test and fixture here runs in the module's event
loop, so the gateway and the browser share one loop. Waits are Playwright's own bounded
auto-waits (`expect`, `expect_response`), never sleeps.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, Response, ViewportSize, expect

from config.locale import long_date
from normalizer.models import Channel
from normalizer.tracking import parse_tracking_id
from tests.conftest import DESK_TOKEN, Running, start_gateway, tiny_png
from tests.gateway.browsers import WAIT_MS

pytestmark = pytest.mark.asyncio(loop_scope="module")


COMPLAINT = (
    "Jalan di depan SD Negeri 3 berlubang besar sejak hujan deras hari Senin, "
    "sudah dua motor jatuh. Mohon segera diperbaiki."
)
PLACE = "Jl. Merdeka, Kecamatan Delta Pawan"
PHONE_TYPED = "0812-3456-7890"
PHONE_E164 = "+6281234567890"
# Received Friday 14 August 2026 (the gateway's test clock); Monday 17 August is a holiday.
VERIFICATION_DUE = date(2026, 8, 20)
COMPLETION_DUE = date(2026, 8, 24)

expect.set_options(timeout=WAIT_MS)


@pytest_asyncio.fixture(loop_scope="module")
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    # Not conftest's `gateway` fixture: that one lives in each test's own loop.
    started = await start_gateway(tmp_path)
    yield started
    await started.stop()


@pytest_asyncio.fixture(loop_scope="module")
async def page(browser: Browser) -> AsyncIterator[Page]:
    """A fresh browser profile (cookies, cache, history) for each test."""
    context = await browser.new_context(locale="id-ID", timezone_id="Asia/Pontianak")
    context.set_default_timeout(WAIT_MS)
    opened = await context.new_page()
    yield opened
    await context.close()


async def submit(page: Page, button: str) -> Response:
    """Click the form's button as a person does; the server's answer to the POST."""
    async with page.expect_response(lambda r: r.request.method == "POST") as answer:
        await page.get_by_role("button", name=button).click()
    response = await answer.value
    await page.wait_for_load_state()
    return response


async def fill_complaint(page: Page, text: str = COMPLAINT, phone: str = PHONE_TYPED) -> None:
    await page.get_by_label("Uraian laporan").fill(text)
    await page.get_by_label("Nama", exact=True).fill("Siti Aminah")
    await page.get_by_label("Nomor telepon/HP").fill(phone)


async def tracking_id_shown(page: Page) -> str:
    shown = page.locator("#tracking-id")
    await expect(shown).to_be_visible()
    text = (await shown.inner_text()).strip()
    assert parse_tracking_id(text) == text
    return text


async def log_in_at_desk(page: Page, running: Running) -> None:
    await page.goto(running.url("/desk"))
    await expect(page.get_by_role("heading", name="masuk petugas")).to_be_visible()
    await page.get_by_text("Masuk dengan token petugas").click()
    await page.get_by_label("Token petugas").fill(DESK_TOKEN)
    await page.get_by_role("button", name="Masuk").click()
    await expect(page.get_by_text("Petugas: budi")).to_be_visible()


def png_size(picture: bytes) -> tuple[int, int]:
    """Width and height from a PNG's header, which must be a PNG's."""
    assert picture[:8] == b"\x89PNG\r\n\x1a\n" and picture[12:16] == b"IHDR"
    width, height = struct.unpack(">II", picture[16:24])
    return width, height


async def test_a_citizen_files_a_complaint_with_a_photo_and_follows_it(
    page: Page, running: Running, tmp_path: Path
) -> None:
    await page.goto(running.url("/lapor"))
    guidance = page.get_by_role("complementary")
    for key in ("guidance.clear", "guidance.when_where", "guidance.evidence", "guidance.free"):
        await expect(guidance).to_contain_text(running.profile.message(key))

    await fill_complaint(page)
    await page.get_by_label("Tempat kejadian").fill(PLACE)
    await page.get_by_label("Tanggal kejadian").fill("2026-08-10")
    category = page.get_by_label("Kategori")
    await category.select_option(label="Jalan, Jembatan dan Drainase")
    await expect(category).to_have_value("jalan_jembatan")
    photo = tmp_path / "lubang.png"
    photo.write_bytes(tiny_png())
    await page.get_by_label("Bukti pendukung").set_input_files(photo)

    response = await submit(page, "Kirim laporan")
    assert response.status == 201
    await expect(page.get_by_role("heading", name="Laporan Anda telah kami terima")).to_be_visible()
    tracking_id = await tracking_id_shown(page)
    deadlines = running.profile.message(
        "receipt.sla",
        verification_due=long_date(VERIFICATION_DUE),
        completion_due=long_date(COMPLETION_DUE),
        completion_days=running.profile.sla.completion_working_days,
    )
    await expect(page.get_by_text(deadlines)).to_be_visible()
    assert "Kamis, 20 Agustus 2026" in deadlines and "Senin, 24 Agustus 2026" in deadlines

    status_url = running.url(f"/status/{tracking_id}")
    await page.get_by_role("link", name=status_url).click()
    await expect(page).to_have_url(status_url)
    await expect(page.locator("h3.tracking")).to_have_text(tracking_id)
    await expect(page.get_by_text("Jalan, Jembatan dan Drainase")).to_be_visible()
    await expect(page.get_by_text(f"Tempat: {PLACE}")).to_be_visible()

    complaint = await running.store.get_complaint(tracking_id)
    assert complaint is not None
    assert complaint.channel is Channel.WEB
    assert complaint.reporter.phone == PHONE_E164
    assert complaint.reporter.name == "Siti Aminah"
    assert complaint.category == "jalan_jembatan"
    assert complaint.location == PLACE
    assert complaint.incident_date == date(2026, 8, 10)
    [attachment] = complaint.attachments
    png = tiny_png()
    assert attachment.content_type == "image/png"
    assert attachment.filename == "lubang.png"
    assert attachment.sha256 == hashlib.sha256(png).hexdigest()
    assert running.gateway.blobs.path_for(attachment.sha256).read_bytes() == png


@pytest.mark.parametrize(
    ("field", "label", "bad", "good"),
    [
        ("phone", "Nomor telepon/HP", "12ab", PHONE_TYPED),
        ("phone", "Nomor telepon/HP", "1708", PHONE_TYPED),  # a service short code
        ("incident_date", "Tanggal kejadian", "2026-08-20", "2026-08-13"),  # the future
    ],
)
async def test_the_server_explains_a_field_the_browser_let_through(
    page: Page, running: Running, field: str, label: str, bad: str, good: str
) -> None:
    await page.goto(running.url("/lapor"))
    await fill_complaint(page)
    await page.get_by_label(label).fill(bad)

    response = await submit(page, "Kirim laporan")
    assert response.status == 422
    await expect(page.get_by_role("alert")).to_have_text(running.profile.message("error.invalid"))
    invalid = running.profile.message("field.invalid")
    control = page.get_by_label(label)
    await expect(page.locator(f"#{field}-error")).to_have_text(invalid)
    # The message is tied to the field, so a screen reader reads it there.
    await expect(control).to_have_accessible_description(invalid)
    await expect(control).to_have_attribute("aria-invalid", "true")
    await expect(control).to_have_value(bad)
    await expect(page.get_by_label("Uraian laporan")).to_have_value(COMPLAINT)
    assert running.count() == 0

    await control.fill(good)
    response = await submit(page, "Kirim laporan")
    assert response.status == 201
    tracking_id = await tracking_id_shown(page)
    assert running.count() == 1
    complaint = await running.store.get_complaint(tracking_id)
    assert complaint is not None and complaint.text == COMPLAINT


CITIZEN = ("/lapor", "Kirim laporan")
DESK = ("/desk", "Simpan dan cetak tanda terima")


@pytest.mark.parametrize(
    ("form", "refused_first", "edit", "status"),
    [
        # Sent again as it was: the first receipt again, not a second complaint.
        (CITIZEN, False, "", 200),
        (DESK, False, "", 200),
        # Back lands on the page that refused the first try; its token made the complaint.
        (CITIZEN, True, "", 200),
        # Edited and sent again: refused with the reason, nothing filed.
        (CITIZEN, False, " Tambahan.", 409),
        (DESK, False, " Tambahan.", 409),
    ],
)
async def test_back_and_send_again_files_no_second_complaint(
    page: Page,
    running: Running,
    form: tuple[str, str],
    refused_first: bool,
    edit: str,
    status: int,
) -> None:
    path, button = form
    if path == "/desk":
        await log_in_at_desk(page, running)
    else:
        await page.goto(running.url(path))
    await fill_complaint(page, phone="12ab" if refused_first else PHONE_TYPED)
    if refused_first:
        assert (await submit(page, button)).status == 422
        await page.get_by_label("Nomor telepon/HP").fill(PHONE_TYPED)
    assert (await submit(page, button)).status == 201
    first = await tracking_id_shown(page)

    await page.go_back()
    text = page.get_by_label("Uraian laporan")
    await expect(text).to_have_value(COMPLAINT)  # the browser shows the form as it was sent
    await expect(page.get_by_label("Nomor telepon/HP")).to_have_value(PHONE_TYPED)
    if edit:
        await text.fill(COMPLAINT + edit)
    response = await submit(page, button)
    assert response.status == status
    assert running.count() == 1
    if status == 200:
        assert await tracking_id_shown(page) == first
        return
    await expect(page.get_by_role("alert")).to_have_text(
        running.profile.message("error.resubmitted")
    )
    assert "sudah pernah dikirim" in running.profile.message("error.resubmitted")
    await expect(text).to_have_value(COMPLAINT + edit)
    # The page came back with a fresh token: sent once more, the edit is a new complaint.
    assert (await submit(page, button)).status == 201
    assert await tracking_id_shown(page) != first
    assert running.count() == 2


async def test_back_to_a_form_the_browser_no_longer_holds_files_no_second_complaint(
    page: Page, running: Running
) -> None:
    await page.goto(running.url("/lapor"))
    await fill_complaint(page)
    assert (await submit(page, "Kirim laporan")).status == 201
    first = await tracking_id_shown(page)
    # As when the browser has dropped the page from its cache (memory pressure on a phone,
    # a restart): Back fetches /lapor again, and the browser refills what was typed.
    cdp = await page.context.new_cdp_session(page)
    await cdp.send("Network.clearBrowserCache")
    await page.go_back()
    await expect(page.get_by_label("Uraian laporan")).to_have_value(COMPLAINT)
    await submit(page, "Kirim laporan")
    assert await tracking_id_shown(page) == first
    assert running.count() == 1


@pytest.mark.parametrize(
    ("channel", "label"), [(Channel.WALKIN, "Datang langsung"), (Channel.PHONE, "Telepon")]
)
async def test_the_front_desk_logs_a_complaint_and_prints_a_receipt(
    page: Page, running: Running, channel: Channel, label: str
) -> None:
    await log_in_at_desk(page, running)
    await page.get_by_label("Cara pengaduan").select_option(label=label)
    await fill_complaint(page)
    await page.get_by_label("Tempat kejadian").fill(PLACE)

    response = await submit(page, "Simpan dan cetak tanda terima")
    assert response.status == 201
    await expect(page.get_by_role("heading", name="Tanda Terima Pengaduan")).to_be_visible()
    tracking_id = await tracking_id_shown(page)
    note = running.profile.message(
        "desk.receipt.note",
        staff_id="budi",
        tracking_id=tracking_id,
        status_url=running.url(f"/status/{tracking_id}"),
    )
    await expect(page.get_by_text(note)).to_be_visible()
    await expect(page.locator("dd", has_text=label)).to_be_visible()

    complaint = await running.store.get_complaint(tracking_id)
    assert complaint is not None
    assert complaint.channel is channel
    assert complaint.logged_by == "budi"
    assert complaint.reporter.phone == PHONE_E164
    assert complaint.location == PLACE


async def test_the_desk_refuses_an_unknown_token(page: Page, running: Running) -> None:
    response = await page.goto(running.url("/desk"))
    assert response is not None and response.status == 401
    await page.get_by_text("Masuk dengan token petugas").click()
    await page.get_by_label("Token petugas").fill("bukan-token")
    await page.get_by_role("button", name="Masuk").click()
    await expect(page.get_by_role("alert")).to_have_text(running.profile.message("error.login"))
    await expect(page.get_by_label("Uraian laporan")).to_have_count(0)


async def test_the_form_and_the_receipt_render_as_pictures(
    page: Page, running: Running, tmp_path: Path
) -> None:
    await page.set_viewport_size({"width": 800, "height": 600})
    await page.goto(running.url("/lapor"))
    form_shot = tmp_path / "lapor.png"
    await page.screenshot(path=form_shot, full_page=True)
    await fill_complaint(page)
    assert (await submit(page, "Kirim laporan")).status == 201
    await tracking_id_shown(page)
    receipt_shot = tmp_path / "receipt.png"
    await page.screenshot(path=receipt_shot, full_page=True)

    for shot in (form_shot, receipt_shot):
        width, height = png_size(shot.read_bytes())
        assert width == 800 and height >= 600, (shot, width, height)
    # The long form scrolls well past one screen; the receipt is shorter than the form.
    assert png_size(form_shot.read_bytes())[1] > png_size(receipt_shot.read_bytes())[1]


# -- a phone ---------------------------------------------------------------------------------

PHONE: ViewportSize = {"width": 360, "height": 740}
# A long public address, as a regency's is: the status link on the receipt must wrap.
LONG_BASE = "http://pengaduan-masyarakat.kabupaten-ketapang.example.go.id"


@pytest_asyncio.fixture(loop_scope="module")
async def long_named(tmp_path: Path) -> AsyncIterator[Running]:
    started = await start_gateway(tmp_path, public_base_url=LONG_BASE)
    yield started
    await started.stop()


async def fits_the_phone(page: Page, what: str) -> None:
    """No horizontal scrolling: the page is no wider than the screen."""
    scroll, inner = await page.evaluate(
        "() => [document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert scroll <= inner, f"{what}: {scroll} px wide on a {inner} px screen"


async def test_every_citizen_page_fits_a_360_px_phone(page: Page, long_named: Running) -> None:
    await page.set_viewport_size(PHONE)
    await page.goto(long_named.url("/lapor"))
    await fits_the_phone(page, "the form")
    # The guidance is read before the form on a phone, not after its button.
    guidance = await page.get_by_role("complementary").bounding_box()
    form = await page.get_by_label("Uraian laporan").bounding_box()
    assert guidance is not None and form is not None and guidance["y"] < form["y"]

    await fill_complaint(page)
    assert (await submit(page, "Kirim laporan")).status == 201
    tracking_id = await tracking_id_shown(page)
    await expect(page.get_by_role("link", name=f"{LONG_BASE}/status/{tracking_id}")).to_be_visible()
    await fits_the_phone(page, "the receipt")

    await page.goto(long_named.url(f"/status/{tracking_id}"))
    await expect(page.locator("#state")).to_be_visible()
    await fits_the_phone(page, "the status page")

    await log_in_at_desk(page, long_named)
    await fits_the_phone(page, "the desk's form")
    await page.get_by_label("Uraian laporan").fill(COMPLAINT)
    await page.get_by_label("Nomor telepon/HP").fill(PHONE_TYPED)
    assert (await submit(page, "Simpan dan cetak tanda terima")).status == 201
    await fits_the_phone(page, "the desk's receipt")


async def test_a_refused_form_says_its_photos_must_be_chosen_again(
    page: Page, running: Running, tmp_path: Path
) -> None:
    await page.goto(running.url("/lapor"))
    await page.get_by_label("Uraian laporan").fill(COMPLAINT)  # no phone, no e-mail: refused
    photo = tmp_path / "lubang.png"
    photo.write_bytes(tiny_png())
    await page.get_by_label("Bukti pendukung").set_input_files(photo)
    assert (await submit(page, "Kirim laporan")).status == 422
    files = page.get_by_label("Bukti pendukung")
    await expect(files).to_have_attribute("aria-invalid", "true")
    described = await files.get_attribute("aria-describedby")
    assert described is not None
    notes = " ".join([await page.locator(f"#{i}").inner_text() for i in described.split()])
    assert running.profile.message("error.files_again") in notes
