"""`/admin/`: the unified queue in the browser: counts per state, filters kept in the
address, the most urgent first, pages, "Tugas saya", and rows refreshed without a reload."""

from __future__ import annotations

import re

from tests.conftest import Running, all_dispatched, file_complaint
from tests.gateway.console.support import Page, People
from tests.gateway.workflow_support import AGENCY, OTHER_AGENCY, must, walk_to


async def filed(gateway: Running, n: int, channel: str = "app", **fields: object) -> list[str]:
    ids = []
    for i in range(n):
        text = (
            f"Lampu jalan nomor {i} di Jalan Gajah Mada padam sejak seminggu, gelap di malam hari."
        )
        ids.append(await file_complaint(gateway, channel, text=text, anonymous=True, **fields))
    await all_dispatched(gateway)
    return ids


def rows(page: Page) -> list[str]:
    """The tracking IDs of the queue's rows, in order."""
    return re.findall(r'<a class="tid" href="/admin/cases/([A-Z0-9]+)">', page.html)


def tab_counts(page: Page) -> dict[str, int]:
    found = re.findall(
        r'<a href="[^"]*"(?: aria-current="page")?>([^<]+) <span class="count">(\d+)', page.html
    )
    return {label: int(n) for label, n in found}


async def test_tabs_count_each_state_and_an_agency_counts_only_its_own(
    gateway: Running, staff: People
) -> None:
    ours = await filed(gateway, 3)
    theirs = await filed(gateway, 2, category="kesehatan")
    team = staff.team
    await must(gateway, team.penghubung, ours[0], "verifikasi", agency=AGENCY)
    await must(gateway, team.penghubung, ours[1], "verifikasi", agency=AGENCY)
    await must(gateway, team.opd, ours[1], "disposisi", to=team.pejabat.username)
    await must(gateway, team.penghubung, theirs[0], "verifikasi", agency=OTHER_AGENCY)
    regency = tab_counts(await staff.penghubung.get("/admin/"))
    assert regency["Semua"] == 5
    assert (regency["Diterima"], regency["Diteruskan"], regency["Didisposisi"]) == (2, 2, 1)
    agency_page = await staff.opd.get("/admin/")
    agency = tab_counts(agency_page)
    assert agency["Semua"] == 2 and agency["Diteruskan"] == 1 and agency["Didisposisi"] == 1
    assert sorted(rows(agency_page)) == sorted(ours[:2])


async def test_a_row_shows_the_case_at_a_glance_and_an_overdue_one_in_red(
    gateway: Running, staff: People
) -> None:
    [tracking_id] = await filed(gateway, 1)
    page = await staff.penghubung.get("/admin/")
    row = _row(page, tracking_id)
    assert "channel-app" in row and ">App<" in row
    assert "Lampu jalan nomor 0 di Jalan Gajah Mada padam" in row
    assert "usul: " in row  # the agency the category suggests, until verified
    assert "Diterima" in row and "3 hari kerja" in row and "overdue" not in row
    gateway.clock.advance(days=14)
    await staff.penghubung.sign_in(staff.team.penghubung.username)  # a new working day
    late = _row(await staff.penghubung.get("/admin/"), tracking_id)
    assert 'class="overdue"' in late and 'class="late">lewat' in late


async def test_filters_live_in_the_address_and_the_form_shows_them(
    gateway: Running, staff: People
) -> None:
    app_ids = await filed(gateway, 2)
    [walkin] = await filed(gateway, 1, "walkin")
    by_channel = await staff.penghubung.get("/admin/?channel=walkin")
    assert rows(by_channel) == [walkin]
    assert '<option value="walkin" selected>' in by_channel.html
    # A tab keeps the other filters.
    assert 'href="/admin/?channel=walkin&amp;state=diterima"' in by_channel.html
    by_id = await staff.penghubung.get(f"/admin/?q={app_ids[1].lower()}")
    assert rows(by_id) == [app_ids[1]]
    by_words = await staff.penghubung.get("/admin/?q=nomor+0")
    assert sorted(rows(by_words)) == sorted([app_ids[0], walkin])  # both say "nomor 0"
    # The form sends its empty fields too: they mean "any".
    blank = await staff.penghubung.get("/admin/?q=&channel=&category=&due=&from=&to=")
    assert sorted(rows(blank)) == sorted([*app_ids, walkin])


async def test_an_unknown_filter_value_is_left_out_and_said(
    gateway: Running, staff: People
) -> None:
    ids = await filed(gateway, 2)
    page = await staff.penghubung.get("/admin/?channel=merpati&from=kemarin&sort=urgent")
    assert page.status == 200
    assert "Filter tidak dikenal diabaikan: channel, from." in page.text()
    assert sorted(rows(page)) == sorted(ids)


async def test_the_queue_pages_on_and_the_next_page_continues(
    gateway: Running, staff: People
) -> None:
    ids = await filed(gateway, 27)
    first = await staff.penghubung.get("/admin/?sort=newest")
    assert len(rows(first)) == 25
    match = re.search(r'<a href="([^"]+)" rel="next">', first.html)
    assert match
    second = await staff.penghubung.get(match.group(1).replace("&amp;", "&"))
    assert len(rows(second)) == 2 and 'rel="next"' not in second.html
    assert sorted(rows(first) + rows(second)) == sorted(ids)
    assert rows(first)[0] == ids[-1]  # newest first, as asked


async def test_tugas_saya_lists_what_waits_for_each_role(gateway: Running, staff: People) -> None:
    ids = await filed(gateway, 4)
    await walk_to(gateway, staff.team, ids[1], "diteruskan")
    await walk_to(gateway, staff.team, ids[2], "didisposisi")
    await walk_to(gateway, staff.team, ids[3], "menunggu_persetujuan")
    mine = {
        role: sorted(rows(await getattr(staff, role).get("/admin/?mine=true")))
        for role in ("penghubung", "opd", "pejabat", "utama")
    }
    assert mine == {
        "penghubung": [ids[0]],
        "opd": [ids[1]],
        "pejabat": sorted([ids[2], ids[3]]),
        "utama": [],
    }
    page = await staff.pejabat.get("/admin/")
    assert '<a href="/admin/?mine=true">Tugas saya</a>' in page.html  # in every page's menu
    page = await staff.pejabat.get("/admin/?mine=true")
    assert "Kasus yang menunggu tindakan Anda (Pejabat Penghubung): 2." in page.text()


async def test_new_complaints_come_in_the_refreshed_rows(gateway: Running, staff: People) -> None:
    [first] = await filed(gateway, 1)
    page = await staff.penghubung.get("/admin/?channel=app")
    match = re.search(r'data-refresh="([^"]+)" data-refresh-ms="(\d+)"', page.html)
    assert match and match.group(1) == "/admin/?channel=app&amp;partial=rows"
    [second] = await filed(gateway, 1)
    fragment = await staff.penghubung.get(match.group(1).replace("&amp;", "&"))
    assert fragment.status == 200 and "<html" not in fragment.html
    assert set(rows(fragment)) == {first, second}


async def test_the_api_lists_what_waits_for_the_caller_too(gateway: Running, staff: People) -> None:
    ids = await filed(gateway, 2)
    await walk_to(gateway, staff.team, ids[1], "diteruskan")
    async with gateway.http.get(
        "/api/v1/complaints", params={"mine": "true"}, headers=staff.team.opd.auth
    ) as response:
        body = await response.json()
    assert [i["tracking_id"] for i in body["items"]] == [ids[1]]


def _row(page: Page, tracking_id: str) -> str:
    """The queue row of one case, as markup."""
    for row in re.findall(r"<tr\b.*?</tr>", page.html, re.S):
        if f'href="/admin/cases/{tracking_id}"' in row:
            return str(row)
    raise AssertionError(f"{tracking_id} is not in the queue")
