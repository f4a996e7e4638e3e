"""The sweep across Independence Day 2026 in Ketapang (Asia/Pontianak, WIB = UTC+7).

Non-working days around it: Sat 15 / Sun 16 August, Mon 17 August (Independence Day),
Sat 22 / Sun 23, Tue 25 August (Maulid Nabi), Sat 29 / Sun 30 August, weekends after.
Every deadline below is counted by hand from those days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from config.profile import Profile, load_profile
from normalizer.models import Case
from tests.conftest import FRIDAY_BEFORE_HOLIDAY
from workflow.calendar import case_deadlines
from workflow.states import CaseState
from workflow.sweep import sweep_all, sweep_steps
from workflow.transition import Decision

S = CaseState
WIB = ZoneInfo("Asia/Pontianak")
PROFILE: Profile = load_profile("ketapang")
STATUS_URL = "https://lapor.ketapangkab.go.id/status/K7M2XQ9PD"
MINUTE = timedelta(minutes=1)

RECEIVED = FRIDAY_BEFORE_HOLIDAY  # Friday 14 August 2026, 10:00 WIB
# Verification, 3 working days: Tue 18, Wed 19, Thu 20 -> over at Fri 21 00:00 WIB.
VERIFICATION_DUE_AT = datetime(2026, 8, 21, 0, 0, tzinfo=WIB)
# Completion, 5 working days: 18, 19, 20, 21, Mon 24 -> over at Tue 25 00:00 WIB.
COMPLETION_DUE_AT = datetime(2026, 8, 25, 0, 0, tzinfo=WIB)
# A hold from the day of receipt, 10 working days: 18, 19, 20, 21, 24, (25 off), 26, 27,
# 28, 31 August, 1 September -> over at Wed 2 September 00:00 WIB.
HOLD_EXPIRES = datetime(2026, 9, 2, 0, 0, tzinfo=WIB)
# Answered on Monday 24 August, 09:00 WIB; 10 working days: (25 off) 26, 27, 28, 31 Aug,
# 1, 2, 3, 4, 7, 8 September -> over at Wed 9 September 00:00 WIB.
ANSWERED = datetime(2026, 8, 24, 9, 0, tzinfo=WIB)
RATING_EXPIRES = datetime(2026, 9, 9, 0, 0, tzinfo=WIB)

VERSION = 3


def ctx(now: datetime) -> Decision:
    return Decision(PROFILE, now.astimezone(UTC), STATUS_URL)


def make_case(state: CaseState, **changes: Any) -> Case:
    verification = state in (S.DITERIMA, S.DITUNDA)
    fields: dict[str, Any] = {
        "complaint_id": "c-1",
        "tracking_id": "K7M2XQ9PD",
        "state": state.value,
        "suggested_agency": "PUPR",
        "agency": None if verification else "PUPR",
        "verification_due": date(2026, 8, 20),
        "completion_due": date(2026, 8, 24),
        "verification_due_at": VERIFICATION_DUE_AT,
        "completion_due_at": COMPLETION_DUE_AT,
        "opened_at": RECEIVED,
        "updated_at": RECEIVED,
        "version": VERSION,
        "due_at": VERIFICATION_DUE_AT if verification else COMPLETION_DUE_AT,
    }
    if state is S.DITUNDA:
        fields["held_at"] = RECEIVED
    if state is S.DIJAWAB:
        fields.update(due_at=None, answered_at=ANSWERED, verified_at=RECEIVED)
    fields.update(changes)
    return Case(**fields)


def test_profile_counts_ten_working_days() -> None:
    """The hand-counted hold and rating deadlines assume the shipped profile's 10 days."""
    assert PROFILE.workflow.hold_working_days == 10
    assert PROFILE.workflow.rating_working_days == 10
    assert PROFILE.timezone == "Asia/Pontianak"


def test_case_deadlines_skip_the_holiday() -> None:
    """Received Friday 14 August, 10:00 WIB: verification due Thursday 20 August,
    completion Monday 24 August, each over at the next local midnight."""
    verification, completion = case_deadlines(PROFILE, RECEIVED)
    assert verification.due_date == date(2026, 8, 20)
    assert verification.due_at == VERIFICATION_DUE_AT
    assert completion.due_date == date(2026, 8, 24)
    assert completion.due_at == COMPLETION_DUE_AT


def test_nothing_before_the_verification_deadline() -> None:
    """At 23:59 WIB on the last day of verification the case is not late yet."""
    case = make_case(S.DITERIMA)
    assert sweep_steps(case, ctx(VERIFICATION_DUE_AT - MINUTE)) == []


def test_verification_late_at_the_deadline() -> None:
    """At 00:00 WIB after the last day the lateness is recorded once; the case stays."""
    case = make_case(S.DITERIMA)
    now = VERIFICATION_DUE_AT
    [step] = sweep_steps(case, ctx(now))
    assert step.kind == step.outbox_kind == "sla.verifikasi_terlambat"
    assert step.from_state == step.to_state == "diterima"
    assert step.verification_late is True
    assert step.completion_late is False
    assert step.expect_version == VERSION
    assert step.actor == "sistem"
    assert step.due_at == VERIFICATION_DUE_AT
    assert step.closed_at is None
    assert step.at == now
    assert step.data == {"due_at": VERIFICATION_DUE_AT.isoformat()}
    assert step.notices == ()


def test_verification_late_is_recorded_once() -> None:
    case = make_case(S.DITERIMA, verification_late=True)
    assert sweep_steps(case, ctx(VERIFICATION_DUE_AT + timedelta(days=3))) == []


@pytest.mark.parametrize(
    "state",
    [S.DITERUSKAN, S.DIDISPOSISI, S.DITINDAKLANJUTI, S.MENUNGGU_PERSETUJUAN, S.DISETUJUI],
)
def test_completion_late_past_the_completion_deadline(state: CaseState) -> None:
    """A case with the agency past the end of Monday 24 August is late once."""
    case = make_case(state)
    assert sweep_steps(case, ctx(COMPLETION_DUE_AT - MINUTE)) == []
    [step] = sweep_steps(case, ctx(COMPLETION_DUE_AT))
    assert step.kind == step.outbox_kind == "sla.penyelesaian_terlambat"
    assert step.from_state == step.to_state == state.value
    assert step.completion_late is True
    assert step.verification_late is False
    assert step.due_at == COMPLETION_DUE_AT
    assert step.agency == "PUPR"
    late = case.model_copy(update={"completion_late": True})
    assert sweep_steps(late, ctx(COMPLETION_DUE_AT + timedelta(days=1))) == []


def test_hold_expires_after_ten_working_days() -> None:
    """Held since Friday 14 August: archived at 00:00 WIB on 2 September, the citizen told."""
    case = make_case(S.DITUNDA, verification_late=True)
    assert sweep_steps(case, ctx(HOLD_EXPIRES - MINUTE)) == []
    [step] = sweep_steps(case, ctx(HOLD_EXPIRES))
    assert step.kind == "case.arsip_otomatis"
    assert step.outbox_kind == "case.diarsipkan"
    assert (step.from_state, step.to_state) == ("ditunda", "diarsipkan")
    assert step.closed_at == HOLD_EXPIRES
    assert step.due_at is None
    assert step.held_at is None
    assert step.actor == "sistem"
    assert [n.purpose for n in step.notices] == ["hold_expired"]
    assert "K7M2XQ9PD" in step.notices[0].text


def test_late_then_hold_expiry_in_order() -> None:
    """A held case past both its verification deadline and its hold gets two steps: the
    lateness first, then the archiving, decided on the version the first leaves."""
    case = make_case(S.DITUNDA)
    late, archived = sweep_steps(case, ctx(HOLD_EXPIRES))
    assert late.kind == "sla.verifikasi_terlambat"
    assert late.to_state == "ditunda"
    assert late.held_at == RECEIVED
    assert archived.kind == "case.arsip_otomatis"
    assert archived.expect_version == late.expect_version + 1 == VERSION + 1
    assert archived.expect_state == "ditunda"
    assert archived.verification_late is True


def test_rating_window_closes_the_answered_case() -> None:
    """Answered on Monday 24 August and not rated: closed at 00:00 WIB on 9 September."""
    case = make_case(S.DIJAWAB)
    assert sweep_steps(case, ctx(RATING_EXPIRES - MINUTE)) == []
    [step] = sweep_steps(case, ctx(RATING_EXPIRES))
    assert step.kind == "case.selesai_otomatis"
    assert step.outbox_kind == "case.selesai"
    assert (step.from_state, step.to_state) == ("dijawab", "selesai")
    assert step.closed_at == RATING_EXPIRES
    assert step.due_at is None
    assert step.expect_version == VERSION
    assert step.notices == ()


@pytest.mark.parametrize("state", [S.SELESAI, S.DITOLAK, S.DIARSIPKAN])
def test_closed_cases_are_left_alone(state: CaseState) -> None:
    case = make_case(state, due_at=None, closed_at=RECEIVED + timedelta(days=1))
    assert sweep_steps(case, ctx(RATING_EXPIRES + timedelta(days=30))) == []


def test_sweep_all_concatenates_the_steps_per_case() -> None:
    cases = [make_case(S.DITERIMA), make_case(S.DITUNDA), make_case(S.DIJAWAB)]
    steps = sweep_all(cases, ctx(RATING_EXPIRES))
    assert [s.kind for s in steps] == [
        "sla.verifikasi_terlambat",
        "sla.verifikasi_terlambat",
        "case.arsip_otomatis",
        "case.selesai_otomatis",
    ]
