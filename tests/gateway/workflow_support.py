"""Working cases through the API as staff do: accounts, their tokens, actions by name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.conftest import Running, all_dispatched, eventually
from tests.fakes.twilio_api import FakeTwilio
from workflow.roles import Role

PASSWORD = "kata-sandi-yang-panjang"
AGENCY = "PUPR"
OTHER_AGENCY = "DINKES"


@dataclass(frozen=True)
class Staff:
    username: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass(frozen=True)
class Team:
    """The people of the procedure: the regency's two admins and one agency's two roles."""

    utama: Staff
    penghubung: Staff
    opd: Staff
    pejabat: Staff


async def add_staff(
    running: Running,
    username: str,
    role: Role,
    agency: str | None = None,
    **details: str,
) -> Staff:
    """An account in the store, signed in through the API."""
    await running.gateway.accounts.add(username, PASSWORD, role, agency=agency, **details)
    return Staff(username, await sign_in(running, username))


async def sign_in(running: Running, username: str, password: str = PASSWORD) -> str:
    body = {"username": username, "password": password}
    async with running.http.post("/api/v1/auth/token", json=body) as response:
        answer = await response.json()
        assert response.status == 200, answer
    token: str = answer["token"]
    return token


async def team(running: Running, agency: str = AGENCY) -> Team:
    suffix = agency.lower()
    return Team(
        utama=await add_staff(running, "utama", Role.ADMIN_INSTANSI, name="Hj. Utama"),
        penghubung=await add_staff(running, "ani", Role.ADMIN_PENGHUBUNG, name="Ani Lestari"),
        opd=await add_staff(running, f"opd-{suffix}", Role.ADMIN_OPD, agency, name="Budi"),
        pejabat=await add_staff(
            running,
            f"pejabat-{suffix}",
            Role.PEJABAT_PENGHUBUNG,
            agency,
            name="Ir. Sri Wahyuni, M.T.",
            jabatan="Sekretaris Dinas",
            nip="197001011995032001",
        ),
    )


async def case_of(running: Running, staff: Staff, tracking_id: str) -> tuple[int, dict[str, Any]]:
    async with running.http.get(f"/api/v1/complaints/{tracking_id}", headers=staff.auth) as r:
        return r.status, await r.json()


async def act(
    running: Running, staff: Staff, tracking_id: str, action: str, **fields: Any
) -> tuple[int, dict[str, Any]]:
    """Take `action` on the case's current version (unless `version` is given)."""
    if "version" not in fields:
        status, detail = await case_of(running, staff, tracking_id)
        assert status == 200, detail
        fields["version"] = detail["case"]["version"]
    body = {"action": action, **fields}
    path = f"/api/v1/complaints/{tracking_id}/actions"
    async with running.http.post(path, json=body, headers=staff.auth) as response:
        return response.status, await response.json()


async def must(
    running: Running, staff: Staff, tracking_id: str, action: str, **fields: Any
) -> dict[str, Any]:
    status, body = await act(running, staff, tracking_id, action, **fields)
    assert status == 200, (action, body)
    return body


async def opened(running: Running) -> None:
    await all_dispatched(running)


async def to_state(running: Running, staff: Staff, tracking_id: str, state: str) -> dict[str, Any]:
    """Wait until the case is in `state` (the dispatcher takes citizens' replies in)."""

    async def probe() -> dict[str, Any]:
        return (await case_of(running, staff, tracking_id))[1]

    return await eventually(probe, lambda d: (d.get("case") or {}).get("state") == state)


async def walk_to(running: Running, t: Team, tracking_id: str, state: str) -> None:
    """Take the case along the procedure's main path until it is in `state`."""
    path: list[tuple[Staff, str, dict[str, Any]]] = [
        (t.penghubung, "verifikasi", {"agency": AGENCY}),
        (t.opd, "disposisi", {"to": t.pejabat.username}),
        (t.pejabat, "tindak_lanjut", {"text": "Tim turun ke lokasi."}),
        (t.opd, "konsep", {"perihal": "Perbaikan jalan", "isi": "Jalan diperbaiki pekan depan."}),
        (t.opd, "ajukan", {}),
        (t.pejabat, "setujui", {}),
        (t.opd, "terbitkan", {}),
    ]
    await opened(running)
    for staff, action, fields in path:
        if await state_of(running, t, tracking_id) == state:
            return
        await must(running, staff, tracking_id, action, **fields)
    assert await state_of(running, t, tracking_id) == state


async def state_of(running: Running, t: Team, tracking_id: str) -> str:
    status, detail = await case_of(running, t.utama, tracking_id)
    assert status == 200, detail
    state: str = detail["case"]["state"]
    return state


async def texts_to(twilio: FakeTwilio, n: int) -> list[str]:
    """The first `n` SMS bodies the provider accepted, once it has them."""

    async def sent() -> list[dict[str, str]]:
        return list(twilio.sent)

    accepted = await eventually(sent, lambda messages: len(messages) >= n)
    return [m["Body"] for m in accepted[:n]]
