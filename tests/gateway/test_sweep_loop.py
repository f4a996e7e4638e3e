"""The sweep runs in the dispatching process: as time passes, a question never answered
archives its case and tells the citizen, and a deadline passed is recorded once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.conftest import Running, file_complaint, start_gateway
from tests.gateway.workflow_support import Staff, must, opened, sign_in, team, to_state
from workflow.calendar import WorkingCalendar


@pytest.fixture
async def sweeping(tmp_path: Path) -> AsyncIterator[Running]:
    running = await start_gateway(tmp_path, sweep_seconds=0.1)
    yield running
    await running.stop()


async def test_an_unanswered_question_archives_the_case(sweeping: Running) -> None:
    t = await team(sweeping)
    tracking_id = await file_complaint(
        sweeping, text="Pohon tumbang menutup Jalan Gatot Subroto.", phone="0812 1111 2222"
    )
    await opened(sweeping)
    await must(sweeping, t.penghubung, tracking_id, "tunda", question="Di depan nomor berapa?")
    # Held on Friday 14 Aug 2026: the tenth working day after it is Tuesday 1 Sep (17 and
    # 25 Aug are holidays, and two weekends), over at its local midnight.
    expiry = WorkingCalendar.for_profile(sweeping.profile).add_working_days(sweeping.clock(), 10)
    assert expiry.due_date == date(2026, 9, 1)
    sweeping.clock.now = expiry.due_at - timedelta(minutes=1)
    steps = await sweeping.gateway.workflow.sweep(sweeping.clock(), apply=False)
    assert [s.kind for s in steps if s.tracking_id == tracking_id] == ["sla.verifikasi_terlambat"]
    sweeping.clock.now = expiry.due_at  # the sweep runs by the gateway's clock
    utama = Staff("utama", await sign_in(sweeping, "utama"))  # tokens last 12 hours
    archived = await to_state(sweeping, utama, tracking_id, "diarsipkan")
    kinds = [e["kind"] for e in archived["timeline"]]
    assert kinds.count("sla.verifikasi_terlambat") == 1  # recorded once, on the way
    assert kinds.count("case.arsip_otomatis") == 1
    assert [m["purpose"] for m in archived["messages"]] == ["question", "hold_expired"]
    assert archived["case"]["closed_at"] is not None


async def test_nothing_happens_before_its_time(sweeping: Running) -> None:
    t = await team(sweeping)
    tracking_id = await file_complaint(
        sweeping, text="Pohon tumbang menutup Jalan Gatot Subroto.", phone="0812 1111 2222"
    )
    await opened(sweeping)
    await must(sweeping, t.penghubung, tracking_id, "tunda", question="Di depan nomor berapa?")
    sweeping.clock.advance(days=5)  # Wednesday 19 Aug: nothing is due yet
    # The sweep's own word on it, as of the same moment, run by hand: nothing to do.
    steps = await sweeping.gateway.workflow.sweep(sweeping.clock(), apply=False)
    assert [s for s in steps if s.tracking_id == tracking_id] == []
