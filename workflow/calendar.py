"""Working-day deadlines for LAPOR! cases.

Invariant: times are UTC inside, local at the edges. A deadline is counted in the
regency's own calendar (its local dates, its days off) but handed back as a UTC instant
so the store and the overdue checks never have to know about time zones.
"""

from __future__ import annotations

from calendar import isleap
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays

from config.profile import Profile

_SATURDAY = 5
_LAST_INSTANT = timedelta(microseconds=1)
_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Deadline:
    """The last working day allowed, and the instant it is over.

    `due_at` is an exclusive bound: the case is overdue iff now >= due_at.
    """

    due_date: date
    due_at: datetime


@cache
def _national_holidays() -> holidays.HolidayBase:
    # One table for the whole country, shared by every regency. Built without years:
    # with expand=True each year is computed the first time a date in it is asked for.
    # "government" adds the cuti bersama (collective leave) days, when offices are
    # closed although the day is not a public holiday.
    return holidays.country_holidays("ID", categories=("public", "government"))


class WorkingCalendar:
    """The working days of one regency's offices."""

    def __init__(self, zone: ZoneInfo, extra_holidays: Iterable[date] = ()) -> None:
        self.zone = zone
        self.extra_holidays = frozenset(extra_holidays)
        self._deadlines: dict[tuple[date, int], Deadline] = {}
        self._years: dict[int, tuple[int, list[int]]] = {}

    @classmethod
    def for_profile(cls, profile: Profile) -> WorkingCalendar:
        # The key includes what the calendar is built from, so a profile reloaded
        # with other regional days off is not served a stale calendar.
        key = (profile.key, profile.timezone, tuple(sorted(profile.extra_holidays)))
        calendar = _CALENDARS.get(key)
        if calendar is None:
            calendar = _CALENDARS[key] = cls(profile.zone, profile.extra_holidays)
        return calendar

    def is_working_day(self, d: date) -> bool:
        if d.weekday() >= _SATURDAY or d in self.extra_holidays:
            return False
        return d not in _national_holidays()

    def add_working_days(self, received_at: datetime, days: int) -> Deadline:
        """The deadline `days` working days after a complaint was received.

        - `received_at` must be aware; it is converted to the regency's local time and
          only its local date counts (23:30 UTC on a Friday is already Saturday in WIB and WITA).
        - Day 1 is the first working day after that date, whether or not the day of
          receipt was itself a working day: a report sent on a working day gets no
          credit for the rest of that day.
        - Non-working days: Saturdays, Sundays, national public holidays, cuti bersama
          and the profile's `extra_holidays`.
        - The deadline is the end of the Nth working day, local time: `due_date` is that
          day and `due_at` the UTC instant of the local midnight that starts the next day.
        """
        if received_at.tzinfo is None or received_at.utcoffset() is None:
            raise ValueError("received_at must be an aware datetime")
        if days < 1:
            raise ValueError(f"days must be at least 1, not {days}")
        return self._deadline(received_at.astimezone(self.zone).date(), days)

    def working_days_between(self, start: datetime, end: datetime) -> int:
        """Working days after the local day of `start`, up to and including that of `end`
        (negative when `end` comes first): 0 for one day, as deadlines count (day 1 is the
        next working day)."""
        return self.working_days_between_dates(
            start.astimezone(self.zone).date(), end.astimezone(self.zone).date()
        )

    def working_days_between_dates(self, first: date, last: date) -> int:
        """Working days after the local date `first`, up to and including `last` (negative
        when `last` comes first): 0 for one day.

        From a running count of each year's working days, counted once: a year's recap
        asks this for thousands of pairs of days."""
        if last < first:
            return -self.working_days_between_dates(last, first)
        since, running = self._year(first.year)
        days = -running[first.toordinal() - since]
        for year in range(first.year, last.year):
            days += self._year(year)[1][-1]
        since, running = self._year(last.year)
        return days + running[last.toordinal() - since]

    def _year(self, year: int) -> tuple[int, list[int]]:
        """The ordinal of 1 January of `year`, and the working days from then up to and
        including each day of the year."""
        known = self._years.get(year)
        if known is None:
            since = date(year, 1, 1).toordinal()
            running, days = [], 0
            for n in range(366 if isleap(year) else 365):
                days += self.is_working_day(date.fromordinal(since + n))
                running.append(days)
            known = self._years[year] = (since, running)
        return known

    def working_days_left(self, now: datetime, due_at: datetime) -> int:
        """Working days left until a deadline (`due_at`, the instant its last day ends): 0 on
        that last day, negative once it has passed (at least one day late)."""
        left = self.working_days_between(now, due_at - _LAST_INSTANT)
        return min(left, -1) if now >= due_at else left

    def last_day(self, due_at: datetime) -> date:
        """The local date a deadline falls on (`due_at` is the instant that day ends)."""
        return (due_at - _LAST_INSTANT).astimezone(self.zone).date()

    def _deadline(self, received_on: date, days: int) -> Deadline:
        # Every complaint of one local day gets the same deadlines: counted once a day,
        # not once per complaint (on a busy day, thousands of times over).
        key = (received_on, days)
        deadline = self._deadlines.get(key)
        if deadline is None:
            day, counted = received_on, 0
            while counted < days:
                day += _ONE_DAY
                if self.is_working_day(day):
                    counted += 1
            if len(self._deadlines) >= _DEADLINES_KEPT:
                self._deadlines.clear()
            deadline = self._deadlines[key] = Deadline(due_date=day, due_at=self._end_of(day))
        return deadline

    def _end_of(self, d: date) -> datetime:
        midnight = datetime.combine(d + _ONE_DAY, time.min, tzinfo=self.zone)
        return midnight.astimezone(UTC)


_DEADLINES_KEPT = 1024  # days of receipt: years of them, a few hundred KB at most
_CALENDARS: dict[tuple[str, str, tuple[date, ...]], WorkingCalendar] = {}


def case_deadlines(profile: Profile, received_at: datetime) -> tuple[Deadline, Deadline]:
    """The (verification, completion) deadlines of a case, both counted from receipt."""
    calendar = WorkingCalendar.for_profile(profile)
    return (
        calendar.add_working_days(received_at, profile.sla.verification_working_days),
        calendar.add_working_days(received_at, profile.sla.completion_working_days),
    )
