"""The start of every workflow step: from the case as it is to a new state, with the
event, the version check, the deadline that counts in the new state, `closed_at` on
entering a final state and the outbox event `case.<state>`; each step then adds what it
changes and says (workflow/actions.py, workflow/citizen.py, workflow/sweep.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from config.profile import Profile
from normalizer.casework import Notice, Transition
from normalizer.models import Case
from workflow.roles import Actor
from workflow.states import COMPLETION_STATES, FINAL_STATES, VERIFICATION_STATES, CaseState

CITIZEN = "warga"
"""The actor of the citizen's own steps (an answer to a question, a rating)."""
SYSTEM = "sistem"
"""The actor of the sweep's steps (deadlines passed, holds expired, cases closed)."""


@dataclass(frozen=True)
class Decision:
    """Everything deciding a step takes besides the case: the deployment and the moment."""

    profile: Profile
    now: datetime
    status_url: str
    """The citizen's status page for this case, for the texts that point to it."""

    def notice(self, purpose: str, key: str, tracking_id: str, **values: object) -> Notice:
        """A message to the citizen in the profile's words (catalogue key `key`)."""
        p = self.profile
        text = p.message(
            key,
            regency=p.regency,
            short_code=p.sms.short_code,
            tracking_id=tracking_id,
            status_url=self.status_url,
            **values,
        )
        return Notice(purpose=purpose, text=text)


def begin(
    case: Case,
    to: CaseState,
    action: str,
    now: datetime,
    actor: Actor | str,
) -> Transition:
    """A step from the case as it is to `to`, changing nothing else yet. `actor` is the
    account acting, or CITIZEN or SYSTEM. The step holds only on this version of the case:
    it writes the case's values as they were read, so a step decided on an older version
    would undo what came between."""
    account = actor if isinstance(actor, Actor) else None
    return Transition(
        complaint_id=case.complaint_id,
        tracking_id=case.tracking_id,
        kind=f"case.{action}",
        expect_version=case.version,
        expect_state=case.state,
        from_state=case.state,
        to_state=to.value,
        actor=account.username if account else str(actor),
        role=account.role.value if account else None,
        at=now,
        agency=case.agency,
        assignee=case.assignee,
        due_at=due_for(case, to),
        held_at=case.held_at if to is CaseState.DITUNDA else None,
        verified_at=case.verified_at,
        answered_at=case.answered_at,
        closed_at=now if to in FINAL_STATES else None,
        rating=case.rating,
        dissatisfied=case.dissatisfied,
        verification_late=case.verification_late,
        completion_late=case.completion_late,
        outbox_kind=f"case.{to.value}",
    )


def due_for(case: Case, state: CaseState) -> datetime | None:
    """The deadline that counts in `state`: verification, then completion, then none."""
    if state in VERIFICATION_STATES:
        return case.verification_due_at
    if state in COMPLETION_STATES:
        return case.completion_due_at
    return None
