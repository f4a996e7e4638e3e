"""The unified queue's filters, as the API's query string and the console's address both
give them, and the store query they make."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from pydantic import BaseModel, ConfigDict, Field

from channels.complaint_fields import AgencyCode, CategoryCode
from gateway.context import Gateway
from gateway.params import LocalDate
from normalizer.models import Channel, Classification, Flag
from store.base import ComplaintQuery, QueueSort
from workflow.actions import WAITING_FOR
from workflow.calendar import WorkingCalendar
from workflow.roles import AGENCY_ROLES, Actor
from workflow.states import CaseState


class QueueParams(BaseModel):
    """Query string of `GET /api/v1/complaints`; dates are local dates of the regency."""

    model_config = ConfigDict(extra="forbid")

    state: CaseState | None = None
    mine: bool | None = Field(
        default=None, description="only the cases waiting for the caller's own action"
    )
    channel: Channel | None = None
    category: CategoryCode | None = None
    classification: Classification | None = None
    agency: AgencyCode | None = None
    overdue: bool | None = Field(default=None, description="the current deadline has passed")
    due_soon: bool | None = Field(
        default=None, description="the current deadline falls within one working day"
    )
    flag: Flag | None = None
    q: str | None = Field(
        default=None, max_length=200, description="words of the text, or a tracking ID"
    )
    from_: LocalDate | None = Field(default=None, alias="from")
    to: LocalDate | None = None
    sort: QueueSort = QueueSort.NEWEST
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(default=None, max_length=500)


def complaint_query(
    gw: Gateway, params: QueueParams, actor: Actor, now: datetime, *, cursor: bool = True
) -> ComplaintQuery:
    """The store's query for `params` as `actor` may ask it (an agency's roles: only the
    cases that are or were with their agency)."""

    def local_midnight(day: date) -> datetime:
        return datetime.combine(day, time(), gw.profile.zone)

    due_soon = None
    if params.due_soon:
        # Due within one working day: by the end of the next working day.
        due_soon = WorkingCalendar.for_profile(gw.profile).add_working_days(now, 1).due_at
    waiting = WAITING_FOR.get(actor.role, ()) if params.mine else ()
    return ComplaintQuery(
        state=params.state.value if params.state else None,
        # A role no case waits for (the Admin Utama) has no tasks: no state matches "".
        states=tuple(s.value for s in waiting) or (("",) if params.mine else ()),
        channel=params.channel,
        category=params.category,
        classification=params.classification,
        agency=params.agency,
        seen_by_agency=actor.agency if actor.role in AGENCY_ROLES else None,
        overdue=params.overdue,
        due_soon_until=due_soon,
        flag=params.flag,
        text=params.q,
        received_from=local_midnight(params.from_) if params.from_ else None,
        received_before=local_midnight(params.to + timedelta(days=1)) if params.to else None,
        sort=params.sort,
        limit=params.limit,
        cursor=params.cursor if cursor else None,
    )
