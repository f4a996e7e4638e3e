"""The recap (step 10): what came in over a period and how it was handled.

Counts by state, channel, category, classification and agency (each adds up to the number
of complaints received in the period), and per agency how many were verified and answered
within their deadlines and the median working days it took; the complaints of each ISO week
by channel, and how far along the procedure they got (the funnel). Pure: rows in, table out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import date, timedelta
from statistics import median

from pydantic import BaseModel

from config.profile import Profile
from store.workflow import RecapRow
from workflow.calendar import WorkingCalendar
from workflow.states import CaseState

S = CaseState

NONE = "-"
"""The key of complaints without a value: no case yet, no category, no agency."""

FUNNEL: tuple[CaseState, ...] = (
    S.DITERIMA, S.DITERUSKAN, S.DIDISPOSISI, S.DITINDAKLANJUTI, S.DISETUJUI, S.DIJAWAB,
    S.SELESAI,
)  # fmt: skip
"""The steps of the procedure's main path the funnel counts, in order."""
CLOSED_EARLY: tuple[CaseState, ...] = (S.DITOLAK, S.DIARSIPKAN)
"""Closed before an answer: rejected, or archived (a duplicate, a hold nobody answered)."""

_STEP: dict[str, int] = {
    S.DITERIMA: 0, S.DITUNDA: 0, S.DITOLAK: 0, S.DIARSIPKAN: 0,
    S.DITERUSKAN: 1, S.DIDISPOSISI: 2, S.DITINDAKLANJUTI: 3, S.MENUNGGU_PERSETUJUAN: 3,
    S.DISETUJUI: 4, S.DIJAWAB: 5, S.SELESAI: 6,
}  # fmt: skip
"""How far along FUNNEL a case in each state has got (a hold is still at receipt, a draft
waiting for approval is still being followed up)."""


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
    answered_on_time_percent: float | None
    """answered_on_time of answered, in percent; None with nothing answered."""
    median_working_days_to_verify: float | None
    median_working_days_to_answer: float | None


class Week(BaseModel):
    """The complaints received in one ISO week (Monday to Sunday, local dates)."""

    week: str
    """ISO 8601: '2026-W33'."""
    monday: date
    total: int
    by_channel: list[Count]
    """Only the channels with complaints that week, in the order of the period's
    `by_channel`."""


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
    on_time_target_percent: int
    """The profile's target for answers on time (`sla.on_time_target_percent`)."""
    by_week: list[Week]
    """Every ISO week the period touches, in order, with none left out (a week without
    complaints has total 0); the totals add up to `total`."""
    funnel: list[Count]
    """How many complaints got at least as far as each step of FUNNEL: a case counts in
    every step up to the one it is in (or reached before being sent back: verified, it
    was forwarded; answered, it was answered). A complaint without a case yet counts in
    none."""
    closed_early: list[Count]
    """How many were closed without an answer (ditolak, diarsipkan); the funnel counts
    them up to the step they had reached."""


def make_recap(rows: Sequence[RecapRow], profile: Profile, start: date, end: date) -> Recap:
    calendar = WorkingCalendar.for_profile(profile)
    categories = {c.code: c.name for c in profile.categories}
    agencies = profile.agency_names

    def states(key: str) -> str:
        # A complaint the dispatcher has not opened yet reads as being recorded.
        return profile.message(f"state.{key if key != NONE else 'null'}")

    verified = [r for r in rows if r.verified_at]
    answered = [r for r in rows if r.answered_at]
    by_channel = _counts(rows, lambda r: r.channel, lambda k: k)
    return Recap(
        regency=profile.regency,
        period_from=start,
        period_to=end,
        total=len(rows),
        by_state=_counts(rows, lambda r: r.state, states),
        by_channel=by_channel,
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
        on_time_target_percent=profile.sla.on_time_target_percent,
        by_week=_weeks(rows, profile, start, end, [c.key for c in by_channel]),
        funnel=_funnel(rows, states),
        closed_early=[
            Count(key=s.value, label=states(s.value), count=sum(r.state == s for r in rows))
            for s in CLOSED_EARLY
        ],
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


def _weeks(
    rows: Sequence[RecapRow], profile: Profile, start: date, end: date, channels: list[str]
) -> list[Week]:
    """Every ISO week from the one of `start` to the one of `end` (widened to any row
    received outside them, so the weeks always add up to the total)."""
    zone = profile.zone
    counted: Counter[tuple[date, str]] = Counter()
    for r in rows:
        day = r.received_at.astimezone(zone).date()
        counted[_monday(day), r.channel] += 1
    mondays = [_monday(start), _monday(end), *(monday for monday, _ in counted)]
    first, last = min(mondays), max(mondays)
    weeks = []
    for n in range((last - first).days // 7 + 1):
        monday = first + timedelta(weeks=n)
        year, week, _ = monday.isocalendar()
        found = [Count(key=c, label=c, count=counted[monday, c]) for c in channels]
        weeks.append(
            Week(
                week=f"{year}-W{week:02d}",
                monday=monday,
                total=sum(c.count for c in found),
                by_channel=[c for c in found if c.count],
            )
        )
    return weeks


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _funnel(rows: Sequence[RecapRow], label: Callable[[str], str]) -> list[Count]:
    reached = Counter(_reached(r) for r in rows if r.state is not None)
    return [
        Count(
            key=s.value, label=label(s.value), count=sum(n for at, n in reached.items() if at >= i)
        )
        for i, s in enumerate(FUNNEL)
    ]


def _reached(r: RecapRow) -> int:
    """The furthest step of FUNNEL the case has got to, by its state and its history: a
    case sent back to the Admin Penghubung after verification was still forwarded once."""
    step = _STEP.get(r.state, 0) if r.state is not None else 0
    if r.verified_at is not None:
        step = max(step, FUNNEL.index(S.DITERUSKAN))
    if r.answered_at is not None:
        step = max(step, FUNNEL.index(S.DIJAWAB))
    return step


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
    answered_on_time = sum(map(_answered_in_time, rows))
    return AgencyRecap(
        agency=code,
        name=name,
        received=len(rows),
        verified=len(to_verify),
        verified_on_time=sum(map(_verified_in_time, rows)),
        answered=len(to_answer),
        answered_on_time=answered_on_time,
        answered_on_time_percent=_percent(answered_on_time, len(to_answer)),
        median_working_days_to_verify=_median(to_verify),
        median_working_days_to_answer=_median(to_answer),
    )


def _median(values: list[int]) -> float | None:
    return float(median(values)) if values else None


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None
