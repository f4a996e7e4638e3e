"""Working-day deadlines, checked against dates counted by hand.

Ketapang is Asia/Pontianak (WIB, UTC+7), Soppeng Asia/Makassar (WITA, UTC+8).
Non-working days used below, from holidays 0.109 (public + government categories):
  2026-03-18 Wed  cuti bersama Nyepi        2026-03-19 Thu  Nyepi
  2026-03-20 Fri  cuti bersama Idulfitri    2026-03-21/22   Idulfitri (Sat/Sun)
  2026-03-23 Mon  cuti bersama Idulfitri    2026-03-24 Tue  cuti bersama Idulfitri
  2026-04-03 Fri  Good Friday               2026-08-17 Mon  Independence Day
  2026-08-25 Tue  Maulid Nabi               2026-12-24 Thu  cuti bersama Natal
  2026-12-25 Fri  Christmas                 2027-01-01 Fri  New Year
  2027-01-05 Tue  Isra Mi'raj
and Soppeng's own (test) day off, 2026-10-14 Wed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config.profile import Profile
from workflow.calendar import Deadline, WorkingCalendar, case_deadlines

SOPPENG_DAY_OFF = date(2026, 10, 14)


def _profile(key: str, zone: str, sla: dict[str, int], **extra: Any) -> Profile:
    return Profile.model_validate(
        {
            "key": key,
            "regency": f"Kabupaten {key.title()}",
            "timezone": zone,
            "office": {
                "government": f"Pemerintah Kabupaten {key.title()}",
                "department": "Bagian Organisasi",
                "address": "Jl. Jenderal Sudirman No. 1",
            },
            "sla": sla,
            "agencies": [{"code": "DPUPR", "name": "Dinas Pekerjaan Umum"}],
            "categories": [{"code": "jalan_rusak", "name": "Jalan Rusak", "agency": "DPUPR"}],
            "kecamatan": ["Kecamatan Satu"],
            **extra,
        }
    )


@pytest.fixture(scope="module")
def profiles() -> dict[str, Profile]:
    return {
        "ketapang": _profile(
            "ketapang",
            "Asia/Pontianak",
            {"verification_working_days": 3, "completion_working_days": 5},
        ),
        "soppeng": _profile(
            "soppeng",
            "Asia/Makassar",
            {"verification_working_days": 3, "completion_working_days": 10},
            extra_holidays=[SOPPENG_DAY_OFF.isoformat()],
        ),
    }


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# (profile, received_at UTC, working days, due_date, due_at UTC); pytest names each case
# from these values, e.g. ketapang-2026-08-14T03:00-5-2026-08-24-2026-08-24T17:00.
CASES = [
    # Friday 2026-08-14, 10:00 WIB / 11:00 WITA; Monday 17 is Independence Day.
    ("ketapang", "2026-08-14T03:00", 5, "2026-08-24", "2026-08-24T17:00"),
    ("soppeng", "2026-08-14T03:00", 3, "2026-08-20", "2026-08-20T16:00"),
    ("ketapang", "2026-08-14T03:00", 3, "2026-08-20", "2026-08-20T17:00"),
    ("soppeng", "2026-08-14T03:00", 5, "2026-08-24", "2026-08-24T16:00"),
    # ...and on past Maulid Nabi (Tue 25).
    ("ketapang", "2026-08-14T03:00", 6, "2026-08-26", "2026-08-26T17:00"),
    ("soppeng", "2026-08-14T03:00", 10, "2026-09-01", "2026-09-01T16:00"),
    # Late Friday UTC is already Saturday 15 local in both zones.
    ("ketapang", "2026-08-14T23:30", 5, "2026-08-24", "2026-08-24T17:00"),
    ("soppeng", "2026-08-14T23:30", 3, "2026-08-20", "2026-08-20T16:00"),
    # Thursday UTC: 23:30 Thursday in Ketapang but 00:30 Friday in Soppeng.
    ("ketapang", "2026-09-03T16:30", 1, "2026-09-04", "2026-09-04T17:00"),
    ("soppeng", "2026-09-03T16:30", 1, "2026-09-07", "2026-09-07T16:00"),
    ("soppeng", "2026-09-03T23:30", 3, "2026-09-09", "2026-09-09T16:00"),
    # Received on a Saturday morning.
    ("ketapang", "2026-09-05T02:00", 3, "2026-09-09", "2026-09-09T17:00"),
    ("soppeng", "2026-09-05T02:00", 3, "2026-09-09", "2026-09-09T16:00"),
    # Received on a Sunday evening, 20:00 local.
    ("ketapang", "2026-09-06T13:00", 3, "2026-09-09", "2026-09-09T17:00"),
    ("soppeng", "2026-09-06T12:00", 3, "2026-09-09", "2026-09-09T16:00"),
    # Sunday 23:30 in Ketapang is already Monday 00:30 in Soppeng: Monday is not day 1.
    ("ketapang", "2026-09-06T16:30", 3, "2026-09-09", "2026-09-09T17:00"),
    ("soppeng", "2026-09-06T16:30", 3, "2026-09-10", "2026-09-10T16:00"),
    # Idulfitri 2026: Tuesday 17 March, 10:00 local; Wed 18 to Tue 24 are all off.
    ("ketapang", "2026-03-17T03:00", 3, "2026-03-27", "2026-03-27T17:00"),
    ("ketapang", "2026-03-17T03:00", 5, "2026-03-31", "2026-03-31T17:00"),
    ("soppeng", "2026-03-17T02:00", 3, "2026-03-27", "2026-03-27T16:00"),
    ("soppeng", "2026-03-17T02:00", 10, "2026-04-08", "2026-04-08T16:00"),
    # Friday 13 March: Mon 16 and Tue 17 count, then nothing until Wed 25.
    ("ketapang", "2026-03-13T03:00", 5, "2026-03-27", "2026-03-27T17:00"),
    # Received on Idulfitri itself (Saturday 21 March).
    ("soppeng", "2026-03-21T02:00", 1, "2026-03-25", "2026-03-25T16:00"),
    # Wednesday 23 December 2026, 14:00 local, into 2027.
    ("ketapang", "2026-12-23T07:00", 3, "2026-12-30", "2026-12-30T17:00"),
    ("ketapang", "2026-12-23T07:00", 5, "2027-01-04", "2027-01-04T17:00"),
    ("soppeng", "2026-12-23T06:00", 5, "2027-01-04", "2027-01-04T16:00"),
    ("soppeng", "2026-12-23T06:00", 10, "2027-01-12", "2027-01-12T16:00"),
    # Due on 31 December: the exclusive bound is New Year's midnight local, still 2026 in UTC.
    ("ketapang", "2026-12-29T02:00", 2, "2026-12-31", "2026-12-31T17:00"),
    # Friday 9 October 2026: Soppeng's own day off (Wed 14) is skipped, Ketapang's is not.
    ("ketapang", "2026-10-09T03:00", 3, "2026-10-14", "2026-10-14T17:00"),
    ("soppeng", "2026-10-09T02:00", 3, "2026-10-15", "2026-10-15T16:00"),
    ("soppeng", "2026-10-13T02:00", 1, "2026-10-15", "2026-10-15T16:00"),
]


@pytest.mark.parametrize(("key", "received", "days", "due_date", "due_at"), CASES)
def test_add_working_days(
    profiles: dict[str, Profile], key: str, received: str, days: int, due_date: str, due_at: str
) -> None:
    calendar = WorkingCalendar.for_profile(profiles[key])
    deadline = calendar.add_working_days(utc(received), days)
    assert deadline == Deadline(date.fromisoformat(due_date), utc(due_at))


@pytest.mark.parametrize(("key", "received", "days", "due_date", "due_at"), CASES)
def test_due_at_is_utc_midnight_after_due_date(
    profiles: dict[str, Profile], key: str, received: str, days: int, due_date: str, due_at: str
) -> None:
    profile = profiles[key]
    deadline = WorkingCalendar.for_profile(profile).add_working_days(utc(received), days)
    assert deadline.due_at.tzinfo is UTC
    local = deadline.due_at.astimezone(profile.zone)
    assert local.time() == time(0, 0)
    assert local.date() == deadline.due_date + timedelta(days=1)


@pytest.mark.parametrize(
    ("key", "day", "working"),
    [
        ("ketapang", "2026-08-14", True),  # Friday
        ("ketapang", "2026-08-15", False),  # Saturday
        ("ketapang", "2026-08-16", False),  # Sunday
        ("ketapang", "2026-08-17", False),  # Independence Day
        ("soppeng", "2026-08-18", True),
        ("soppeng", "2026-08-25", False),  # Maulid Nabi
        ("ketapang", "2026-02-16", False),  # cuti bersama Imlek
        ("ketapang", "2026-03-18", False),  # cuti bersama Nyepi
        ("soppeng", "2026-03-20", False),  # cuti bersama Idulfitri
        ("soppeng", "2026-03-23", False),  # cuti bersama Idulfitri
        ("ketapang", "2026-03-25", True),
        ("ketapang", "2026-05-15", False),  # cuti bersama Kenaikan
        ("soppeng", "2026-05-28", False),  # cuti bersama Iduladha
        ("ketapang", "2026-12-24", False),  # cuti bersama Natal
        ("ketapang", "2026-12-31", True),
        ("soppeng", "2027-01-01", False),  # New Year
        ("soppeng", "2027-01-05", False),  # Isra Mi'raj
        ("ketapang", "2026-10-14", True),
        ("soppeng", "2026-10-14", False),  # the profile's extra day off
    ],
)
def test_is_working_day(profiles: dict[str, Profile], key: str, day: str, working: bool) -> None:
    calendar = WorkingCalendar.for_profile(profiles[key])
    assert calendar.is_working_day(date.fromisoformat(day)) is working


def test_case_deadlines_use_each_profiles_sla(profiles: dict[str, Profile]) -> None:
    received = utc("2026-08-14T03:00")
    assert case_deadlines(profiles["ketapang"], received) == (
        Deadline(date(2026, 8, 20), utc("2026-08-20T17:00")),
        Deadline(date(2026, 8, 24), utc("2026-08-24T17:00")),
    )
    assert case_deadlines(profiles["soppeng"], received) == (
        Deadline(date(2026, 8, 20), utc("2026-08-20T16:00")),
        Deadline(date(2026, 9, 1), utc("2026-09-01T16:00")),
    )


def test_received_at_in_another_offset_means_the_same_instant(
    profiles: dict[str, Profile],
) -> None:
    calendar = WorkingCalendar.for_profile(profiles["soppeng"])
    wita = timezone(timedelta(hours=8))
    local = datetime(2026, 9, 4, 0, 30, tzinfo=wita)  # 2026-09-03T16:30Z
    assert calendar.add_working_days(local, 1) == calendar.add_working_days(
        utc("2026-09-03T16:30"), 1
    )


def test_naive_received_at_is_refused(profiles: dict[str, Profile]) -> None:
    calendar = WorkingCalendar.for_profile(profiles["ketapang"])
    with pytest.raises(ValueError, match="aware"):
        calendar.add_working_days(datetime(2026, 8, 14, 10, 0), 3)


@pytest.mark.parametrize("days", [0, -1])
def test_days_must_be_positive(profiles: dict[str, Profile], days: int) -> None:
    calendar = WorkingCalendar.for_profile(profiles["ketapang"])
    with pytest.raises(ValueError, match="at least 1"):
        calendar.add_working_days(utc("2026-08-14T03:00"), days)


def test_calendar_is_cached_per_profile(profiles: dict[str, Profile]) -> None:
    ketapang = WorkingCalendar.for_profile(profiles["ketapang"])
    assert WorkingCalendar.for_profile(profiles["ketapang"]) is ketapang
    assert WorkingCalendar.for_profile(profiles["soppeng"]) is not ketapang


def test_reloaded_profile_with_other_days_off_is_not_served_stale(
    profiles: dict[str, Profile],
) -> None:
    data = profiles["ketapang"].model_dump()
    data["extra_holidays"] = [date(2026, 10, 14)]
    changed = Profile.model_validate(data)
    assert not WorkingCalendar.for_profile(changed).is_working_day(date(2026, 10, 14))
    assert WorkingCalendar.for_profile(profiles["ketapang"]).is_working_day(date(2026, 10, 14))


# -- working days between two dates -------------------------------------------------------


@pytest.mark.parametrize(("key", "received", "days", "due_date", "due_at"), CASES)
def test_working_days_between_dates_counts_back_to_the_deadline(
    profiles: dict[str, Profile], key: str, received: str, days: int, due_date: str, due_at: str
) -> None:
    """From the local date of receipt to the deadline's date is the deadline's working days,
    and back again as many less."""
    profile = profiles[key]
    calendar = WorkingCalendar.for_profile(profile)
    first, last = utc(received).astimezone(profile.zone).date(), date.fromisoformat(due_date)
    assert calendar.working_days_between_dates(first, last) == days
    assert calendar.working_days_between_dates(last, first) == -days


@pytest.mark.parametrize(
    ("key", "first", "last", "days"),
    [
        ("ketapang", "2026-08-14", "2026-08-14", 0),  # one day
        ("ketapang", "2026-08-14", "2026-08-17", 0),  # Friday to Independence Day
        ("ketapang", "2026-08-15", "2026-08-18", 1),  # from a Saturday
        ("ketapang", "2026-03-17", "2026-03-25", 1),  # over Nyepi and Idulfitri
        ("ketapang", "2026-10-13", "2026-10-15", 2),
        ("soppeng", "2026-10-13", "2026-10-15", 1),  # its own day off
        ("ketapang", "2026-12-31", "2027-01-01", 0),  # into New Year's Day
        ("ketapang", "2026-12-31", "2027-01-06", 2),  # Mon 4, Wed 6; Tue 5 Isra Mi'raj
        ("ketapang", "2027-01-06", "2026-12-31", -2),
    ],
)
def test_working_days_between_dates(
    profiles: dict[str, Profile], key: str, first: str, last: str, days: int
) -> None:
    calendar = WorkingCalendar.for_profile(profiles[key])
    between = calendar.working_days_between_dates(
        date.fromisoformat(first), date.fromisoformat(last)
    )
    assert between == days


@settings(max_examples=200, deadline=None)
@given(
    st.dates(date(2024, 1, 1), date(2028, 12, 31)),
    st.dates(date(2024, 1, 1), date(2028, 12, 31)),
)
def test_working_days_between_dates_is_the_count_day_by_day(first: date, last: date) -> None:
    """Over any years, either way round: the working days after `first` up to `last`."""
    calendar = WorkingCalendar(ZoneInfo("Asia/Makassar"), [date(2026, 10, 14)])
    low, high = sorted((first, last))
    days = sum(calendar.is_working_day(low + timedelta(n)) for n in range(1, (high - low).days + 1))
    assert calendar.working_days_between_dates(first, last) == (days if first <= last else -days)


def test_working_days_between_instants_counts_their_local_dates(
    profiles: dict[str, Profile],
) -> None:
    """Sunday 16:30 UTC is still Sunday in Ketapang but already Monday in Soppeng: to
    Monday morning is a working day in one and none in the other."""
    sunday_night, monday = utc("2026-09-06T16:30"), utc("2026-09-07T03:00")
    for key, days in (("ketapang", 1), ("soppeng", 0)):
        profile = profiles[key]
        calendar = WorkingCalendar.for_profile(profile)
        assert calendar.working_days_between(sunday_night, monday) == days
        first, last = sunday_night.astimezone(profile.zone), monday.astimezone(profile.zone)
        assert calendar.working_days_between_dates(first.date(), last.date()) == days
