"""The store's interface: everything the rest of the gateway may ask of persistence.

Callers depend on `Store` only; the SQLite backend implements it today and a
PostgreSQL backend can implement it later without touching them.
"""

from __future__ import annotations

import abc
from collections.abc import Awaitable, Callable, Collection, Sequence
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from normalizer.models import (
    Case,
    Channel,
    Classification,
    Complaint,
    ComplaintDraft,
    Flag,
    TimelineEntry,
)
from store.events import EventRelayStore
from store.sms import SmsStore
from store.staff import StaffStore
from store.workflow import WorkflowStore

EVENT_COMPLAINT_RECEIVED = "complaint.received"
"""The outbox event of every complaint taken in: the dispatcher opens its case."""
EVENT_CITIZEN_REPLY = "citizen.followup"
"""The outbox event of a citizen's reply or rating: the workflow takes it in."""


class StoreError(Exception):
    """Base for the store's own, expected failures."""


class StoreBusy(StoreError):
    """The write queue is full: the caller should answer 503 with Retry-After."""


class IdempotencyConflict(StoreError):
    """The same (channel, external id) arrived again with a different request."""


class IntakeResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    complaint: Complaint
    created: bool


class EventComplaint(BaseModel):
    """What the workflow's first step needs of the complaint, read with its event."""

    model_config = ConfigDict(frozen=True)

    id: str
    tracking_id: str
    received_at: AwareDatetime
    category: str | None


class OutboxEvent(BaseModel):
    model_config = ConfigDict(frozen=True)

    seq: int
    kind: str
    complaint: EventComplaint
    created_at: AwareDatetime
    data: dict[str, object] = {}

    @property
    def complaint_id(self) -> str:
        return self.complaint.id

    @property
    def tracking_id(self) -> str:
        return self.complaint.tracking_id


class QueueSort(StrEnum):
    NEWEST = "newest"
    URGENT = "urgent"


class ComplaintQuery(BaseModel):
    """Filters of the unified admin queue; every one optional."""

    model_config = ConfigDict(frozen=True)

    state: str | None = None
    states: tuple[str, ...] = ()
    """Any of these states (the cases waiting for one role's action)."""
    channel: Channel | None = None
    category: str | None = None
    classification: Classification | None = None
    agency: str | None = None
    """The agency the case is with now (or, before forwarding, the one suggested)."""
    seen_by_agency: str | None = None
    """Only cases that are or were with this agency: what its own staff may see."""
    overdue: bool | None = None
    """Whether the current deadline has passed (verification, then completion)."""
    due_soon_until: AwareDatetime | None = None
    """Only open cases whose current deadline falls between now and this instant."""
    flag: Flag | None = None
    text: str | None = None
    received_from: AwareDatetime | None = None
    received_before: AwareDatetime | None = None
    sort: QueueSort = QueueSort.NEWEST
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = None


class QueueItem(BaseModel):
    model_config = ConfigDict(frozen=True)

    complaint: Complaint
    case: Case | None


class QueuePage(BaseModel):
    model_config = ConfigDict(frozen=True)

    items: list[QueueItem]
    next_cursor: str | None


class InvalidCursor(StoreError):
    """A pagination cursor that this store did not issue for this sort order."""


class Store(SmsStore, StaffStore, WorkflowStore, EventRelayStore, abc.ABC):
    """Persistence for complaints, their outbox events and workflow cases, the SMS
    channel's own tables (store/sms.py), staff accounts (store/staff.py), what the
    workflow keeps (store/workflow.py) and the event relay's cursor (store/events.py)."""

    @abc.abstractmethod
    async def open(self) -> None:
        """Connect and apply pending migrations."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Finish queued writes, then disconnect."""

    @abc.abstractmethod
    async def intake(
        self, draft: ComplaintDraft, duplicate_window: timedelta = timedelta(0)
    ) -> IntakeResult:
        """Commit a complaint and its outbox event together; returns only once the commit
        is durable. Idempotent on (channel, external id); and a draft whose duplicate key
        matches a complaint received up to `duplicate_window` before it gets that
        complaint back, created False."""

    @abc.abstractmethod
    async def get_complaint(self, tracking_id: str) -> Complaint | None: ...

    @abc.abstractmethod
    async def get_case(self, complaint_id: str) -> Case | None: ...

    @abc.abstractmethod
    async def timeline(self, complaint_id: str) -> list[TimelineEntry]: ...

    @abc.abstractmethod
    async def list_complaints(self, query: ComplaintQuery, now: datetime) -> QueuePage: ...

    @abc.abstractmethod
    async def claim_events(
        self, limit: int, lease_seconds: float, now: datetime
    ) -> list[OutboxEvent]:
        """Lease the oldest unfinished outbox events, in order, to one dispatcher."""

    @abc.abstractmethod
    async def open_cases(
        self, opened: Sequence[tuple[OutboxEvent, Case]]
    ) -> list[bool | Exception]:
        """For each event: create its case (if it does not exist) and finish the event,
        all in one write. Per event: True if this call created the case, or the error that
        kept it from being opened (the others are opened regardless)."""

    async def open_case(self, event: OutboxEvent, case: Case) -> bool:
        """One event's `open_cases`; its error raised."""
        [result] = await self.open_cases([(event, case)])
        if isinstance(result, Exception):
            raise result
        return result

    @abc.abstractmethod
    async def finish_events(self, seqs: Sequence[int], now: datetime) -> None:
        """Events done without a case to open (taken in, or of a kind nobody here handles)."""

    @abc.abstractmethod
    async def wait_for_events(self, max_wait: float) -> None:
        """Return when new outbox events may have been committed, or after `max_wait` s."""

    @abc.abstractmethod
    async def wait_for_notices(self, max_wait: float) -> None:
        """Return when messages to citizens may have been committed, or after `max_wait` s."""

    @abc.abstractmethod
    async def referenced_blobs(self, shas: Collection[str]) -> set[str]:
        """Which of these stored files a complaint references."""

    @abc.abstractmethod
    async def health(self) -> dict[str, object]: ...

    async def once_per_installation(self, name: str, loop: Callable[[], Awaitable[None]]) -> None:
        """Run a loop that must run in one process of the installation at a time (a
        channel's poller, the sweep). The embedded store serves one process, so here it
        simply runs; a shared store runs it where it holds the loop's lock."""
        await loop()
