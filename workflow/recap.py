"""The recap (step 10): what came in over a period and how it was handled.

Counts by state, channel, category, classification and agency (each adds up to the number
of complaints received in the period), and per agency how many were verified and answered
within their deadlines and the median working days it took; the complaints of each ISO week
by channel, and how far along the procedure they got (the funnel). Pure: the period's
complaints counted by the store in (store/workflow.py `RecapTally`), table out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache

from pydantic import BaseModel

from config.profile import Profile
from store.workflow import RecapTally
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


def make_recap(tally: RecapTally, profile: Profile, start: date, end: date) -> Recap:
    """The recap of the complaints received from `start` to `end`, counted in `tally`
    (local dates in the profile's time zone)."""
    calendar = WorkingCalendar.for_profile(profile)
    categories = {c.code: c.name for c in profile.categories}
    agencies = profile.agency_names

    def states(key: str) -> str:
        # A complaint the dispatcher has not opened yet reads as being recorded.
        return profile.message(f"state.{key if key != NONE else 'null'}")

    by_state: Counter[str] = Counter()
    by_channel: Counter[str] = Counter()
    by_category: Counter[str] = Counter()
    by_classification: Counter[str] = Counter()
    by_agency: Counter[str] = Counter()
    reached: Counter[int] = Counter()
    total = verified = verified_on_time = answered = answered_on_time = 0
    figures = {code: _AgencyFigures() for code in agencies}
    for kind, n in tally.kinds.items():
        state, channel, category, classification, agency, v, a, v_in_time, a_in_time = kind
        total += n
        by_state[state or NONE] += n
        by_channel[channel or NONE] += n
        by_category[category or NONE] += n
        by_classification[classification or NONE] += n
        by_agency[agency or NONE] += n
        if state is not None:
            reached[_reached(state, v, a)] += n
        verified += n * v
        verified_on_time += n * v_in_time
        answered += n * a
        answered_on_time += n * a_in_time
        # Only the profile's agencies: one since dropped counts in by_agency alone.
        if agency in figures:
            figures[agency].add(n, v_in_time, a_in_time)
    # Many agencies, and many complaints, share a pair of days.
    days_between = cache(calendar.working_days_between_dates)
    for (agency, received_on, verified_on), n in tally.to_verify.items():
        if agency in figures:
            figures[agency].to_verify[days_between(received_on, verified_on)] += n
    for (agency, received_on, answered_on), n in tally.to_answer.items():
        if agency in figures:
            figures[agency].to_answer[days_between(received_on, answered_on)] += n
    channels = _counts(by_channel, lambda k: k)
    return Recap(
        regency=profile.regency,
        period_from=start,
        period_to=end,
        total=total,
        by_state=_counts(by_state, states),
        by_channel=channels,
        by_category=_counts(by_category, lambda k: categories.get(k, k)),
        by_classification=_counts(by_classification, lambda k: k.replace("_", " ").capitalize()),
        by_agency=_counts(by_agency, lambda k: agencies.get(k, k)),
        agencies=[figures[code].recap(code, name) for code, name in agencies.items()],
        verified_on_time_percent=_percent(verified_on_time, verified),
        answered_on_time_percent=_percent(answered_on_time, answered),
        on_time_target_percent=profile.sla.on_time_target_percent,
        by_week=_weeks(tally.received, start, end, [c.key for c in channels]),
        funnel=[
            Count(
                key=s.value,
                label=states(s.value),
                count=sum(n for at, n in reached.items() if at >= i),
            )
            for i, s in enumerate(FUNNEL)
        ],
        closed_early=[
            Count(key=s.value, label=states(s.value), count=by_state[s.value]) for s in CLOSED_EARLY
        ],
    )


@dataclass(slots=True)
class _AgencyFigures:
    received: int = 0
    verified_on_time: int = 0
    answered_on_time: int = 0
    to_verify: Counter[int] = field(default_factory=Counter)
    """How many were verified after so many working days."""
    to_answer: Counter[int] = field(default_factory=Counter)

    def add(self, n: int, verified_in_time: bool, answered_in_time: bool) -> None:
        self.received += n
        self.verified_on_time += n * verified_in_time
        self.answered_on_time += n * answered_in_time

    def recap(self, code: str, name: str) -> AgencyRecap:
        verified = self.to_verify.total()
        answered = self.to_answer.total()
        return AgencyRecap(
            agency=code,
            name=name,
            received=self.received,
            verified=verified,
            verified_on_time=self.verified_on_time,
            answered=answered,
            answered_on_time=self.answered_on_time,
            answered_on_time_percent=_percent(self.answered_on_time, answered),
            median_working_days_to_verify=_median(self.to_verify),
            median_working_days_to_answer=_median(self.to_answer),
        )


def _counts(counted: Counter[str], label: Callable[[str], str]) -> list[Count]:
    return [
        Count(key=k, label=label(k), count=n)
        for k, n in sorted(counted.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


def _weeks(
    received: Counter[tuple[date, str]], start: date, end: date, channels: list[str]
) -> list[Week]:
    """Every ISO week from the one of `start` to the one of `end` (widened to any complaint
    received outside them, so the weeks always add up to the total)."""
    counted: Counter[tuple[date, str]] = Counter()
    for (day, channel), n in received.items():
        counted[_monday(day), channel] += n
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


def _reached(state: str, verified: bool, answered: bool) -> int:
    """The furthest step of FUNNEL a case has got to, by its state and its history: a case
    sent back to the Admin Penghubung after verification was still forwarded once."""
    step = _STEP.get(state, 0)
    if verified:
        step = max(step, _FORWARDED)
    if answered:
        step = max(step, _ANSWERED)
    return step


_FORWARDED, _ANSWERED = FUNNEL.index(S.DITERUSKAN), FUNNEL.index(S.DIJAWAB)


def _median(counted: Counter[int]) -> float | None:
    """The median of the values counted (`statistics.median` of them, each as many times
    as counted); None with none."""
    total = counted.total()
    if not total:
        return None
    # The middle value, or the two around the middle of an even number.
    low_at, high_at = (total - 1) // 2, total // 2
    low = high = None
    seen = 0
    for value, n in sorted(counted.items()):
        if low is None and seen + n > low_at:
            low = value
        if seen + n > high_at:
            high = value
            break
        seen += n
    assert low is not None and high is not None
    return (low + high) / 2


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None
