"""The recap's tally from the store, on both backends (a SQLite file, a PostgreSQL
database): complaints of a period with their cases, counted alike, with local dates exact
in any time zone and the deadlines compared as stored. The last tests are the SQLite
store's own: the local dates its SQL function gives."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytest

from config.profile import load_profile
from normalizer.models import Case, Channel, Complaint, Inbound
from normalizer.normalize import normalize
from store.base import OutboxEvent, Store
from store.sqlite_workflow import _LocalDates
from store.workflow import RecapKind, RecapTally
from tests.conftest import Clock
from tests.store.backends import BACKENDS, execute, opened
from workflow.cases import new_case

PROFILE = load_profile("ketapang")
TEXT = "Jalan di Desa Sukamaju berlubang besar, sudah dua motor jatuh minggu ini."
LEASE = 30.0
WIB = "Asia/Pontianak"
WITA = "Asia/Makassar"
NEW_YORK = "America/New_York"


@pytest.fixture(params=BACKENDS)
async def store(
    request: pytest.FixtureRequest, tmp_path: Path, clock: Clock
) -> AsyncIterator[Store]:
    async with opened(request.param, request, tmp_path, clock) as found:
        yield found


class Filer:
    """Files complaints at given instants and opens their cases as the test says."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store, self.clock = store, clock
        self.filed = 0
        self.events: dict[str, OutboxEvent] = {}  # claimed, by complaint

    async def file(self, at: datetime, **changes: Any) -> Complaint:
        self.filed += 1
        inbound = Inbound(
            channel=Channel.SMS,
            external_id=f"recap-{self.filed}",
            sender="+6281234567890",
            text=TEXT,
            received_at=at,
        )
        draft = normalize(inbound, PROFILE).model_copy(update=changes)
        return (await self.store.intake(draft)).complaint

    async def open(self, complaint: Complaint, **changes: Any) -> Case:
        """Its case, with these values (deadlines counted from receipt unless given)."""
        for event in await self.store.claim_events(100, LEASE, self.clock.now):
            self.events[event.complaint_id] = event
        case = new_case(complaint, PROFILE, self.clock.now).model_copy(update=changes)
        assert await self.store.open_case(self.events.pop(complaint.id), case)
        return case


@pytest.fixture
def filer(store: Store, clock: Clock) -> Filer:
    return Filer(store, clock)


async def tallied(store: Store, zone: str, since: datetime, until: datetime) -> RecapTally:
    return await store.recap_tally(since, until, zone)


def received_on(tally: RecapTally) -> dict[date, int]:
    counted: dict[date, int] = {}
    for (day, _), n in tally.received.items():
        counted[day] = counted.get(day, 0) + n
    return counted


def local(
    zone: str, year: int, month: int, day: int, hour: int, minute: int, fold: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(zone), fold=fold)


# -- local dates at the day boundary --------------------------------------------------------

# (zone, 23:30 on the first day, 00:30 on the next): both the same day in UTC.
BOUNDARIES = [
    pytest.param(WIB, (2026, 8, 16), (2026, 8, 17), id="wib"),
    pytest.param(WITA, (2026, 8, 16), (2026, 8, 17), id="wita"),
    # The night before daylight saving time starts (2:00 on 8 March) and ends (1 November).
    pytest.param(NEW_YORK, (2026, 3, 7), (2026, 3, 8), id="new-york-into-dst"),
    pytest.param(NEW_YORK, (2026, 10, 31), (2026, 11, 1), id="new-york-out-of-dst"),
    # UTC+05:45: local midnight falls within an hour of UTC.
    pytest.param("Asia/Kathmandu", (2026, 8, 16), (2026, 8, 17), id="kathmandu"),
]


@pytest.mark.parametrize(("zone", "day", "next_day"), BOUNDARIES)
async def test_local_dates_at_the_day_boundary(
    store: Store,
    filer: Filer,
    zone: str,
    day: tuple[int, int, int],
    next_day: tuple[int, int, int],
) -> None:
    """23:30 and 00:30 local are one day apart, though the same day in UTC: receipt,
    verification and answer alike."""
    late, early = local(zone, *day, 23, 30), local(zone, *next_day, 0, 30)
    assert late.astimezone(UTC).date() == early.astimezone(UTC).date()
    first, second = date(*day), date(*next_day)
    verified = await filer.file(late)
    await filer.open(verified, verified_at=late, answered_at=early)
    answered = await filer.file(early)
    await filer.open(answered, verified_at=early, answered_at=late + timedelta(days=1))
    found = await tallied(store, zone, late - timedelta(days=1), early + timedelta(days=1))
    assert received_on(found) == {first: 1, second: 1}
    # By agency (none yet), date of receipt and date of the step.
    assert found.to_verify == {(None, first, first): 1, (None, second, second): 1}
    assert found.to_answer == {(None, first, second): 1, (None, second, second): 1}


async def test_the_last_microsecond_of_a_day_is_that_day(store: Store, filer: Filer) -> None:
    """23:59:59.999999 local is still the day it ends, received, verified and answered."""
    last = local(WIB, 2026, 8, 16, 23, 59) + timedelta(seconds=59, microseconds=999_999)
    complaint = await filer.file(last)
    await filer.open(complaint, verified_at=last, answered_at=last)
    found = await tallied(store, WIB, last - timedelta(days=1), last + timedelta(days=1))
    day = date(2026, 8, 16)
    assert received_on(found) == {day: 1}
    assert found.to_verify == {(None, day, day): 1}
    assert found.to_answer == {(None, day, day): 1}


async def test_the_repeated_hour_when_dst_ends_is_still_that_day(
    store: Store, filer: Filer
) -> None:
    """1:30 on 1 November 2026 happens twice in New York (EDT, then EST): both are 1 November,
    and 23:30 EST that evening too."""
    first = local(NEW_YORK, 2026, 11, 1, 1, 30)
    second = local(NEW_YORK, 2026, 11, 1, 1, 30, fold=1)
    evening = local(NEW_YORK, 2026, 11, 1, 23, 30)
    assert second.astimezone(UTC) - first.astimezone(UTC) == timedelta(hours=1)
    for at in (first, second, evening):
        await filer.file(at)
    found = await tallied(store, NEW_YORK, first - timedelta(hours=2), evening + timedelta(hours=1))
    assert received_on(found) == {date(2026, 11, 1): 3}


async def test_the_same_complaints_in_another_zone_fall_on_other_dates(
    store: Store, filer: Filer
) -> None:
    """The zone is the caller's: 16:30 UTC is 23:30 in Ketapang and 00:30 in Soppeng."""
    at = datetime(2026, 8, 16, 16, 30, tzinfo=UTC)
    await filer.file(at)
    since, until = at - timedelta(days=1), at + timedelta(days=1)
    assert received_on(await tallied(store, WIB, since, until)) == {date(2026, 8, 16): 1}
    assert received_on(await tallied(store, WITA, since, until)) == {date(2026, 8, 17): 1}
    assert received_on(await tallied(store, NEW_YORK, since, until)) == {date(2026, 8, 16): 1}


async def test_an_unknown_zone_is_refused_before_the_query(store: Store) -> None:
    now = datetime(2026, 8, 16, tzinfo=UTC)
    with pytest.raises(ZoneInfoNotFoundError):
        await tallied(store, "Asia/Ketapang", now, now + timedelta(days=1))


# -- what a group holds ---------------------------------------------------------------------


async def test_alike_complaints_add_up_whatever_their_groups(store: Store, filer: Filer) -> None:
    """Counted alike: same channel, category, classification, state, agency, local dates and
    deadlines kept; the period includes its start and excludes its end."""
    start = local(WIB, 2026, 8, 14, 0, 0)
    end = local(WIB, 2026, 8, 15, 0, 0)
    for minutes in (0, 60, 23 * 60 + 59):
        await filer.file(start + timedelta(minutes=minutes))
    await filer.file(start - timedelta(microseconds=1))  # the day before
    await filer.file(end)  # the day after
    web = await filer.file(start + timedelta(hours=2), channel=Channel.WEB)
    await filer.open(web)
    found = await tallied(store, WIB, start, end)

    def kind(channel: str, state: str | None) -> RecapKind:
        return RecapKind(
            state=state,
            channel=channel,
            category=web.category,
            classification=web.classification,
            agency=None,
            verified=False,
            answered=False,
            verified_in_time=False,
            answered_in_time=False,
        )

    # The SMS ones have no case yet: the dispatcher has not opened them.
    assert found.kinds == Counter({kind("web", "diterima"): 1, kind("sms", None): 3})
    assert found.received == Counter({(date(2026, 8, 14), "web"): 1, (date(2026, 8, 14), "sms"): 3})
    assert found.to_verify == found.to_answer == Counter()


async def test_deadlines_are_kept_strictly_before_they_end(store: Store, filer: Filer) -> None:
    """Verified or answered at the very instant its deadline ends is late; a microsecond
    before is in time."""
    received = local(WIB, 2026, 8, 14, 10, 0)
    late, in_time = await filer.file(received), await filer.file(received)
    case = await filer.open(late)  # the deadlines, counted from receipt
    verify_due, complete_due = case.verification_due_at, case.completion_due_at
    at_the_end = "UPDATE cases SET verified_at = ?, answered_at = ? WHERE complaint_id = ?"
    assert execute(store, at_the_end, (verify_due, complete_due, late.id)) == 1
    instant = timedelta(microseconds=1)
    await filer.open(in_time, verified_at=verify_due - instant, answered_at=complete_due - instant)
    found = await tallied(store, WIB, received, received + timedelta(hours=1))
    kept = {(k.verified_in_time, k.answered_in_time): n for k, n in found.kinds.items()}
    assert kept == {(False, False): 1, (True, True): 1}


async def test_the_agency_is_the_cases_else_the_last_it_was_with(
    store: Store, filer: Filer
) -> None:
    received = local(WIB, 2026, 8, 14, 10, 0)
    with_agency = await filer.file(received)
    await filer.open(with_agency, agency="PUPR", state="diteruskan")
    sent_back = await filer.file(received)
    await filer.open(sent_back, agency="PUPR", state="diteruskan")
    # Then with DINKES, and sent back to the Admin Penghubung: no agency now.
    stint = "INSERT INTO case_agencies (complaint_id, agency, since) VALUES (?, 'DINKES', ?)"
    assert execute(store, stint, (sent_back.id, received + timedelta(days=1))) == 1
    moved = "UPDATE cases SET agency = NULL, state = 'diterima' WHERE complaint_id = ?"
    assert execute(store, moved, (sent_back.id,)) == 1
    never = await filer.file(received)
    await filer.open(never)
    found = await tallied(store, WIB, received, received + timedelta(hours=1))
    assert {(k.state, k.agency): n for k, n in found.kinds.items()} == {
        ("diteruskan", "PUPR"): 1,
        ("diterima", "DINKES"): 1,
        ("diterima", None): 1,
    }


# -- the SQLite store's SQL function ---------------------------------------------------------


@pytest.mark.parametrize(
    "zone",
    [
        WIB,
        WITA,
        NEW_YORK,
        "Asia/Kathmandu",  # +05:45
        "Australia/Lord_Howe",  # +10:30, half an hour more in summer
        "Pacific/Chatham",  # +12:45 / +13:45
        "America/Santiago",  # its clocks change at midnight
        "America/St_Johns",  # -03:30 / -02:30
        "Africa/Casablanca",  # an hour less during Ramadan
    ],
)
def test_local_dates_are_zoneinfos_all_year(zone: str) -> None:
    """Every 23 minutes and 17.000321 seconds through 2026 (so every minute of the hour in
    turn): the recap's local dates of the whole seconds SQLite gives, known for most hours
    whole from one value, agree with zoneinfo's own conversion of each instant."""
    tz = ZoneInfo(zone)
    local = _LocalDates(tz)
    step = timedelta(minutes=23, seconds=17, microseconds=321)
    at = datetime(2026, 1, 1, tzinfo=UTC)
    while at.year == 2026:
        assert local(math.floor(at.timestamp())) == at.astimezone(tz).date(), at
        at += step
