"""The recap (step 10): what came in over a period and how it was handled.

Counts by state, channel, category, classification and agency (each adds up to the number
of complaints received in the period), and per agency how many were verified and answered
within their deadlines and the median working days it took. Pure: rows in, table out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from statistics import median

from pydantic import BaseModel

from config.profile import Profile
from store.workflow import RecapRow
from workflow.calendar import WorkingCalendar

NONE = "-"
"""The key of complaints without a value: no case yet, no category, no agency."""


class Count(BaseModel):
    key: str
    label: str
    count: int


class AgencyRecap(BaseModel):
    agency: str
    name: str
    received: int
    verified: int
    verified_on_time: int
    answered: int
    answered_on_time: int
    median_working_days_to_verify: float | None
    median_working_days_to_answer: float | None


class Recap(BaseModel):
    regency: str
    period_from: date
    period_to: date
    total: int
    by_state: list[Count]
    by_channel: list[Count]
    by_category: list[Count]
    by_classification: list[Count]
    by_agency: list[Count]
    agencies: list[AgencyRecap]
    verified_on_time_percent: float | None
    answered_on_time_percent: float | None


def make_recap(rows: Sequence[RecapRow], profile: Profile, start: date, end: date) -> Recap:
    calendar = WorkingCalendar.for_profile(profile)
    categories = {c.code: c.name for c in profile.categories}
    agencies = profile.agency_names

    def states(key: str) -> str:
        # A complaint the dispatcher has not opened yet reads as being recorded.
        return profile.message(f"state.{key if key != NONE else 'null'}")

    verified = [r for r in rows if r.verified_at]
    answered = [r for r in rows if r.answered_at]
    return Recap(
        regency=profile.regency,
        period_from=start,
        period_to=end,
        total=len(rows),
        by_state=_counts(rows, lambda r: r.state, states),
        by_channel=_counts(rows, lambda r: r.channel, lambda k: k),
        by_category=_counts(rows, lambda r: r.category, lambda k: categories.get(k, k)),
        by_classification=_counts(
            rows, lambda r: r.classification, lambda k: k.replace("_", " ").capitalize()
        ),
        by_agency=_counts(rows, lambda r: r.agency, lambda k: agencies.get(k, k)),
        agencies=[
            _agency(code, name, [r for r in rows if r.agency == code], calendar)
            for code, name in agencies.items()
        ],
        verified_on_time_percent=_percent(sum(map(_verified_in_time, verified)), len(verified)),
        answered_on_time_percent=_percent(sum(map(_answered_in_time, answered)), len(answered)),
    )


def _counts(
    rows: Iterable[RecapRow],
    key: Callable[[RecapRow], str | None],
    label: Callable[[str], str],
) -> list[Count]:
    counted = Counter(key(r) or NONE for r in rows)
    return [
        Count(key=k, label=label(k), count=n)
        for k, n in sorted(counted.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


def _verified_in_time(r: RecapRow) -> bool:
    due = r.verification_due_at
    return r.verified_at is not None and due is not None and r.verified_at < due


def _answered_in_time(r: RecapRow) -> bool:
    due = r.completion_due_at
    return r.answered_at is not None and due is not None and r.answered_at < due


def _agency(code: str, name: str, rows: list[RecapRow], calendar: WorkingCalendar) -> AgencyRecap:
    to_verify = [
        calendar.working_days_between(r.received_at, r.verified_at)
        for r in rows
        if r.verified_at is not None
    ]
    to_answer = [
        calendar.working_days_between(r.received_at, r.answered_at)
        for r in rows
        if r.answered_at is not None
    ]
    return AgencyRecap(
        agency=code,
        name=name,
        received=len(rows),
        verified=len(to_verify),
        verified_on_time=sum(map(_verified_in_time, rows)),
        answered=len(to_answer),
        answered_on_time=sum(map(_answered_in_time, rows)),
        median_working_days_to_verify=_median(to_verify),
        median_working_days_to_answer=_median(to_answer),
    )


def _median(values: list[int]) -> float | None:
    return float(median(values)) if values else None


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None
