"""The once-a-minute sweep: what the passage of time does to open cases.

- A deadline that passes is recorded once per case (`sla.verifikasi_terlambat`,
  `sla.penyelesaian_terlambat`): the case stays where it is, its lateness is on record.
- A case on hold whose citizen did not answer within the profile's `hold_working_days`
  is archived, and the citizen told so.
- An answered case the citizen did not rate within `rating_working_days` closes.

Pure: given the cases and a moment, the steps; the service applies them in order.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from normalizer.casework import Transition
from normalizer.models import Case
from workflow.calendar import WorkingCalendar
from workflow.states import COMPLETION_STATES, VERIFICATION_STATES, CaseState
from workflow.transition import SYSTEM, Decision, begin


def sweep_steps(case: Case, ctx: Decision) -> list[Transition]:
    """The steps due on one case at `ctx.now`, each decided on the case the one before it
    leaves (they are applied in this order, each on the next version)."""
    steps: list[Transition] = []
    for decide in (_late, _hold_expired, _rating_expired):
        step = decide(case, ctx)
        if step is not None:
            steps.append(step)
            case = _after(case, step)
    return steps


def sweep_all(cases: Iterable[Case], ctx: Decision) -> list[Transition]:
    return [step for case in cases for step in sweep_steps(case, ctx)]


def _late(case: Case, ctx: Decision) -> Transition | None:
    if case.due_at is None or ctx.now < case.due_at:
        return None
    state = CaseState(case.state)
    if state in VERIFICATION_STATES and not case.verification_late:
        kind, late = "sla.verifikasi_terlambat", {"verification_late": True}
    elif state in COMPLETION_STATES and not case.completion_late:
        kind, late = "sla.penyelesaian_terlambat", {"completion_late": True}
    else:
        return None
    step = begin(case, state, "late", ctx.now, SYSTEM)
    return step.with_(kind=kind, outbox_kind=kind, data={"due_at": case.due_at.isoformat()}, **late)


def _hold_expired(case: Case, ctx: Decision) -> Transition | None:
    if case.state != CaseState.DITUNDA or case.held_at is None:
        return None
    if ctx.now < _after_working_days(case.held_at, ctx, ctx.profile.workflow.hold_working_days):
        return None
    step = begin(case, CaseState.DIARSIPKAN, "arsip_otomatis", ctx.now, SYSTEM)
    notice = ctx.notice("hold_expired", "notice.hold_expired", case.tracking_id)
    return step.with_(notices=(notice,))


def _rating_expired(case: Case, ctx: Decision) -> Transition | None:
    if case.state != CaseState.DIJAWAB or case.answered_at is None:
        return None
    days = ctx.profile.workflow.rating_working_days
    if ctx.now < _after_working_days(case.answered_at, ctx, days):
        return None
    return begin(case, CaseState.SELESAI, "selesai_otomatis", ctx.now, SYSTEM)


def _after_working_days(start: datetime, ctx: Decision, days: int) -> datetime:
    return WorkingCalendar.for_profile(ctx.profile).add_working_days(start, days).due_at


def _after(case: Case, step: Transition) -> Case:
    """The case as the store leaves it after `step`."""
    return case.model_copy(
        update={
            "state": step.to_state,
            "version": case.version + 1,
            "due_at": step.due_at,
            "held_at": step.held_at,
            "closed_at": step.closed_at,
            "verification_late": step.verification_late,
            "completion_late": step.completion_late,
        }
    )
