"""`/admin/cases/{id}`: a case whole as each role may see it, the actions they may take now
as buttons named as the procedure names them, refusals that keep what was typed, and the
complaint's photos and videos behind the same visibility rules."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import FormData

from tests.conftest import (
    Running,
    all_dispatched,
    eventually,
    file_complaint,
    tiny_png,
    tracking_id_on,
)
from tests.gateway.console.support import Console, People, people
from tests.gateway.workflow_support import (
    AGENCY,
    OTHER_AGENCY,
    add_staff,
    must,
    walk_to,
)
from workflow.roles import Role

TEXT = "Jalan poros Desa Sungai Awan Kiri rusak berat dan berlubang sejak bulan lalu."
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 256

ROLES = ("utama", "penghubung", "opd", "pejabat")


async def filed(gateway: Running, **fields: object) -> str:
    given = {"text": TEXT, "phone": "081234567890", "name": "Siti Aminah"} | fields
    tracking_id = await file_complaint(gateway, "app", **given)
    await all_dispatched(gateway)
    return tracking_id


async def web_complaint_with(gateway: Running, *files: tuple[str, bytes, str]) -> str:
    """A complaint from the citizen's web form with these files attached."""
    data = FormData()
    data.add_field("csrf_token", await gateway.form_token())
    for name, value in {"text": TEXT, "phone": "081234567890"}.items():
        data.add_field(name, value)
    for filename, body, content_type in files:
        data.add_field("attachments", body, filename=filename, content_type=content_type)
    async with gateway.http.post("/lapor", data=data) as response:
        html = await response.text()
        assert response.status == 201, html
    tracking_id = tracking_id_on(html)
    await all_dispatched(gateway)
    return tracking_id


def who(staff: People, role: str) -> Console:
    console: Console = getattr(staff, role)
    return console


async def test_each_role_sees_the_buttons_of_its_actions_along_the_whole_path(
    gateway: Running, staff: People
) -> None:
    tracking_id = await filed(gateway)
    # Who acts, what, and the buttons they see just before; everyone else sees none but
    # the Admin Penghubung's Alihkan while an agency holds the case.
    path = [
        ("penghubung", "verifikasi", {"agency": AGENCY},
         ["Verifikasi & teruskan", "Tunda", "Tolak", "Arsipkan"]),
        ("opd", "disposisi", {"to": staff.team.pejabat.username},
         ["Disposisi", "Kembalikan ke Admin Penghubung"]),
        ("pejabat", "tindak_lanjut", {"text": "Tim turun ke lokasi."}, ["Kirim tindak lanjut"]),
        ("opd", "konsep", {"perihal": "Perbaikan jalan", "isi": "Jalan akan ditambal."},
         ["Simpan konsep"]),
        ("opd", "ajukan", {}, ["Simpan konsep", "Ajukan persetujuan"]),
        ("pejabat", "setujui", {}, ["Setujui & tandatangani", "Kembalikan konsep"]),
        ("opd", "terbitkan", {}, ["Terbitkan jawaban"]),
    ]  # fmt: skip
    redirectable = {"disposisi", "tindak_lanjut"}  # in diteruskan and didisposisi
    for actor, action, fields, buttons in path:
        for role in ROLES:
            seen = (await who(staff, role).get(f"/admin/cases/{tracking_id}")).buttons()
            if role == actor:
                assert sorted(seen) == sorted(buttons), (action, role)
            elif role == "penghubung" and action in redirectable:
                assert seen == ["Alihkan"], (action, role)
            else:
                assert seen == [], (action, role)
        taken = await who(staff, actor).act(tracking_id, action, **fields)
        assert taken.status == 200, taken.text()
        assert taken.url.endswith(f"?done={action}"), taken.url
        assert "Tersimpan:" in taken.text()
    final = await staff.utama.get(f"/admin/cases/{tracking_id}")
    assert 'data-state="dijawab"' in final.html


async def test_the_case_shows_the_complaint_its_reporter_deadline_and_timeline(
    gateway: Running, staff: People
) -> None:
    tracking_id = await filed(gateway, location="Desa Sungai Awan Kiri", category="jalan_jembatan")
    await staff.penghubung.act(tracking_id, "verifikasi", agency=AGENCY, note="Sudah dicek.")
    page = (await staff.opd.get(f"/admin/cases/{tracking_id}")).text()
    assert TEXT in page
    assert "Siti Aminah · +6281234567890" in page
    assert "Desa Sungai Awan Kiri" in page
    assert "Jumat, 14 Agustus 2026, 10.00 WIB" in page  # received, in the regency's time
    # Received Friday before the 17 August holiday: 5 working days to answer → Monday 24th.
    assert "Tenggat saat ini Senin, 24 Agustus 2026 — 5 hari kerja lagi" in page
    assert "Verifikasi & teruskan · ani (Admin Penghubung) → Diteruskan Sudah dicek." in page


async def test_an_anonymous_reporter_is_shown_to_nobody(gateway: Running, staff: People) -> None:
    tracking_id = await filed(gateway, anonymous=True)
    for console in (staff.utama, staff.penghubung):
        page = (await console.get(f"/admin/cases/{tracking_id}")).text()
        assert "Anonim" in page and "Siti" not in page and "0812" not in page


async def test_another_agencys_admin_cannot_open_the_case_or_its_files(
    gateway: Running, staff: People
) -> None:
    tracking_id = await web_complaint_with(gateway, ("jalan.png", tiny_png(), "image/png"))
    await staff.penghubung.act(tracking_id, "verifikasi", agency=AGENCY)
    stranger = Console(gateway)
    try:
        await add_staff(gateway, "opd-dinkes", Role.ADMIN_OPD, OTHER_AGENCY)
        await stranger.sign_in("opd-dinkes")
        page = await stranger.get(f"/admin/cases/{tracking_id}")
        assert page.status == 404 and TEXT not in page.html
        own = await staff.opd.get(f"/admin/cases/{tracking_id}")
        [src] = own.images()
        assert (await stranger.get(src)).status == 404
        # Nor by posting an action to it.
        taken = await stranger.post(
            f"/admin/cases/{tracking_id}/actions",
            {"csrf_token": page.csrf(), "action": "disposisi", "version": "2", "to": "x"},
        )
        assert taken.status == 404
    finally:
        await stranger.close()


async def test_photos_open_full_size_and_videos_play(gateway: Running, staff: People) -> None:
    png = tiny_png()
    tracking_id = await web_complaint_with(
        gateway, ("jalan.png", png, "image/png"), ("rekaman.mp4", MP4, "video/mp4")
    )
    page = await staff.penghubung.get(f"/admin/cases/{tracking_id}")
    [photo] = page.images()
    assert f'<a href="{photo}" target="_blank"' in page.html  # the thumbnail opens it whole
    async with staff.penghubung.http.get(photo) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "image/png"
        assert "sandbox" in response.headers["Content-Security-Policy"]
        assert await response.read() == png
    [video] = page.videos()
    async with staff.penghubung.http.get(video, headers={"Range": "bytes=0-15"}) as response:
        assert response.status == 206  # seekable in the player
        assert response.headers["Content-Type"] == "video/mp4"
        assert await response.read() == MP4[:16]
    async with staff.penghubung.http.get(f"/admin/cases/{tracking_id}/files/{'0' * 64}") as r:
        assert r.status == 404


async def test_a_confidential_complaint_is_hidden_from_the_agency_it_left(
    gateway: Running, staff: People
) -> None:
    tracking_id = await filed(gateway, confidential=True)
    await staff.penghubung.act(tracking_id, "verifikasi", agency=AGENCY)
    assert TEXT in (await staff.opd.get(f"/admin/cases/{tracking_id}")).text()
    await staff.penghubung.act(tracking_id, "alihkan", agency=OTHER_AGENCY)
    page = await staff.opd.get(f"/admin/cases/{tracking_id}")
    assert page.status == 200
    assert TEXT not in page.text() and "dirahasiakan" in page.text()
    assert "sudah dialihkan dari instansi Anda" in page.text()
    assert page.buttons() == []


async def test_someone_acting_first_is_said_and_what_was_typed_is_kept(
    gateway: Running, staff: People
) -> None:
    tracking_id = await filed(gateway)
    other = Console(gateway)
    try:
        await add_staff(gateway, "budi", Role.ADMIN_PENGHUBUNG, name="Budi Santoso")
        await other.sign_in("budi")
        mine = await staff.penghubung.get(f"/admin/cases/{tracking_id}")
        await other.act(tracking_id, "verifikasi", agency=AGENCY)
        question = "Di RT berapa tepatnya jalan yang rusak itu?"
        late = await staff.penghubung.post(
            f"/admin/cases/{tracking_id}/actions",
            {"csrf_token": mine.csrf(), "action": "tunda", "version": mine.version(),
             "question": question},
        )  # fmt: skip
        assert late.status == 409
        assert "baru saja diubah oleh budi (Admin Penghubung)" in late.text()
        assert "statusnya sekarang diteruskan" in late.text()
        assert question in late.html  # kept, to copy: tunda is no longer possible
        assert late.buttons() == ["Alihkan"]
        stale_alihkan = await staff.penghubung.post(
            f"/admin/cases/{tracking_id}/actions",
            {"csrf_token": mine.csrf(), "action": "alihkan", "version": mine.version(),
             "agency": OTHER_AGENCY, "note": "Salah instansi."},
        )  # fmt: skip
        # Still possible in the new state: its form comes back filled in as typed.
        assert stale_alihkan.status == 409
        assert ">Salah instansi.</textarea>" in stale_alihkan.html
        assert f'<option value="{OTHER_AGENCY}" selected>' in stale_alihkan.html
    finally:
        await other.close()


async def test_a_form_missing_a_field_is_422_beside_the_field_and_nothing_changes(
    gateway: Running, staff: People
) -> None:
    tracking_id = await filed(gateway)
    refused = await staff.penghubung.act(tracking_id, "tunda", question="   ")
    assert refused.status == 422
    assert 'id="tunda-question-error">wajib diisi<' in refused.html
    unknown = await staff.penghubung.act(tracking_id, "verifikasi", agency="BUKAN")
    assert unknown.status == 422
    assert 'id="verifikasi-agency-error">unknown agency' in unknown.html
    duplicate = await staff.penghubung.act(tracking_id, "arsipkan", duplicate_of="ZZZZZZZZZ")
    assert duplicate.status == 422 and 'id="arsipkan-duplicate_of-error"' in duplicate.html
    assert 'value="ZZZZZZZZZ"' in duplicate.html
    assert 'data-state="diterima"' in (await staff.utama.get(f"/admin/cases/{tracking_id}")).html


async def test_an_action_without_the_pages_csrf_token_is_refused(
    gateway: Running, staff: People
) -> None:
    tracking_id = await filed(gateway)
    forged = await staff.penghubung.post(
        f"/admin/cases/{tracking_id}/actions",
        {"action": "tolak", "version": "1", "reason": "spam"},
    )
    assert forged.status == 403
    other_purpose = await staff.penghubung.post(
        f"/admin/cases/{tracking_id}/actions",
        {"csrf_token": await gateway.form_token(), "action": "tolak", "version": "1",
         "reason": "spam"},
    )  # fmt: skip
    assert other_purpose.status == 403  # the citizen form's token is not the console's
    assert 'data-state="diterima"' in (await staff.utama.get(f"/admin/cases/{tracking_id}")).html


async def test_a_role_cannot_take_another_roles_action_by_posting_it(
    gateway: Running, staff: People
) -> None:
    tracking_id = await filed(gateway)
    page = await staff.utama.get(f"/admin/cases/{tracking_id}")
    taken = await staff.utama.post(
        f"/admin/cases/{tracking_id}/actions",
        {"csrf_token": page.csrf(), "action": "tolak", "version": "1", "reason": "spam"},
    )
    assert taken.status == 403 and "hanya untuk peran admin_penghubung" in taken.text()


async def test_the_nota_editor_shows_earlier_versions_and_the_return_notes(
    gateway: Running, staff: People
) -> None:
    tracking_id = await filed(gateway)
    await walk_to(gateway, staff.team, tracking_id, "ditindaklanjuti")
    await staff.opd.act(tracking_id, "konsep", perihal="Perbaikan jalan", isi="Versi pertama.")
    await staff.opd.act(tracking_id, "ajukan")
    returned = await staff.pejabat.act(tracking_id, "kembalikan_konsep", note="Sebutkan tanggal.")
    assert returned.status == 200
    editor = await staff.opd.get(f"/admin/cases/{tracking_id}")
    text = editor.text()
    assert "Catatan Pejabat Penghubung" in text and "Sebutkan tanggal." in text
    assert ">Versi pertama.</textarea>" in editor.html  # the editor starts from the last draft
    await staff.opd.act(
        tracking_id, "konsep", perihal="Perbaikan jalan", isi="Versi kedua, 2 Sept."
    )
    text = (await staff.opd.get(f"/admin/cases/{tracking_id}")).text()
    assert "Versi 2 · opd-pupr" in text and "Versi 1 · opd-pupr" in text
    assert "Versi pertama." in text  # the earlier version is still there to compare


async def test_messages_to_the_citizen_show_their_delivery_state(
    web_gateway: Running, sms_staff: People
) -> None:
    tracking_id = await filed(web_gateway)
    await must(web_gateway, sms_staff.team.penghubung, tracking_id, "verifikasi", agency=AGENCY)

    async def shown() -> str:
        return (await sms_staff.penghubung.get(f"/admin/cases/{tracking_id}")).text()

    text = await eventually(shown, lambda t: "terkirim ke operator" in t)
    assert "telah diverifikasi dan diteruskan" in text


@pytest.fixture
async def sms_staff(web_gateway: Running) -> AsyncIterator[People]:
    signed = await people(web_gateway)
    yield signed
    await signed.close()
