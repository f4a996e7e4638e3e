"""The first workflow step: a newly received complaint becomes a case in `diterima`."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from config.profile import Profile
from normalizer.models import Case
from workflow.calendar import case_deadlines
from workflow.routing import suggest_agency
from workflow.states import CaseState


class CaseSubject(Protocol):
    """What opening a case reads of its complaint: a Complaint, or what the dispatcher
    reads with the outbox event."""

    @property
    def id(self) -> str: ...

    @property
    def tracking_id(self) -> str: ...

    @property
    def received_at(self) -> datetime: ...

    @property
    def category(self) -> str | None: ...


def new_case(complaint: CaseSubject, profile: Profile, now: datetime) -> Case:
    """The case as the Admin Penghubung first sees it: awaiting verification, with both
    deadlines counted from when the citizen reported (not from when we got round to it)."""
    verification, completion = case_deadlines(profile, complaint.received_at)
    return Case(
        complaint_id=complaint.id,
        tracking_id=complaint.tracking_id,
        state=CaseState.DITERIMA.value,
        suggested_agency=suggest_agency(complaint.category, profile),
        agency=None,
        verification_due=verification.due_date,
        completion_due=completion.due_date,
        verification_due_at=verification.due_at,
        completion_due_at=completion.due_at,
        opened_at=now,
        updated_at=now,
        due_at=verification.due_at,
    )
