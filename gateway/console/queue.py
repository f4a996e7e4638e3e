"""`/admin/`: the unified queue, every channel's cases in one list.

Tabs count the cases per state (from the counters every step keeps), the filters and the
search live in the address with the API's names (a view can be bookmarked and shared), the
most urgent come first, and the list pages on an index. `?mine=true` ("Tugas saya") lists
what waits for the signed-in person's own action. The page's script asks for the rows
again now and then (`?partial=rows`), so new complaints appear without a reload.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlencode

from aiohttp import web
from pydantic import ConfigDict, Field, ValidationError, model_validator

from gateway.console.access import page, signed_in
from gateway.context import Gateway, gateway_of
from gateway.queue import QueueParams, complaint_query
from gateway.views import render
from normalizer.models import Case, Channel, Classification, Complaint, Flag
from store.base import InvalidCursor, QueueSort
from workflow.actions import WAITING_FOR
from workflow.calendar import WorkingCalendar
from workflow.roles import AGENCY_ROLES, Actor
from workflow.states import CaseState

routes = web.RouteTableDef()
FIRST_WORDS = 90


class ConsoleQueue(QueueParams):
    """The console's address: the API's filters, most urgent first, a page of 25."""

    model_config = ConfigDict(extra="ignore")

    sort: QueueSort = QueueSort.URGENT
    limit: int = Field(default=25, ge=1, le=100)
    due: Literal["overdue", "due_soon"] | None = Field(default=None, exclude=True)
    """The filter form's one choice of deadline, for the API's two flags."""

    @model_validator(mode="after")
    def _due(self) -> ConsoleQueue:
        if self.due is not None:
            setattr(self, self.due, True)
        return self


@dataclass(frozen=True)
class Row:
    complaint: Complaint
    case: Case | None
    first_words: str
    days_left: int | None
    """Working days until the current deadline; negative once it has passed."""
    moved: bool


@routes.get("/admin/")
async def queue(request: web.Request) -> web.Response:
    gw = gateway_of(request)
    actor = await signed_in(request)
    params, ignored = _params(gw, request.query)
    now = gw.clock()
    try:
        found = await gw.store.list_complaints(complaint_query(gw, params, actor, now), now)
    except InvalidCursor:
        query = complaint_query(gw, params, actor, now, cursor=False)
        found = await gw.store.list_complaints(query, now)
    rows = [_row(gw, actor, i.complaint, i.case, now) for i in found.items]
    context: dict[str, Any] = {"rows": rows, "params": params}
    if request.query.get("partial") == "rows":
        return render(request, "admin/_rows.html", context)
    counts = await gw.store.case_counts(actor.agency if actor.role in AGENCY_ROLES else None)
    return page(
        request,
        "queue.html",
        actor,
        context
        | {
            "ignored": ignored,
            "tabs": [(state, counts.get(state.value, 0)) for state in CaseState],
            "total": sum(counts.values()),
            "waiting": sum(counts.get(s.value, 0) for s in WAITING_FOR.get(actor.role, ())),
            "next_url": _with(params, cursor=found.next_cursor) if found.next_cursor else None,
            "link": lambda **changes: _with(params, cursor=None, **changes),
            "agencies": gw.profile.agencies,
            "categories": gw.profile.categories,
            "channels": list(Channel),
            "classifications": list(Classification),
            "flags": list(Flag),
            "agency_role": actor.role in AGENCY_ROLES,
            "refresh_ms": int(gw.settings.console_refresh_seconds * 1000),
            "narrowed": _narrowed(params),
        },
    )


def _params(gw: Gateway, query: Mapping[str, str]) -> tuple[ConsoleQueue, list[str]]:
    """The address's filters; one that is not valid is left out (and named), not a 400:
    an old bookmark should still open the queue."""
    # A filter form sends every field, the empty ones as "": those mean "any".
    given = {k: v for k, v in query.items() if v != ""}
    ignored: list[str] = []
    context = gw.intake.validation_context()
    while True:
        try:
            return ConsoleQueue.model_validate(given, context=context), ignored
        except ValidationError as exc:
            bad = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
            if not bad & given.keys():
                return ConsoleQueue(), sorted(given)
            ignored += sorted(bad & given.keys())
            given = {k: v for k, v in given.items() if k not in bad}


def _row(gw: Gateway, actor: Actor, complaint: Complaint, case: Case | None, now: datetime) -> Row:
    moved = actor.role in AGENCY_ROLES and (case is None or case.agency != actor.agency)
    readable = not complaint.confidential or not moved
    words = complaint.text if readable else "(dirahasiakan)"
    if len(words) > FIRST_WORDS:
        words = words[:FIRST_WORDS].rsplit(" ", 1)[0] + " …"
    days_left = None
    if case is not None and case.due_at is not None and not moved:
        calendar = WorkingCalendar.for_profile(gw.profile)
        days_left = calendar.working_days_left(now, case.due_at)
    return Row(complaint, None if moved else case, words, days_left, moved)


def _narrowed(params: ConsoleQueue) -> bool:
    """Whether a filter beyond the state tab and the search box is on."""
    chosen = params.model_dump(exclude_defaults=True, exclude={"state", "q", "mine", "cursor"})
    return bool(chosen)


def _with(params: ConsoleQueue, **changes: object) -> str:
    """The queue's address with some filters changed (and the defaults left out)."""
    values = params.model_dump(by_alias=True, mode="json", exclude_defaults=True) | changes
    kept = {k: v for k, v in values.items() if v not in (None, "")}
    if kept.get("sort") == QueueSort.URGENT.value:
        del kept["sort"]
    if kept.get("limit") == 25:
        del kept["limit"]
    for name, value in kept.items():
        if isinstance(value, bool):
            kept[name] = "true" if value else "false"
    return "/admin/" + ("?" + urlencode(kept) if kept else "")
