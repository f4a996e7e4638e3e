"""Who may see and do what through the API: agencies see only their own cases (of one moved
away, only that it moved), each action belongs to one role, an action out of its state is a
409 naming the state, and two actions on one version cannot both win."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ADMIN_TOKEN, Running, all_dispatched, file_complaint
from tests.gateway.conftest import gateway_on
from tests.gateway.workflow_support import (
    OTHER_AGENCY,
    Staff,
    Team,
    act,
    add_staff,
    case_of,
    must,
    team,
    walk_to,
)
from tests.store.backends import BACKENDS
from workflow.roles import Role


# The workflow on both stores: each step's version, timeline and counts as PostgreSQL keeps
# them too.
@pytest.fixture(params=BACKENDS)
async def gateway(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Running]:
    async with gateway_on(request.param, request, tmp_path) as running:
        yield running


COMPLAINT: dict[str, Any] = {
    "text": "Jembatan kayu di Desa Sukamaju retak dan miring, anak sekolah takut melintas.",
    "phone": "0812 3456 7890",
    "category": "jalan_jembatan",
    "location": "Desa Sukamaju",
}
ENV_ADMIN = Staff("ani-env", ADMIN_TOKEN)


async def other_agency(running: Running) -> tuple[Staff, Staff]:
    """The admin_opd and pejabat_penghubung of DINKES."""
    opd = await add_staff(running, "opd-dinkes", Role.ADMIN_OPD, OTHER_AGENCY, name="Dewi")
    pejabat = await add_staff(
        running, "pejabat-dinkes", Role.PEJABAT_PENGHUBUNG, OTHER_AGENCY, name="dr. Hasan"
    )
    return opd, pejabat


async def filed(running: Running) -> str:
    tracking_id = await file_complaint(running, **COMPLAINT)
    await all_dispatched(running)
    return tracking_id


async def queue_of(running: Running, staff: Staff) -> dict[str, dict[str, Any]]:
    """The caller's queue, by tracking ID."""
    async with running.http.get("/api/v1/complaints", headers=staff.auth) as response:
        body = await response.json()
        assert response.status == 200, body
    return {item["tracking_id"]: item for item in body["items"]}


async def version_of(running: Running, t: Team, tracking_id: str) -> int:
    status, detail = await case_of(running, t.utama, tracking_id)
    assert status == 200, detail
    version: int = detail["case"]["version"]
    return version


async def allowed(running: Running, staff: Staff, tracking_id: str) -> list[str]:
    status, detail = await case_of(running, staff, tracking_id)
    assert status == 200, detail
    actions: list[str] = detail["allowed_actions"]
    return actions


async def test_another_agency_neither_sees_nor_acts_on_a_case(gateway: Running) -> None:
    """DINKES's roles get 404 on a PUPR case, for reading and for acting, and do not find
    it in their queue; PUPR's roles find it there only once it is forwarded to them."""
    t = await team(gateway)
    dinkes_opd, dinkes_pejabat = await other_agency(gateway)
    tracking_id = await filed(gateway)

    # Waiting for verification (PUPR only suggested): no agency knows of it yet.
    for staff in (t.opd, t.pejabat, dinkes_opd):
        assert tracking_id not in await queue_of(gateway, staff)
        assert (await case_of(gateway, staff, tracking_id))[0] == 404
    assert tracking_id in await queue_of(gateway, t.penghubung)

    await must(gateway, t.penghubung, tracking_id, "verifikasi", agency="PUPR")
    for staff in (t.opd, t.pejabat):
        item = (await queue_of(gateway, staff))[tracking_id]
        assert item["moved"] is False and item["case"]["agency"] == "PUPR"
        assert item["text"] == COMPLAINT["text"]

    version = await version_of(gateway, t, tracking_id)
    tries = (
        (dinkes_opd, "disposisi", {"to": dinkes_pejabat.username}),
        (dinkes_opd, "kembalikan", {"reason": "Bukan kewenangan kami."}),
        (dinkes_pejabat, "tindak_lanjut", {"text": "Kami tangani."}),
    )
    for staff, action, fields in tries:
        assert tracking_id not in await queue_of(gateway, staff)
        status, body = await case_of(gateway, staff, tracking_id)
        assert status == 404, body
        assert tracking_id not in str(body) and COMPLAINT["text"] not in str(body)
        status, body = await act(gateway, staff, tracking_id, action, version=version, **fields)
        assert status == 404, (action, body)
        assert body["error"] == "not_found"
    assert await version_of(gateway, t, tracking_id) == version


async def test_a_case_moved_away_shows_its_old_agency_only_that_it_moved(
    gateway: Running,
) -> None:
    """After `alihkan` to DINKES, PUPR's roles see the case as moved: no case, no actions, a
    timeline ending at the move; in their queue it is marked moved. DINKES sees it whole."""
    t = await team(gateway)
    dinkes_opd, dinkes_pejabat = await other_agency(gateway)
    tracking_id = await filed(gateway)
    await must(gateway, t.penghubung, tracking_id, "verifikasi", agency="PUPR")
    gateway.clock.advance(hours=1)
    await must(gateway, t.opd, tracking_id, "disposisi", to=t.pejabat.username)
    gateway.clock.advance(hours=1)
    moved = await must(
        gateway, t.penghubung, tracking_id, "alihkan", agency=OTHER_AGENCY, note="Soal puskesmas."
    )
    moved_at = gateway.clock.now
    assert moved["case"]["agency"] == OTHER_AGENCY and moved["case"]["state"] == "diteruskan"
    assert moved["case"]["assignee"] is None

    # DINKES works it on, later.
    gateway.clock.advance(hours=1)
    await must(gateway, dinkes_opd, tracking_id, "disposisi", to=dinkes_pejabat.username)
    gateway.clock.advance(hours=1)
    await must(gateway, dinkes_pejabat, tracking_id, "tindak_lanjut", text="Dinkes turun ke desa.")

    for staff in (t.opd, t.pejabat):
        status, detail = await case_of(gateway, staff, tracking_id)
        assert status == 200, detail
        assert detail["moved"] is True and detail["case"] is None
        assert detail["allowed_actions"] == []
        timeline = detail["timeline"]
        assert timeline[-1]["kind"] == "case.alihkan"
        assert all(datetime.fromisoformat(e["at"]) <= moved_at for e in timeline)
        kinds = [e["kind"] for e in timeline]
        assert "case.tindak_lanjut" not in kinds and kinds.count("case.disposisi") == 1
        assert "dinkes" not in str(timeline) and "Dinkes turun" not in str(detail)
        item = (await queue_of(gateway, staff))[tracking_id]
        assert item["moved"] is True and item["case"] is None

    # Known to them, no longer theirs: 403, not with their agency.
    version = (await case_of(gateway, t.utama, tracking_id))[1]["case"]["version"]
    status, body = await act(
        gateway, t.opd, tracking_id, "konsep", version=version, perihal="Jembatan", isi="Kami."
    )
    assert status == 403 and body["error"] == "forbidden", body

    for staff in (dinkes_opd, dinkes_pejabat):
        status, detail = await case_of(gateway, staff, tracking_id)
        assert status == 200
        assert detail["moved"] is False and detail["case"]["state"] == "ditindaklanjuti"
        assert detail["case"]["agency"] == OTHER_AGENCY and detail["text"] == COMPLAINT["text"]
        assert [e["kind"] for e in detail["timeline"]][-1] != "case.alihkan"
        assert (await queue_of(gateway, staff))[tracking_id]["moved"] is False
    assert await allowed(gateway, dinkes_opd, tracking_id) == ["konsep"]


async def queue_ids(running: Running, staff: Staff, query: str) -> list[str]:
    async with running.http.get(f"/api/v1/complaints?{query}", headers=staff.auth) as response:
        body = await response.json()
        assert response.status == 200, body
    return [item["tracking_id"] for item in body["items"]]


async def test_queue_filters_do_not_tell_the_old_agency_what_happened_after_the_move(
    gateway: Running,
) -> None:
    """Of a case moved away, the old agency learns only that it moved: filtering its queue
    by the state the case reached afterwards, or by the agency now holding it, does not
    single it out."""
    t = await team(gateway)
    dinkes_opd, dinkes_pejabat = await other_agency(gateway)
    tracking_id = await filed(gateway)
    await must(gateway, t.penghubung, tracking_id, "verifikasi", agency="PUPR")
    await must(gateway, t.penghubung, tracking_id, "alihkan", agency=OTHER_AGENCY)
    await must(gateway, dinkes_opd, tracking_id, "disposisi", to=dinkes_pejabat.username)

    # Unfiltered, it is listed as moved; DINKES finds it by these very filters.
    assert tracking_id in await queue_ids(gateway, t.opd, "")
    for query in ("state=didisposisi", f"agency={OTHER_AGENCY}"):
        assert tracking_id in await queue_ids(gateway, dinkes_opd, query)

    # PUPR never saw it in `didisposisi`, and never with DINKES.
    assert tracking_id not in await queue_ids(gateway, t.opd, "state=didisposisi")
    assert tracking_id not in await queue_ids(gateway, t.opd, f"agency={OTHER_AGENCY}")


async def test_each_action_belongs_to_one_role(gateway: Running) -> None:
    """An action by a role it does not belong to is 403 and changes nothing."""
    t = await team(gateway)
    waiting = await filed(gateway)
    status, body = await act(gateway, t.utama, waiting, "verifikasi", agency="PUPR")
    assert status == 403, body

    forwarded = await filed_other(gateway)
    await walk_to(gateway, t, forwarded, "diteruskan")
    version = await version_of(gateway, t, forwarded)
    wrong: list[tuple[Staff, str, dict[str, Any]]] = [
        (t.opd, "verifikasi", {"agency": "PUPR"}),
        (t.pejabat, "konsep", {"perihal": "Jembatan", "isi": "Kami perbaiki."}),
        (t.pejabat, "disposisi", {"to": t.pejabat.username}),
        (t.penghubung, "setujui", {}),
        (t.penghubung, "disposisi", {"to": t.pejabat.username}),
        (t.utama, "alihkan", {"agency": OTHER_AGENCY}),
        (t.opd, "alihkan", {"agency": OTHER_AGENCY}),
    ]
    for staff, action, fields in wrong:
        status, body = await act(gateway, staff, forwarded, action, version=version, **fields)
        assert status == 403, (staff.username, action, body)
        assert body["error"] == "forbidden"
    assert await version_of(gateway, t, forwarded) == version


async def filed_other(running: Running) -> str:
    """A second complaint, in other words (so no duplicate window joins it to the first)."""
    body = COMPLAINT | {"text": "Drainase Jl. Merdeka tersumbat, air meluap ke rumah warga."}
    tracking_id = await file_complaint(running, **body)
    await all_dispatched(running)
    return tracking_id


async def test_an_action_out_of_its_state_is_409_naming_the_state(gateway: Running) -> None:
    """Through the API, an action its role may take but not in this state is 409 with the
    case's state and what the caller may do in it."""
    t = await team(gateway)
    tracking_id = await filed(gateway)

    async def refused(staff: Staff, action: str, **fields: Any) -> dict[str, Any]:
        status, body = await act(gateway, staff, tracking_id, action, **fields)
        assert status == 409, (action, body)
        assert body["error"] == "not_allowed"
        return body

    body = await refused(t.penghubung, "alihkan", agency=OTHER_AGENCY)
    assert body["state"] == "diterima"
    assert body["allowed_actions"] == ["verifikasi", "tunda", "tolak", "arsipkan"]

    await must(gateway, t.penghubung, tracking_id, "verifikasi", agency="PUPR")
    body = await refused(t.penghubung, "verifikasi", agency="PUPR")
    assert (body["state"], body["allowed_actions"]) == ("diteruskan", ["alihkan"])
    body = await refused(t.opd, "terbitkan")
    assert (body["state"], body["allowed_actions"]) == ("diteruskan", ["disposisi", "kembalikan"])

    await must(gateway, t.opd, tracking_id, "disposisi", to=t.pejabat.username)
    await must(gateway, t.pejabat, tracking_id, "tindak_lanjut", text="Tim turun ke lokasi.")
    version = await version_of(gateway, t, tracking_id)
    # No draft yet: nothing to submit.
    body = await refused(t.opd, "ajukan")
    assert (body["state"], body["allowed_actions"]) == ("ditindaklanjuti", ["konsep"])
    body = await refused(t.pejabat, "setujui")
    assert (body["state"], body["allowed_actions"]) == ("ditindaklanjuti", [])
    body = await refused(t.pejabat, "tindak_lanjut", text="Sekali lagi.")
    assert body["state"] == "ditindaklanjuti"

    _, detail = await case_of(gateway, t.utama, tracking_id)
    assert detail["case"]["state"] == "ditindaklanjuti" and detail["case"]["version"] == version


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (("verifikasi", {"agency": "PUPR"}), ("tolak", {"reason": "tidak_layak"})),
        (("verifikasi", {"agency": "PUPR"}), ("verifikasi", {"agency": OTHER_AGENCY})),
    ],
    ids=["verifikasi-or-tolak", "verifikasi-twice"],
)
async def test_two_actions_on_one_version_one_wins(
    gateway: Running,
    first: tuple[str, dict[str, Any]],
    second: tuple[str, dict[str, Any]],
) -> None:
    """Two actions sent at once on the same version: exactly one is taken (200), the other
    is 409 stale_version naming the state the winner left; the timeline has one event."""
    t = await team(gateway)
    tracking_id = await filed(gateway)
    version = await version_of(gateway, t, tracking_id)
    (a, a_fields), (b, b_fields) = first, second
    results = await asyncio.gather(
        act(gateway, t.penghubung, tracking_id, a, version=version, **a_fields),
        act(gateway, t.penghubung, tracking_id, b, version=version, **b_fields),
    )
    statuses = sorted(status for status, _ in results)
    assert statuses == [200, 409], results
    [won] = [body for status, body in results if status == 200]
    [lost] = [body for status, body in results if status == 409]
    assert lost["error"] == "stale_version"
    assert lost["state"] == won["case"]["state"]
    assert won["case"]["version"] == version + 1

    _, detail = await case_of(gateway, t.utama, tracking_id)
    kinds = [e["kind"] for e in detail["timeline"]]
    taken = [k for k in kinds if k in (f"case.{a}", f"case.{b}")]
    assert len(taken) == 1, kinds
    assert detail["case"] == won["case"] | {"overdue": detail["case"]["overdue"]}


async def test_allowed_actions_follow_the_role_and_the_state(gateway: Running) -> None:
    """`allowed_actions` of the detail, for each role, along the main path."""
    t = await team(gateway)
    tracking_id = await filed(gateway)
    everyone = {
        "utama": t.utama,
        "env": ENV_ADMIN,
        "penghubung": t.penghubung,
        "opd": t.opd,
        "pejabat": t.pejabat,
    }

    async def offered() -> dict[str, list[str] | None]:
        seen: dict[str, list[str] | None] = {}
        for name, staff in everyone.items():
            status, detail = await case_of(gateway, staff, tracking_id)
            seen[name] = detail["allowed_actions"] if status == 200 else None
        return seen

    nobody: dict[str, list[str] | None] = {"utama": [], "env": []}
    assert await offered() == nobody | {
        "penghubung": ["verifikasi", "tunda", "tolak", "arsipkan"],
        "opd": None,  # not theirs yet: 404
        "pejabat": None,
    }
    steps: list[tuple[Staff, str, dict[str, Any], dict[str, list[str] | None]]] = [
        (
            t.penghubung,
            "verifikasi",
            {"agency": "PUPR"},
            {"penghubung": ["alihkan"], "opd": ["disposisi", "kembalikan"], "pejabat": []},
        ),
        (
            t.opd,
            "disposisi",
            {"to": t.pejabat.username},
            {"penghubung": ["alihkan"], "opd": [], "pejabat": ["tindak_lanjut"]},
        ),
        (
            t.pejabat,
            "tindak_lanjut",
            {"text": "Tim turun ke lokasi."},
            {"penghubung": [], "opd": ["konsep"], "pejabat": []},
        ),
        (
            t.opd,
            "konsep",
            {"perihal": "Jembatan Sukamaju", "isi": "Jembatan diperbaiki bulan ini."},
            {"penghubung": [], "opd": ["konsep", "ajukan"], "pejabat": []},
        ),
        (
            t.opd,
            "ajukan",
            {},
            {"penghubung": [], "opd": [], "pejabat": ["setujui", "kembalikan_konsep"]},
        ),
        (
            t.pejabat,
            "setujui",
            {},
            {"penghubung": [], "opd": ["terbitkan"], "pejabat": []},
        ),
        (t.opd, "terbitkan", {}, {"penghubung": [], "opd": [], "pejabat": []}),
    ]
    for staff, action, fields, expected in steps:
        await must(gateway, staff, tracking_id, action, **fields)
        assert await offered() == nobody | expected, action
