"""The recap: counts that add up, per-agency deadlines kept and medians in working days.

Ketapang (Asia/Pontianak, WIB). Working days after Friday 14 August 2026: Tue 18, Wed 19,
Thu 20, Fri 21, Mon 24, Wed 26 (Mon 17 is Independence Day, Tue 25 Maulid Nabi)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config.profile import Profile, load_profile
from normalizer.models import Channel, Classification
from store.workflow import RecapKind, RecapTally
from workflow.calendar import WorkingCalendar
from workflow.recap import CLOSED_EARLY, FUNNEL, Count, Recap, make_recap
from workflow.states import CaseState

WIB = ZoneInfo("Asia/Pontianak")
PROFILE: Profile = load_profile("ketapang")
CALENDAR = WorkingCalendar.for_profile(PROFILE)
START, END = date(2026, 8, 1), date(2026, 8, 31)

RECEIVED = datetime(2026, 8, 14, 10, 0, tzinfo=WIB)
VERIFY_DUE = datetime(2026, 8, 21, 0, 0, tzinfo=WIB)  # after Thu 20 Aug
COMPLETE_DUE = datetime(2026, 8, 25, 0, 0, tzinfo=WIB)  # after Mon 24 Aug


def wib(day: int, hour: int = 9, minute: int = 0, month: int = 8) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=WIB)


class Group(NamedTuple):
    """Alike complaints as a store counts them into a tally, and how many."""

    kind: RecapKind
    received_on: date
    verified_on: date | None
    answered_on: date | None
    complaints: int


def tally(groups: list[Group]) -> RecapTally:
    counted = RecapTally()
    for g in groups:
        counted.add(g.kind, g.received_on, g.verified_on, g.answered_on, g.complaints)
    return counted


def group(
    *,
    channel: str,
    category: str | None,
    classification: str,
    received_at: datetime,
    state: str | None,
    agency: str | None,
    verification_due_at: datetime | None,
    completion_due_at: datetime | None,
    verified_at: datetime | None,
    answered_at: datetime | None,
    complaints: int = 1,
) -> Group:
    """Complaints with these times, as the store counts them: local dates (WIB) and
    whether each deadline was kept (tests/store/test_recap.py checks the store)."""

    def local(moment: datetime | None) -> date | None:
        return moment.astimezone(WIB).date() if moment is not None else None

    def kept(done: datetime | None, due: datetime | None) -> bool:
        return done is not None and due is not None and done < due

    kind = RecapKind(
        state=state,
        channel=channel,
        category=category,
        classification=classification,
        agency=agency,
        verified=verified_at is not None,
        answered=answered_at is not None,
        verified_in_time=kept(verified_at, verification_due_at),
        answered_in_time=kept(answered_at, completion_due_at),
    )
    return Group(
        kind,
        received_at.astimezone(WIB).date(),
        local(verified_at),
        local(answered_at),
        complaints,
    )


def row(**changes: Any) -> Group:
    """One complaint."""
    fields: dict[str, Any] = {
        "channel": "sms",
        "category": "jalan_jembatan",
        "classification": "pengaduan",
        "received_at": RECEIVED,
        "state": "diteruskan",
        "agency": "PUPR",
        "verification_due_at": VERIFY_DUE,
        "completion_due_at": COMPLETE_DUE,
        "verified_at": None,
        "answered_at": None,
    }
    fields.update(changes)
    return group(**fields)


ROWS = [
    # PUPR: verified after 1 working day (Tue 18), in time; not answered.
    row(verified_at=wib(18)),
    # PUPR: verified the same day (0), answered Mon 24 (5 days), both in time.
    row(channel="web", state="dijawab", verified_at=wib(14, 15), answered_at=wib(24, 10)),
    # PUPR: verified Fri 21 (4 days, late), answered Wed 26 (6 days, late).
    row(
        channel="app",
        category=None,
        classification="aspirasi",
        state="selesai",
        verified_at=wib(21),
        answered_at=wib(26),
    ),
    # DINKES: verified at the very instant the deadline ends: late (the bound is exclusive).
    row(category="kesehatan", agency="DINKES", verified_at=VERIFY_DUE),
    # Not yet dispatched: no case, so no state, agency or deadlines.
    row(
        channel="email",
        category=None,
        state=None,
        agency=None,
        verification_due_at=None,
        completion_due_at=None,
    ),
    # Received, waiting for verification: no agency yet.
    row(channel="sms", category=None, state="diterima", agency=None),
]


def counts(section: list[Count]) -> dict[str, int]:
    return {c.key: c.count for c in section}


def sections(recap: Recap) -> dict[str, list[Count]]:
    return {
        "by_state": recap.by_state,
        "by_channel": recap.by_channel,
        "by_category": recap.by_category,
        "by_classification": recap.by_classification,
        "by_agency": recap.by_agency,
    }


@pytest.fixture(scope="module")
def recap() -> Recap:
    return make_recap(tally(ROWS), PROFILE, START, END)


def test_header(recap: Recap) -> None:
    assert recap.regency == "Kabupaten Ketapang"
    assert (recap.period_from, recap.period_to) == (START, END)
    assert recap.total == 6


def test_every_section_adds_up_to_the_total(recap: Recap) -> None:
    for name, section in sections(recap).items():
        assert sum(c.count for c in section) == recap.total, name


def test_section_counts(recap: Recap) -> None:
    """Rows without a value count under "-": no case yet, no category, no agency."""
    assert counts(recap.by_state) == {
        "diteruskan": 2,
        "dijawab": 1,
        "selesai": 1,
        "-": 1,
        "diterima": 1,
    }
    assert counts(recap.by_channel) == {"sms": 3, "web": 1, "app": 1, "email": 1}
    assert counts(recap.by_category) == {"-": 3, "jalan_jembatan": 2, "kesehatan": 1}
    assert counts(recap.by_classification) == {"pengaduan": 5, "aspirasi": 1}
    assert counts(recap.by_agency) == {"PUPR": 3, "-": 2, "DINKES": 1}


def test_sections_are_sorted_by_count_then_key(recap: Recap) -> None:
    for section in sections(recap).values():
        keys = [(-c.count, c.key) for c in section]
        assert keys == sorted(keys)


def test_labels(recap: Recap) -> None:
    """Keys are labelled in the profile's words; a missing category or agency is "-"."""
    state_labels = {c.key: c.label for c in recap.by_state}
    assert state_labels["diteruskan"] == PROFILE.message("state.diteruskan")
    assert state_labels["diterima"] == PROFILE.message("state.diterima")
    category_labels = {c.key: c.label for c in recap.by_category}
    assert category_labels["jalan_jembatan"] == "Jalan, Jembatan dan Drainase"
    assert category_labels["-"] == "-"
    agency_labels = {c.key: c.label for c in recap.by_agency}
    assert agency_labels["PUPR"] == PROFILE.agency_names["PUPR"]
    assert agency_labels["-"] == "-"
    classification_labels = {c.key: c.label for c in recap.by_classification}
    assert classification_labels["pengaduan"] == "Pengaduan"


def test_per_agency_figures(recap: Recap) -> None:
    """Verified and answered, in time, and the medians in working days, per agency."""
    by_code = {a.agency: a for a in recap.agencies}
    assert list(by_code) == list(PROFILE.agency_names)
    pupr = by_code["PUPR"]
    assert pupr.name == PROFILE.agency_names["PUPR"]
    assert (pupr.received, pupr.verified, pupr.verified_on_time) == (3, 3, 2)
    assert (pupr.answered, pupr.answered_on_time) == (2, 1)
    assert pupr.median_working_days_to_verify == 1.0  # of 1, 0, 4
    assert pupr.median_working_days_to_answer == 5.5  # of 5, 6
    dinkes = by_code["DINKES"]
    assert (dinkes.received, dinkes.verified, dinkes.verified_on_time) == (1, 1, 0)
    assert (dinkes.answered, dinkes.answered_on_time) == (0, 0)
    assert dinkes.median_working_days_to_verify == 4.0  # Fri 21 00:00 WIB
    assert dinkes.median_working_days_to_answer is None
    pdam = by_code["PDAM"]
    assert (pdam.received, pdam.verified, pdam.answered) == (0, 0, 0)
    assert pdam.median_working_days_to_verify is None
    assert pdam.median_working_days_to_answer is None


def test_per_agency_answers_on_time_in_percent(recap: Recap) -> None:
    """What the console's on-time chart draws: answered in time of answered, per agency."""
    by_code = {a.agency: a for a in recap.agencies}
    assert by_code["PUPR"].answered_on_time_percent == 50.0  # 1 of 2
    assert by_code["DINKES"].answered_on_time_percent is None  # nothing answered


def test_the_on_time_target_is_the_profiles() -> None:
    assert make_recap(tally([]), PROFILE, START, END).on_time_target_percent == 90
    stricter = PROFILE.model_copy(
        update={"sla": PROFILE.sla.model_copy(update={"on_time_target_percent": 95})}
    )
    assert make_recap(tally([]), stricter, START, END).on_time_target_percent == 95


def test_on_time_percentages(recap: Recap) -> None:
    """2 of 4 verified in time, 1 of 2 answered in time."""
    assert recap.verified_on_time_percent == 50.0
    assert recap.answered_on_time_percent == 50.0


def test_percentages_round_to_one_decimal() -> None:
    rows = [row(verified_at=wib(18)), row(verified_at=wib(18)), row(verified_at=wib(24))]
    assert make_recap(tally(rows), PROFILE, START, END).verified_on_time_percent == 66.7


def test_no_verified_rows_gives_no_percentages() -> None:
    recap = make_recap(tally([row(), row(state=None, agency=None)]), PROFILE, START, END)
    assert recap.verified_on_time_percent is None
    assert recap.answered_on_time_percent is None


def test_empty_period() -> None:
    recap = make_recap(tally([]), PROFILE, START, END)
    assert recap.total == 0
    assert all(section == [] for section in sections(recap).values())
    assert all(a.received == 0 for a in recap.agencies)
    assert [w.total for w in recap.by_week] == [0] * 6  # still every week of August
    assert all(w.by_channel == [] for w in recap.by_week)
    assert [c.count for c in recap.funnel + recap.closed_early] == [0] * 9


# -- per ISO week, by channel -------------------------------------------------------------


def test_weeks_cover_the_period_from_monday_to_monday() -> None:
    """August 2026 touches six ISO weeks: from Monday 27 July to Monday 31 August."""
    recap = make_recap(tally([]), PROFILE, START, END)
    assert [w.monday for w in recap.by_week] == [
        date(2026, 7, 27), date(2026, 8, 3), date(2026, 8, 10), date(2026, 8, 17),
        date(2026, 8, 24), date(2026, 8, 31),
    ]  # fmt: skip
    assert [w.week for w in recap.by_week] == [f"2026-W{n}" for n in range(31, 37)]


def test_weeks_count_by_channel_on_local_dates() -> None:
    """Sunday 23:30 and Monday 00:30 in Ketapang are both Sunday in UTC: two weeks."""
    sunday_night, monday_morning = wib(16, 23, 30), wib(17, 0, 30)
    assert sunday_night.astimezone(UTC).date() == monday_morning.astimezone(UTC).date()
    rows = [
        row(channel="sms", received_at=sunday_night),
        row(channel="web", received_at=monday_morning),
        row(channel="sms", received_at=wib(18)),
        row(channel="sms", received_at=wib(3)),
        row(channel="app", received_at=wib(3)),
    ]
    recap = make_recap(tally(rows), PROFILE, START, END)
    weeks = {w.week: (w.total, counts(w.by_channel)) for w in recap.by_week}
    assert weeks == {
        "2026-W31": (0, {}),
        "2026-W32": (2, {"sms": 1, "app": 1}),
        "2026-W33": (1, {"sms": 1}),
        "2026-W34": (2, {"sms": 1, "web": 1}),
        "2026-W35": (0, {}),
        "2026-W36": (0, {}),
    }
    # A week's channels come in the period's order (most complaints first).
    assert [c.key for c in recap.by_channel] == ["sms", "app", "web"]
    assert [c.key for c in recap.by_week[3].by_channel] == ["sms", "web"]


def test_a_week_across_new_year_is_the_iso_weeks() -> None:
    recap = make_recap(tally([]), PROFILE, date(2026, 12, 30), date(2027, 1, 5))
    assert [(w.week, w.monday) for w in recap.by_week] == [
        ("2026-W53", date(2026, 12, 28)),
        ("2027-W01", date(2027, 1, 4)),
    ]


# -- how far the complaints got -----------------------------------------------------------


def test_the_funnel_counts_every_step_a_case_reached(recap: Recap) -> None:
    """ROWS: forwarded twice, answered, closed after the answer, waiting, and one without a
    case yet (which counts in no step)."""
    assert [c.key for c in recap.funnel] == [s.value for s in FUNNEL]
    assert counts(recap.funnel) == {
        "diterima": 5,
        "diteruskan": 4,
        "didisposisi": 2,
        "ditindaklanjuti": 2,
        "disetujui": 2,
        "dijawab": 2,
        "selesai": 1,
    }
    assert counts(recap.closed_early) == {"ditolak": 0, "diarsipkan": 0}
    assert recap.funnel[0].label == PROFILE.message("state.diterima")


def test_the_funnel_keeps_what_a_case_reached_before_it_went_back() -> None:
    rows = [
        row(state="diterima", agency=None),
        row(state="ditunda", agency=None),
        # Returned by the agency after verification: it was forwarded once.
        row(state="diterima", agency=None, verified_at=wib(14, 11)),
        row(state="ditolak", agency=None),
        row(state="diarsipkan", agency=None),
        # A draft sent back by the Pejabat is still being followed up.
        row(state="menunggu_persetujuan", verified_at=wib(14, 11)),
    ]
    recap = make_recap(tally(rows), PROFILE, START, END)
    assert [c.count for c in recap.funnel] == [6, 2, 1, 1, 0, 0, 0]
    assert counts(recap.closed_early) == {"ditolak": 1, "diarsipkan": 1}
    assert [c.key for c in recap.closed_early] == [s.value for s in CLOSED_EARLY]


@pytest.mark.parametrize(
    ("start", "end", "days"),
    [
        pytest.param(wib(14, 10), wib(14, 23, 59), 0, id="same-local-day"),
        # 00:30 WIB on the 14th is still the 13th in UTC; the local day is what counts.
        pytest.param(wib(14, 0, 30), wib(14, 23), 0, id="same-local-day-other-utc-day"),
        pytest.param(wib(14), wib(15), 0, id="friday-to-saturday"),
        pytest.param(wib(14), wib(17), 0, id="friday-to-independence-day"),
        pytest.param(wib(14), wib(18), 1, id="friday-to-tuesday-after-holiday"),
        pytest.param(wib(13), wib(14), 1, id="thursday-to-friday"),
        pytest.param(wib(14), wib(21, 0, 0), 4, id="to-friday-midnight"),
        pytest.param(wib(14), wib(24), 5, id="to-monday"),
        pytest.param(wib(14), wib(26), 6, id="over-maulid-nabi"),
        pytest.param(wib(15), wib(18), 1, id="from-saturday"),
        # 23:30 UTC on Friday is already Saturday in Ketapang.
        pytest.param(
            datetime(2026, 8, 14, 23, 30, tzinfo=UTC), wib(18), 1, id="utc-friday-is-saturday"
        ),
    ],
)
def test_working_days_between(start: datetime, end: datetime, days: int) -> None:
    assert CALENDAR.working_days_between(start, end) == days


# -- property: every section adds up ------------------------------------------------------

_AGENCIES = [*PROFILE.agency_names, "LAMA"]  # LAMA: an agency since dropped from the profile
_CATEGORIES = [c.code for c in PROFILE.categories]
_MOMENTS = st.datetimes(
    min_value=datetime(2026, 7, 1), max_value=datetime(2026, 10, 31), timezones=st.just(UTC)
)


@st.composite
def groups(draw: st.DrawFn) -> Group:
    received = draw(_MOMENTS)
    later = st.none() | st.timedeltas(timedelta(0), timedelta(days=40)).map(lambda d: received + d)
    return group(
        channel=draw(st.sampled_from([c.value for c in Channel])),
        category=draw(st.none() | st.sampled_from(_CATEGORIES)),
        classification=draw(st.sampled_from([c.value for c in Classification])),
        received_at=received,
        state=draw(st.none() | st.sampled_from([s.value for s in CaseState])),
        agency=draw(st.none() | st.sampled_from(_AGENCIES)),
        verification_due_at=draw(later),
        completion_due_at=draw(later),
        verified_at=draw(later),
        answered_at=draw(later),
        complaints=draw(st.integers(1, 4)),
    )


@settings(max_examples=40, deadline=None)
@given(st.lists(groups(), max_size=15))
def test_sections_always_add_up(rows: list[Group]) -> None:
    """For any groups, each section sums to the total, in-time counts never exceed the
    counts, and the percentages stay within 0..100."""
    recap = make_recap(tally(rows), PROFILE, START, END)
    assert recap.total == sum(r.complaints for r in rows)
    for name, section in sections(recap).items():
        assert sum(c.count for c in section) == recap.total, name
        assert len({c.key for c in section}) == len(section), name
    for agency in recap.agencies:
        assert agency.verified_on_time <= agency.verified <= agency.received
        assert agency.answered_on_time <= agency.answered <= agency.received
    for percent in (recap.verified_on_time_percent, recap.answered_on_time_percent):
        assert percent is None or 0 <= percent <= 100
    # The weeks are consecutive Mondays, cover the period and add up to the total, by
    # channel too.
    mondays = [w.monday for w in recap.by_week]
    assert all(m.weekday() == 0 for m in mondays)
    assert all(b - a == timedelta(days=7) for a, b in pairwise(mondays))
    assert mondays[0] <= START and mondays[-1] + timedelta(days=6) >= END
    assert sum(w.total for w in recap.by_week) == recap.total
    for channel in recap.by_channel:
        in_weeks = sum(c.count for w in recap.by_week for c in w.by_channel if c.key == channel.key)
        assert in_weeks == channel.count
    # The funnel never grows, starts with every case, and the closed ones are by_state's.
    steps = [c.count for c in recap.funnel]
    assert steps == sorted(steps, reverse=True)
    assert steps[0] == sum(r.complaints for r in rows if r.kind.state is not None)
    states = counts(recap.by_state)
    assert counts(recap.closed_early) == {s.value: states.get(s.value, 0) for s in CLOSED_EARLY}


@settings(max_examples=40, deadline=None)
@given(st.lists(groups(), max_size=15))
def test_a_group_counts_as_its_complaints_one_by_one(rows: list[Group]) -> None:
    """A group of n is n complaints: every figure, medians included, is the same as with
    each complaint alone, and however the store happens to order or merge the groups."""
    one_by_one = [r._replace(complaints=1) for r in rows for _ in range(r.complaints)]
    merged: Counter[Group] = Counter()
    for r in rows:
        merged[r._replace(complaints=0)] += r.complaints
    regrouped = [r._replace(complaints=n) for r, n in merged.items()]
    expected = make_recap(tally(one_by_one), PROFILE, START, END)
    assert make_recap(tally(rows), PROFILE, START, END) == expected
    assert make_recap(tally(regrouped[::-1]), PROFILE, START, END) == expected


def test_medians_weigh_each_group_by_its_count() -> None:
    """Three verified after 1 working day and one after 4: the median is 1, not 2.5; an
    even number takes the mean of the middle two."""
    rows = [row(verified_at=wib(18), complaints=3), row(verified_at=wib(21))]
    pupr = next(
        a for a in make_recap(tally(rows), PROFILE, START, END).agencies if a.agency == "PUPR"
    )
    assert (pupr.received, pupr.verified, pupr.verified_on_time) == (4, 4, 3)
    assert pupr.median_working_days_to_verify == 1.0
    rows = [row(verified_at=wib(18), complaints=2), row(verified_at=wib(21), complaints=2)]
    pupr = next(
        a for a in make_recap(tally(rows), PROFILE, START, END).agencies if a.agency == "PUPR"
    )
    assert pupr.median_working_days_to_verify == 2.5
