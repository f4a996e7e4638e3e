"""The console's Petugas page (`/admin/staff`): the Admin Utama adds accounts of every role
(the agency rules of `lapor-gateway staff add`, said beside the field), disables one (its
sessions and tokens end at once, never the Admin's own) and resets a password, typed or
generated and shown once; nobody else opens it, and no form works without its CSRF token."""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import Running
from tests.gateway.console.support import Console, Page, People
from tests.gateway.workflow_support import PASSWORD
from workflow.roles import Role

NEW_PASSWORD = "sandi-petugas-baru-2026"
STAFF = "/admin/staff"
ROLE_NAMES = {
    "admin_instansi": "Admin Utama",
    "admin_penghubung": "Admin Penghubung",
    "admin_opd": "Admin OPD",
    "pejabat_penghubung": "Pejabat Penghubung",
    "petugas_loket": "Petugas Loket",
}
CONSOLE_ROLES = {"admin_instansi", "admin_penghubung", "admin_opd", "pejabat_penghubung"}


def new_account(**changes: str) -> dict[str, str]:
    """The add form as a person fills it in, with `changes`."""
    fields = {
        "username": "baru",
        "name": "Rina Marlina",
        "role": "admin_opd",
        "agency": "PUPR",
        "jabatan": "Kepala Seksi",
        "nip": "198502022010012003",
        "password": NEW_PASSWORD,
        "password2": NEW_PASSWORD,
    }
    return fields | changes


async def add(console: Console, **changes: str) -> Page:
    return await console.submit(STAFF, STAFF, new_account(**changes), follow=False)


async def api_sign_in(running: Running, username: str, password: str) -> int:
    """The status of `POST /api/v1/auth/token` with these credentials."""
    body = {"username": username, "password": password}
    async with running.http.post("/api/v1/auth/token", json=body) as response:
        await response.read()
        return response.status


async def api_status(running: Running, headers: dict[str, str]) -> int:
    async with running.http.get("/api/v1/complaints", headers=headers) as response:
        await response.read()
        return response.status


async def console_sign_in(running: Running, username: str, password: str) -> Console:
    """A new browser that tried to sign in to the console (closed by the caller)."""
    console = Console(running)
    await console.sign_in(username, password)
    return console


def sign_in_then(answer: Page) -> str:
    """Where a redirect to the sign-in page leads back to afterwards."""
    location = urlsplit(answer.location or "")
    assert location.path == "/admin/login", answer.location
    [target] = parse_qs(location.query)["next"]
    return target


async def still_signed_in(console: Console) -> bool:
    """Whether the browser's next console page opens (else it is sent to sign in)."""
    answer = await console.get("/admin/", follow=False)
    assert answer.status in (200, 303), answer.html
    if answer.status == 303:
        assert sign_in_then(answer) == "/admin/"
    return answer.status == 200


def field_error(page: Page, field: str) -> str:
    """The message beside a field of the page."""
    match = re.search(rf'<p class="error" id="{field}-error">([^<]*)</p>', page.html)
    assert match, f"no message beside {field}: {page.text()}"
    return match.group(1)


async def test_the_page_lists_every_account_with_its_details_in_indonesian(
    gateway: Running, staff: People
) -> None:
    """Every account: username, name, role in Bahasa Indonesia, agency, jabatan, NIP, and
    whether it is active; the Admin Utama's navigation leads there."""
    await gateway.gateway.accounts.add("loket-1", PASSWORD, Role.PETUGAS_LOKET)
    await gateway.gateway.accounts.disable("loket-1")

    queue = await staff.utama.get("/admin/")
    assert 'href="/admin/staff"' in queue.html
    listed = await staff.utama.get(STAFF)
    assert listed.status == 200
    rows = {
        m.group(1): " ".join(re.sub(r"<[^>]+>", " ", m.group(0)).split())
        for m in re.finditer(
            r'<tr[^>]*>\s*<td class="username">([^<]+)</td>.*?</tr>', listed.html, re.S
        )
    }
    assert set(rows) == {"utama", "ani", "opd-pupr", "pejabat-pupr", "loket-1"}
    assert "Hj. Utama" in rows["utama"] and "Admin Utama" in rows["utama"]
    assert "Admin Penghubung" in rows["ani"] and "Aktif" in rows["ani"]
    assert "Admin OPD" in rows["opd-pupr"] and "PUPR" in rows["opd-pupr"]
    for detail in ("Pejabat Penghubung", "PUPR", "Sekretaris Dinas", "197001011995032001"):
        assert detail in rows["pejabat-pupr"]
    assert "Petugas Loket" in rows["loket-1"] and "Nonaktif sejak" in rows["loket-1"]
    # A disabled account has nothing left to disable; the others each have their button.
    assert 'action="/admin/staff/loket-1/disable"' not in listed.html
    assert 'action="/admin/staff/ani/disable"' in listed.html
    assert "/admin/staff/loket-1/password" in listed.html


@pytest.mark.parametrize(
    ("role", "agency"),
    [
        ("admin_instansi", ""),
        ("admin_penghubung", ""),
        ("admin_opd", "PUPR"),
        ("pejabat_penghubung", "DINKES"),
        ("petugas_loket", ""),
    ],
)
async def test_an_account_of_each_role_is_added_and_signs_in(
    gateway: Running, staff: People, role: str, agency: str
) -> None:
    """Tambah petugas: a redirect to the list, which says so; the account is kept with its
    details, gets an API token, and signs in to the console if its role works there."""
    answer = await add(staff.utama, role=role, agency=agency)
    assert answer.status == 303, answer.text()
    assert answer.location == "/admin/staff?selesai=ditambahkan&akun=baru"
    listed = await staff.utama.get(answer.location)
    assert f"Akun baru ditambahkan sebagai {ROLE_NAMES[role]}." in listed.text()

    account = await gateway.store.get_staff("baru")
    assert account is not None and account.active
    assert (account.role, account.agency) == (role, agency or None)
    assert (account.name, account.jabatan, account.nip) == (
        "Rina Marlina",
        "Kepala Seksi",
        "198502022010012003",
    )
    assert NEW_PASSWORD not in account.password_hash

    assert await api_sign_in(gateway, "baru", NEW_PASSWORD) == 200
    browser = await console_sign_in(gateway, "baru", NEW_PASSWORD)
    try:
        assert (browser.session is not None) is (role in CONSOLE_ROLES)
        if role in CONSOLE_ROLES:
            assert (await browser.get("/admin/")).status == 200
    finally:
        await browser.close()


@pytest.mark.parametrize(
    ("role", "agency", "message"),
    [
        ("admin_opd", "", "wajib dipilih untuk peran Admin OPD"),
        ("pejabat_penghubung", "", "wajib dipilih untuk peran Pejabat Penghubung"),
        ("admin_penghubung", "PUPR", "peran Admin Penghubung tidak terikat pada instansi"),
        ("admin_instansi", "DINKES", "peran Admin Utama tidak terikat pada instansi"),
        ("petugas_loket", "PUPR", "peran Petugas Loket tidak terikat pada instansi"),
        ("admin_opd", "DINAS_X", "bukan instansi dalam profil ini"),
    ],
)
async def test_the_agency_rules_are_said_beside_the_field(
    gateway: Running, staff: People, role: str, agency: str, message: str
) -> None:
    """An agency role needs an agency of the profile and a regency role has none: 422, the
    reason beside Instansi, every value kept but the passwords, nothing added."""
    answer = await add(staff.utama, role=role, agency=agency)
    assert answer.status == 422
    assert message in field_error(answer, "agency")
    assert 'value="baru"' in answer.html and 'value="Rina Marlina"' in answer.html
    assert f'<option value="{role}" selected>' in answer.html
    assert NEW_PASSWORD not in answer.html
    assert await gateway.store.get_staff("baru") is None


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"password2": "sandi-yang-lain-2026"}, "password2", "tidak sama"),
        ({"password": "pendek123", "password2": "pendek123"}, "password", "minimal 10 karakter"),
        ({"password": "", "password2": ""}, "password", "wajib diisi"),
        ({"username": "Budi Santoso"}, "username", "huruf kecil"),
        ({"role": "raja"}, "role", "pilih salah satu peran"),
    ],
)
async def test_a_form_that_breaks_a_rule_is_refused_and_adds_nothing(
    gateway: Running, staff: People, changes: dict[str, str], field: str, message: str
) -> None:
    """Passwords that differ or are short, a bad username or role: 422 with the field's
    message, no password echoed, nothing added (as many accounts as before)."""
    before = len(await gateway.store.list_staff())
    answer = await add(staff.utama, **changes)
    assert answer.status == 422
    assert message in field_error(answer, field)
    for password in (NEW_PASSWORD, "sandi-yang-lain-2026", "pendek123"):
        assert password not in answer.html
    assert len(await gateway.store.list_staff()) == before
    assert await api_sign_in(gateway, "baru", NEW_PASSWORD) == 401


async def test_a_taken_username_is_refused_with_409(gateway: Running, staff: People) -> None:
    """Adding `ani` again: 409 with a sentence beside the username; ani is unchanged."""
    answer = await add(staff.utama, username="ani", role="admin_opd", agency="PUPR")
    assert answer.status == 409
    assert "sudah dipakai" in field_error(answer, "username")
    ani = await gateway.store.get_staff("ani")
    assert ani is not None and (ani.role, ani.agency) == ("admin_penghubung", None)
    assert await api_sign_in(gateway, "ani", NEW_PASSWORD) == 401


async def test_disabling_ends_the_sessions_and_tokens_at_once(
    gateway: Running, staff: People
) -> None:
    """Nonaktifkan: the list says so; the person's open console is signed out, their API
    token stops working, and they can no longer sign in anywhere."""
    assert await still_signed_in(staff.opd)
    assert await api_status(gateway, staff.team.opd.auth) == 200

    answer = await staff.utama.submit(STAFF, f"{STAFF}/opd-pupr/disable", {}, follow=False)
    assert answer.status == 303
    assert answer.location == "/admin/staff?selesai=dinonaktifkan&akun=opd-pupr"
    listed = await staff.utama.get(answer.location)
    assert "Akun opd-pupr dinonaktifkan" in listed.text()
    assert 'action="/admin/staff/opd-pupr/disable"' not in listed.html

    assert not await still_signed_in(staff.opd)
    assert await api_status(gateway, staff.team.opd.auth) == 401
    assert await api_sign_in(gateway, "opd-pupr", PASSWORD) == 401
    browser = await console_sign_in(gateway, "opd-pupr", PASSWORD)
    try:
        assert browser.session is None
    finally:
        await browser.close()
    # Nobody else was touched.
    assert await still_signed_in(staff.pejabat)
    assert await api_status(gateway, staff.team.pejabat.auth) == 200


async def test_the_admin_cannot_disable_themselves(gateway: Running, staff: People) -> None:
    """The signed-in Admin Utama has no button for their own account, and a posted form is
    refused with the reason: they stay active and signed in."""
    listed = await staff.utama.get(STAFF)
    assert 'action="/admin/staff/utama/disable"' not in listed.html

    answer = await staff.utama.submit(STAFF, f"{STAFF}/utama/disable", {}, follow=False)
    assert answer.status == 409
    assert "tidak dapat menonaktifkan akun Anda sendiri" in answer.text()
    utama = await gateway.store.get_staff("utama")
    assert utama is not None and utama.active
    assert await still_signed_in(staff.utama)
    assert await api_status(gateway, staff.team.utama.auth) == 200


async def test_a_typed_password_replaces_the_old_one_and_ends_every_session(
    gateway: Running, staff: People
) -> None:
    """Atur ulang kata sandi with a password typed twice: the list says so, the old password
    and the old sessions and tokens end, the new password signs in."""
    form = "/admin/staff/pejabat-pupr/password"
    shown = await staff.utama.get(form)
    assert shown.status == 200 and "pejabat-pupr" in shown.text()
    fields = {"password": NEW_PASSWORD, "password2": NEW_PASSWORD}
    answer = await staff.utama.submit(form, form, fields, follow=False)
    assert answer.status == 303
    assert answer.location == "/admin/staff?selesai=sandi&akun=pejabat-pupr"
    listed = await staff.utama.get(answer.location)
    assert "Kata sandi akun pejabat-pupr diganti" in listed.text()

    assert not await still_signed_in(staff.pejabat)
    assert await api_status(gateway, staff.team.pejabat.auth) == 401
    assert await api_sign_in(gateway, "pejabat-pupr", PASSWORD) == 401
    assert await api_sign_in(gateway, "pejabat-pupr", NEW_PASSWORD) == 200
    browser = await console_sign_in(gateway, "pejabat-pupr", NEW_PASSWORD)
    try:
        assert browser.session is not None
    finally:
        await browser.close()
    assert await still_signed_in(staff.opd)


async def test_a_generated_password_is_shown_once_and_works(
    gateway: Running, staff: People, caplog: pytest.LogCaptureFixture
) -> None:
    """Both fields left empty: a random password, shown on the answer (not cached, with the
    note to hand it over in person) and never logged; it signs in, the old one does not,
    and the old sessions ended."""
    caplog.set_level(logging.DEBUG)
    form = "/admin/staff/ani/password"
    answer = await staff.utama.submit(form, form, {"password": "", "password2": ""})
    assert answer.status == 200
    match = re.search(r'<p class="secret" id="generated">([^<]+)</p>', answer.html)
    assert match, answer.text()
    generated = match.group(1)
    assert len(generated) >= 16 and generated not in (PASSWORD, NEW_PASSWORD)
    assert "Serahkan langsung kepada pemilik akun" in answer.text()
    assert "hanya ditampilkan sekali" in answer.text()
    assert generated not in answer.url

    assert not await still_signed_in(staff.penghubung)
    assert await api_status(gateway, staff.team.penghubung.auth) == 401
    assert await api_sign_in(gateway, "ani", PASSWORD) == 401
    assert await api_sign_in(gateway, "ani", generated) == 200
    browser = await console_sign_in(gateway, "ani", generated)
    try:
        assert browser.session is not None
    finally:
        await browser.close()
    # The list does not show it again, and no log line holds it.
    assert generated not in (await staff.utama.get(STAFF)).html
    assert generated not in caplog.text
    assert "staff ani: new password (generated) set by utama" in caplog.text


async def test_typed_passwords_are_never_logged(
    gateway: Running, staff: People, caplog: pytest.LogCaptureFixture
) -> None:
    """Adding an account and typing a new password log who did what, never the password."""
    caplog.set_level(logging.DEBUG)
    assert (await add(staff.utama)).status == 303
    form = "/admin/staff/ani/password"
    other = "sandi-kedua-yang-panjang"
    answer = await staff.utama.submit(form, form, {"password": other, "password2": other})
    assert answer.status == 200
    assert "staff baru: added as admin_opd by utama" in caplog.text
    assert "staff ani: new password (typed) set by utama" in caplog.text
    assert NEW_PASSWORD not in caplog.text and other not in caplog.text


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (
            {"password": NEW_PASSWORD, "password2": "sandi-yang-lain-2026"},
            "password2",
            "tidak sama",
        ),
        ({"password": "", "password2": NEW_PASSWORD}, "password2", "tidak sama"),
        ({"password": "pendek123", "password2": "pendek123"}, "password", "minimal 10 karakter"),
    ],
)
async def test_a_reset_that_breaks_a_rule_changes_nothing(
    gateway: Running, staff: People, fields: dict[str, str], field: str, message: str
) -> None:
    """Passwords that differ (or only the second typed) or are short: 422 beside the field,
    the old password and sessions still stand."""
    form = "/admin/staff/ani/password"
    answer = await staff.utama.submit(form, form, fields)
    assert answer.status == 422
    assert message in field_error(answer, field)
    assert NEW_PASSWORD not in answer.html and "pendek123" not in answer.html
    assert await still_signed_in(staff.penghubung)
    assert await api_sign_in(gateway, "ani", PASSWORD) == 200


async def test_an_unknown_username_is_404(gateway: Running, staff: People) -> None:
    """The reset page, a reset and a disable of an account that does not exist: 404."""
    shown = await staff.utama.get("/admin/staff/tidak-ada/password")
    assert shown.status == 404
    assert "Tidak ada akun petugas dengan nama pengguna “tidak-ada”" in shown.text()
    fields: dict[str, Any] = {"password": NEW_PASSWORD, "password2": NEW_PASSWORD}
    reset = await staff.utama.submit(STAFF, "/admin/staff/tidak-ada/password", fields)
    assert reset.status == 404
    gone = await staff.utama.submit(STAFF, "/admin/staff/tidak-ada/disable", {})
    assert gone.status == 404 and "Akun tidak ditemukan" in gone.text()
    assert await gateway.store.get_staff("tidak-ada") is None


@pytest.mark.parametrize("who", ["penghubung", "opd", "pejabat"])
async def test_nobody_but_the_admin_utama_may_open_or_post(
    gateway: Running, staff: People, who: str
) -> None:
    """Another signed-in role: no Petugas link, 403 on the page and on every form (with a
    good CSRF token of their own), and nothing changes."""
    console: Console = getattr(staff, who)
    assert 'href="/admin/staff"' not in (await console.get("/admin/")).html
    shown = await console.get(STAFF)
    assert shown.status == 403
    assert "hanya dapat dibuka oleh Admin Utama" in shown.text()
    assert (await console.get("/admin/staff/ani/password")).status == 403

    added = await console.submit("/admin/", STAFF, new_account())
    assert added.status == 403
    assert await gateway.store.get_staff("baru") is None
    disabled = await console.submit("/admin/", f"{STAFF}/utama/disable", {})
    assert disabled.status == 403
    fields = {"password": NEW_PASSWORD, "password2": NEW_PASSWORD}
    reset = await console.submit("/admin/", f"{STAFF}/utama/password", fields)
    assert reset.status == 403
    assert await still_signed_in(staff.utama)
    assert await api_sign_in(gateway, "utama", PASSWORD) == 200


@pytest.mark.parametrize("token", [None, "bukan-token-yang-sah"])
async def test_a_form_without_its_csrf_token_is_refused(
    gateway: Running, staff: People, token: str | None
) -> None:
    """Each form posted without its page's token, or with a forged one: 403, nothing done."""
    await staff.utama.get(STAFF)  # the browser holds a CSRF cookie, as after any page
    added = await staff.utama.post(STAFF, {"csrf_token": token, **new_account()})
    assert added.status == 403
    assert await gateway.store.get_staff("baru") is None

    disabled = await staff.utama.post(f"{STAFF}/ani/disable", {"csrf_token": token})
    assert disabled.status == 403
    fields = {"csrf_token": token, "password": NEW_PASSWORD, "password2": NEW_PASSWORD}
    reset = await staff.utama.post(f"{STAFF}/ani/password", fields)
    assert reset.status == 403
    assert await still_signed_in(staff.penghubung)
    assert await api_sign_in(gateway, "ani", PASSWORD) == 200


async def test_a_signed_out_visitor_is_sent_to_sign_in(gateway: Running) -> None:
    browser = Console(gateway)
    try:
        answer = await browser.get(STAFF, follow=False)
        assert answer.status == 303
        assert sign_in_then(answer) == STAFF
    finally:
        await browser.close()


@pytest.mark.parametrize(
    "query",
    [
        "selesai=ditambahkan&akun=tidak-ada",
        "selesai=ditambahkan&akun=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "selesai=dibohongi&akun=ani",
    ],
)
async def test_the_confirmation_names_only_an_account_that_exists(
    staff: People, query: str
) -> None:
    """The address cannot make the page say what was not done, nor carry markup into it."""
    shown = await staff.utama.get(f"{STAFF}?{query}")
    assert shown.status == 200
    assert 'class="flash"' not in shown.html
    assert "<script>alert" not in shown.html
