"""Who sees what of a case.

- The regency's readers (admin_instansi, admin_penghubung) see every case.
- An agency's roles see the cases that are with their agency now, and of a case that
  moved away from it only that it moved, not what happened to it after.
- `rahasia` (confidential): the text, attachments and answer only for the regency's
  readers and the roles of the agency the case is with.
- `anonim`: the reporter is shown to no staff role at all (the store no longer holds
  them; the reply address stays inside the gateway).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from store.workflow import CaseRecord
from workflow.roles import AGENCY_ROLES, REGENCY_READERS, Actor


class Sight(StrEnum):
    FULL = "full"
    MOVED = "moved"
    """Was with the actor's agency, is no longer: that it moved, and until when."""
    NONE = "none"


def sight(actor: Actor, record: CaseRecord) -> Sight:
    if actor.role in REGENCY_READERS:
        return Sight.FULL
    if actor.role not in AGENCY_ROLES:
        return Sight.NONE
    if record.case.agency is not None and record.case.agency == actor.agency:
        return Sight.FULL
    if any(stint.agency == actor.agency for stint in record.agencies):
        return Sight.MOVED
    return Sight.NONE


def left_agency_at(actor: Actor, record: CaseRecord) -> datetime | None:
    """When the case last left the actor's agency (for a MOVED sight)."""
    ends = [s.until for s in record.agencies if s.agency == actor.agency and s.until]
    return max(ends) if ends else None


def sees_confidential(actor: Actor, record: CaseRecord) -> bool:
    """Whether the actor may read a confidential complaint's text, files and answer."""
    return sight(actor, record) is Sight.FULL
