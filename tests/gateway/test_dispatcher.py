"""The dispatcher through a real gateway: from a committed complaint to one `diterima` case,
across restarts, stalled dispatchers and dispatchers running side by side."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from gateway.dispatcher import LEASE_SECONDS, Dispatcher
from normalizer.models import Case
from tests.conftest import (
    FRIDAY_BEFORE_HOLIDAY,
    Clock,
    Running,
    eventually,
    file_complaint,
    start_gateway,
)
from workflow.calendar import case_deadlines
from workflow.cases import new_case

WIB = ZoneInfo("Asia/Pontianak")  # Ketapang
WITA = ZoneInfo("Asia/Makassar")  # Soppeng
ZONES = {"ketapang": WIB, "soppeng": WITA}
TEXT = "Jalan di depan SD Negeri 3 berlubang besar, sudah dua motor jatuh minggu ini."


async def file(running: Running, text: str = TEXT, category: str | None = "jalan_jembatan") -> str:
    return await file_complaint(running, text=text, phone="0812 3456 7890", category=category)


async def case_of(running: Running, tracking_id: str) -> Case | None:
    complaint = await running.store.get_complaint(tracking_id)
    assert complaint is not None
    return await running.store.get_case(complaint.id)


def query(running: Running, sql: str) -> list[tuple[Any, ...]]:
    """Read the gateway's SQLite file through a connection of the test's own."""
    conn = sqlite3.connect(running.sqlite_store.path)
    try:
        return list(conn.execute(sql).fetchall())
    finally:
        conn.close()


def opened_per_complaint(running: Running) -> list[int]:
    """How many `case.opened` events each complaint has: exactly one each, once dispatched."""
    return [
        n
        for (n,) in query(
            running,
            "SELECT count(e.id) FROM complaints c LEFT JOIN case_events e "
            "ON e.complaint_id = c.id AND e.kind = 'case.opened' GROUP BY c.id",
        )
    ]


async def all_dispatched(running: Running, expected: int) -> None:
    async def state() -> tuple[int, int]:
        [(pending,)] = query(running, "SELECT count(*) FROM outbox WHERE done_at IS NULL")
        return running.count("cases"), pending

    await eventually(state, lambda s: s == (expected, 0), 2.0)


def end_of_local_day(d: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(d + timedelta(days=1), time.min, tzinfo=zone).astimezone(UTC)


# Monday 17 August 2026 is Independence Day. Only the local date of receipt counts (no
# office-hours rule in workflow/calendar.py), and day 1 is the next working day after it.
DEADLINES = [
    # profile, received, category -> suggested agency, verification due, completion due
    ("ketapang", datetime(2026, 8, 14, 10, 0, tzinfo=WIB), "jalan_jembatan", "PUPR", 20, 24),
    ("soppeng", datetime(2026, 8, 14, 10, 0, tzinfo=WITA), "jalan_jembatan", "PUPR", 20, 20),
    # Saturday: the weekend, then the holiday, are skipped just the same.
    ("ketapang", datetime(2026, 8, 15, 10, 0, tzinfo=WIB), "air_bersih", "PDAM", 20, 24),
    ("soppeng", datetime(2026, 8, 15, 10, 0, tzinfo=WITA), "air_bersih", "PDAM", 20, 20),
    # Thursday evening, after office hours: still Thursday, so Friday is day 1.
    ("ketapang", datetime(2026, 8, 13, 21, 0, tzinfo=WIB), "kesehatan", "DINKES", 19, 21),
    ("soppeng", datetime(2026, 8, 13, 21, 0, tzinfo=WITA), "kesehatan", "DINKES", 19, 19),
    # Thursday in UTC but already Friday 00:30 in the regency: counted as Friday.
    ("ketapang", datetime(2026, 8, 13, 17, 30, tzinfo=UTC), "jalan_jembatan", "PUPR", 20, 24),
    ("soppeng", datetime(2026, 8, 13, 16, 30, tzinfo=UTC), "jalan_jembatan", "PUPR", 20, 20),
    # No category chosen nor recognisable in the text: nothing to suggest.
    ("ketapang", datetime(2026, 8, 14, 10, 0, tzinfo=WIB), None, None, 20, 24),
]


@pytest.mark.parametrize(
    ("profile", "received", "category", "agency", "verification_day", "completion_day"),
    DEADLINES,
    ids=[
        # e.g. ketapang-Fri14-1000-jalan_jembatan, in the regency's own time
        f"{row[0]}-{row[1].astimezone(ZONES[row[0]]).strftime('%a%d-%H%M')}-{row[2]}"
        for row in DEADLINES
    ],
)
async def test_a_filed_complaint_becomes_a_case_with_its_deadlines(
    tmp_path: Path,
    profile: str,
    received: datetime,
    category: str | None,
    agency: str | None,
    verification_day: int,
    completion_day: int,
) -> None:
    # A long poll: the case must come from the intake waking the dispatcher, not a poll.
    running = await start_gateway(
        tmp_path, profile=profile, clock=Clock(received), dispatch_poll_seconds=60
    )
    try:
        text = TEXT if category else "Mohon perhatian bapak dan ibu atas keadaan yang terjadi."
        tracking_id = await file(running, text=text, category=category)

        async def probe() -> Case | None:
            return await case_of(running, tracking_id)

        case = await eventually(probe, lambda c: c is not None, 2.0)
        assert case is not None
        zone = running.profile.zone
        verification_due = date(2026, 8, verification_day)
        completion_due = date(2026, 8, completion_day)
        assert (case.state, case.agency, case.suggested_agency) == ("diterima", None, agency)
        assert (case.verification_due, case.completion_due) == (verification_due, completion_due)
        assert case.verification_due_at == end_of_local_day(verification_due, zone)
        assert case.completion_due_at == end_of_local_day(completion_due, zone)
        verification, completion = case_deadlines(running.profile, received)
        assert (case.verification_due_at, case.completion_due_at) == (
            verification.due_at,
            completion.due_at,
        )
        assert case.opened_at == case.updated_at == received
        assert opened_per_complaint(running) == [1]
    finally:
        await running.stop()


async def test_complaints_filed_before_a_restart_are_dispatched_after_it(
    tmp_path: Path,
) -> None:
    intake_only = await start_gateway(tmp_path, dispatch_enabled=False)
    try:
        filed = [await file(intake_only, f"{TEXT} Laporan {i}.") for i in range(3)]
        assert intake_only.count("outbox") == 3
        assert intake_only.count("cases") == 0
    finally:
        await intake_only.stop()

    running = await start_gateway(tmp_path)
    try:
        await all_dispatched(running, 3)
        for tracking_id in filed:
            case = await case_of(running, tracking_id)
            assert case is not None and case.tracking_id == tracking_id
        assert opened_per_complaint(running) == [1, 1, 1]
        assert query(running, "SELECT attempts FROM outbox") == [(1,), (1,), (1,)]
    finally:
        await running.stop()


async def test_an_event_whose_dispatcher_died_is_dispatched_once_its_lease_runs_out(
    tmp_path: Path, clock: Clock
) -> None:
    intake_only = await start_gateway(tmp_path, clock=clock, dispatch_enabled=False)
    try:
        filed = [await file(intake_only, f"{TEXT} Laporan {i}.") for i in range(2)]
        # A dispatcher claims both events... and dies before it opens any case.
        stalled = await intake_only.store.claim_events(10, LEASE_SECONDS, clock())
        assert [e.tracking_id for e in stalled] == filed
    finally:
        await intake_only.stop()

    running = await start_gateway(tmp_path, clock=clock)
    try:
        # While the lease holds, no dispatcher may take the events over.
        other = Dispatcher(
            running.store, running.profile, running.gateway.workflow, clock, poll_seconds=0.2
        )
        assert await other.run_once() == 0
        assert running.count("cases") == 0

        clock.advance(seconds=LEASE_SECONDS + 1)
        await all_dispatched(running, 2)  # by the gateway's own dispatcher, on its next poll
        assert opened_per_complaint(running) == [1, 1]
        assert query(running, "SELECT attempts FROM outbox") == [(2,), (2,)]

        # The dead dispatcher was only slow: when it finishes, nothing changes.
        complaint = await running.store.get_complaint(filed[0])
        assert complaint is not None
        late = new_case(complaint, running.profile, clock())
        assert await running.store.open_case(stalled[0], late) is False
        assert opened_per_complaint(running) == [1, 1]
    finally:
        await running.stop()


async def test_two_dispatchers_at_once_open_one_case_per_complaint(tmp_path: Path) -> None:
    running = await start_gateway(tmp_path, dispatch_enabled=False)
    try:
        await asyncio.gather(*(file(running, f"{TEXT} Laporan {i}.") for i in range(30)))
        first, second = (running.dispatcher() for _ in range(2))
        claimed = await asyncio.gather(first.run_once(), second.run_once())
        assert sum(claimed) == 30
        assert running.count("cases") == 30
        assert opened_per_complaint(running) == [1] * 30
        assert query(running, "SELECT count(*) FROM outbox WHERE done_at IS NULL") == [(0,)]
        assert await first.run_once() == 0
        assert await second.run_once() == 0
    finally:
        await running.stop()


async def test_two_gateways_on_one_file_open_one_case_per_complaint(tmp_path: Path) -> None:
    # As two processes would: two stores (two writers) on one SQLite file, both dispatching.
    clock = Clock(FRIDAY_BEFORE_HOLIDAY)
    one = await start_gateway(tmp_path, clock=clock, dispatch_poll_seconds=0.05)
    two = await start_gateway(tmp_path, clock=clock, dispatch_poll_seconds=0.05)
    try:
        await asyncio.gather(*(file((one, two)[i % 2], f"{TEXT} Laporan {i}.") for i in range(20)))
        await all_dispatched(one, 20)
        assert opened_per_complaint(one) == [1] * 20
        assert query(one, "SELECT DISTINCT attempts FROM outbox") == [(1,)]
    finally:
        await two.stop()
        await one.stop()


async def test_a_backlog_past_the_write_queue_limit_is_dispatched_in_one_round(
    tmp_path: Path,
) -> None:
    limit = 50
    running = await start_gateway(tmp_path, dispatch_enabled=False, write_queue_limit=limit)
    try:
        for chunk in range(3):  # filed a chunk at a time, each within the queue's limit
            await asyncio.gather(
                *(file(running, f"{TEXT} Laporan {chunk}-{i}.") for i in range(40))
            )
        dispatcher = running.dispatcher()
        assert await dispatcher.run_once() == 120
        assert running.count("cases") == 120
    finally:
        await running.stop()
