"""What the workflow keeps beyond the case itself: the nota dinas, the agencies a case went
through, the messages to the citizen, the desk's letters and the status page's codes.

The workflow service (workflow/service.py) depends on `WorkflowStore` only; the SQLite
backend implements it in store/sqlite_workflow.py.
"""

from __future__ import annotations

import abc
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import NamedTuple

from pydantic import AwareDatetime, BaseModel, ConfigDict

from normalizer.casework import CitizenReply, Draft, NotaDinas, Transition
from normalizer.models import Case, Channel, Complaint


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class StaleCase(Exception):
    """The case is no longer in the version or state the transition was decided on."""

    def __init__(self, case: Case | None) -> None:
        self.case = case
        super().__init__("the case changed before this step was committed")


class AgencyStint(_Model):
    """A time the case spent with one agency; `until` None while it is still there."""

    agency: str
    since: AwareDatetime
    until: AwareDatetime | None


class CaseRecord(_Model):
    """A case with everything deciding an action on it may need."""

    complaint: Complaint
    case: Case
    drafts: tuple[Draft, ...]
    notas: tuple[NotaDinas, ...]
    agencies: tuple[AgencyStint, ...]


class MessageState(StrEnum):
    PENDING = "pending"
    """Waiting for the notifier to hand it to a channel."""
    QUEUED = "queued"
    """Taken by the channel's own sender (an SMS in its outbound queue)."""
    SENT = "sent"
    DESK = "desk"
    """Waiting at the front desk: a letter to print, a citizen to call."""
    STATUS_PAGE = "status_page"
    """No channel can reach the citizen: they read it on the status page."""
    FAILED = "failed"


class CitizenMessage(_Model):
    id: str
    complaint_id: str
    purpose: str
    text: str
    state: MessageState
    channel: Channel | None = None
    detail: str | None = None
    created_at: AwareDatetime
    updated_at: AwareDatetime


class DeskItem(_Model):
    """An answer letter to print, or a citizen to call, for a walk-in or phone complaint."""

    message_id: str
    kind: str
    complaint: Complaint
    purpose: str
    text: str
    created_at: AwareDatetime
    done_at: AwareDatetime | None = None
    done_by: str | None = None


class CitizenCode(_Model):
    """A status-page code, kept as a hash: `desk` is printed on the receipt and does not
    expire; `sent` goes to the reply address on request and lasts half an hour."""

    complaint_id: str
    kind: str
    code_hash: str
    created_at: AwareDatetime
    expires_at: AwareDatetime | None = None
    attempts: int = 0


class RecapKind(NamedTuple):
    """What the recap counts complaints by, their dates aside. A plain tuple, not a model:
    it is the key of a count, made once per kind, and a month holds thousands of kinds."""

    state: str | None
    """None until the dispatcher opens the case."""
    channel: str
    category: str | None
    classification: str
    agency: str | None
    """The case's agency, else the last it was with (a case sent back has none)."""
    verified: bool
    answered: bool
    verified_in_time: bool
    """Verified before its verification deadline ended (`verified_at` <
    `verification_due_at`)."""
    answered_in_time: bool
    """Answered before its completion deadline ended."""


@dataclass(slots=True)
class RecapTally:
    """The complaints of a recap's period counted by what each part of the recap needs:
    its figures by kind, its weeks by date of receipt, its medians by the dates each step
    took. Dates are local, in the time zone the recap asked for.

    A month at a national installation holds tens of thousands of complaints that differ
    almost all in their dates; each section alone counts few keys, so the recap reads
    these, never a list of complaints."""

    kinds: Counter[RecapKind] = field(default_factory=Counter)
    received: Counter[tuple[date, str]] = field(default_factory=Counter)
    """By date of receipt and channel."""
    to_verify: Counter[tuple[str | None, date, date]] = field(default_factory=Counter)
    """The verified ones by agency, date of receipt and date verified."""
    to_answer: Counter[tuple[str | None, date, date]] = field(default_factory=Counter)
    """The answered ones by agency, date of receipt and date answered."""

    def add(
        self,
        kind: RecapKind,
        received_on: date,
        verified_on: date | None,
        answered_on: date | None,
        complaints: int = 1,
    ) -> None:
        """Count `complaints` complaints of `kind`, received, verified and answered on these
        dates (a date exactly when `kind` says the step was taken)."""
        self.kinds[kind] += complaints
        self.received[received_on, kind.channel] += complaints
        if verified_on is not None:
            self.to_verify[kind.agency, received_on, verified_on] += complaints
        if answered_on is not None:
            self.to_answer[kind.agency, received_on, answered_on] += complaints


class WorkflowStore(abc.ABC):
    @abc.abstractmethod
    async def case_record(self, complaint_id: str) -> CaseRecord | None:
        """The case with its complaint, drafts, approved notas and agencies; None before
        the dispatcher opened it."""

    @abc.abstractmethod
    async def apply(self, transition: Transition) -> Case:
        """Commit the transition in one transaction: the case's new values and version,
        the timeline event, the complaint's corrections (an anonymous reporter's identity
        removed), the agencies, the draft or approval (numbered from the agency's sequence
        of the year) or publication, the citizen's messages and the outbox event. Raises
        StaleCase, writing nothing, if the case is no longer in the expected version and
        state."""

    @abc.abstractmethod
    async def case_counts(self, agency: str | None = None) -> dict[str, int]:
        """Cases per state (only those with `agency` now, if given), from counters kept by
        every step: never a count over the cases themselves."""

    @abc.abstractmethod
    async def pejabat_of(self, agency: str) -> frozenset[str]:
        """Usernames of the agency's active pejabat_penghubung."""

    # -- the citizen ------------------------------------------------------------------

    @abc.abstractmethod
    async def add_citizen_reply(self, reply: CitizenReply) -> bool:
        """Keep the citizen's reply and queue it for the workflow (one transaction);
        False, and nothing written, if its (channel, external id) was taken before."""

    @abc.abstractmethod
    async def citizen_reply(self, followup_id: int) -> CitizenReply | None: ...

    @abc.abstractmethod
    async def claim_citizen_messages(
        self, now: datetime, limit: int, lease_seconds: float
    ) -> list[tuple[CitizenMessage, Complaint]]:
        """Pending messages, oldest first, leased to one notifier, with their complaints."""

    @abc.abstractmethod
    async def finish_citizen_message(
        self,
        message_id: str,
        state: MessageState,
        now: datetime,
        channel: Channel | None = None,
        detail: str | None = None,
    ) -> None: ...

    @abc.abstractmethod
    async def citizen_messages(self, complaint_id: str) -> list[CitizenMessage]: ...

    @abc.abstractmethod
    async def add_notice(self, complaint_id: str, purpose: str, text: str, now: datetime) -> str:
        """Queue one message to the citizen outside any workflow step (a status-page code);
        returns its id."""

    @abc.abstractmethod
    async def add_desk_items(self, message: CitizenMessage, kinds: tuple[str, ...]) -> None:
        """The message waits at the desk as each of `kinds` (letter, call); idempotent."""

    @abc.abstractmethod
    async def desk_items(
        self, *, open_only: bool = True, limit: int = 200, message_id: str | None = None
    ) -> list[DeskItem]:
        """Letters and calls, oldest first: those still to do, or (not open_only) all;
        only those of one message if given."""

    @abc.abstractmethod
    async def count_desk_items(self) -> int:
        """How many letters and calls wait at the desk."""

    @abc.abstractmethod
    async def finish_desk_item(
        self, message_id: str, kind: str, username: str, now: datetime
    ) -> bool:
        """Mark a letter printed or a call made; False if there is no such open item."""

    @abc.abstractmethod
    async def set_citizen_code(self, code: CitizenCode) -> None:
        """The complaint's code of this kind, replacing any earlier one of that kind."""

    @abc.abstractmethod
    async def citizen_codes(self, complaint_id: str) -> list[CitizenCode]: ...

    @abc.abstractmethod
    async def count_code_attempt(self, complaint_id: str, kind: str, success: bool) -> None:
        """A wrong code counts against it; the right one, if sent, is used up."""

    # -- sweep and recap ---------------------------------------------------------------

    @abc.abstractmethod
    async def sweep_candidates(self, now: datetime, limit: int) -> list[Case]:
        """Open cases the sweep may act on: a deadline passed and not yet recorded, on
        hold, or answered and waiting for a rating."""

    @abc.abstractmethod
    async def recap_tally(
        self, received_from: datetime, received_before: datetime, zone: str
    ) -> RecapTally:
        """The complaints received in [received_from, received_before), with their cases,
        counted for the recap, with local dates in `zone` (a zoneinfo key:
        'Asia/Pontianak')."""
