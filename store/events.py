"""What the event relay (events/relay.py) asks of the store: the outbox read in order with
what an event says of its complaint, and the relay's own cursor.

The relay's cursor is apart from the dispatcher's `done_at`: the dispatcher finishes an
event when the workflow has taken it in, the relay when NATS has acknowledged it, and
neither waits for the other.
"""

from __future__ import annotations

import abc

from pydantic import AwareDatetime, BaseModel, ConfigDict

from normalizer.casework import CitizenReply
from normalizer.models import Case, Complaint


class RelayEvent(BaseModel):
    """An outbox event with its complaint and case as they are when it is read (the event
    itself records the change: its kind and data)."""

    model_config = ConfigDict(frozen=True)

    seq: int
    kind: str
    created_at: AwareDatetime
    data: dict[str, object] = {}
    complaint: Complaint
    case: Case | None = None
    followup: CitizenReply | None = None
    """The citizen's reply or rating a `citizen.followup` event names."""


class EventRelayStore(abc.ABC):
    @abc.abstractmethod
    async def relay_position(self, stream: str) -> int:
        """The seq of the last outbox event `stream` has acknowledged; 0 before the first."""

    @abc.abstractmethod
    async def relay_events(self, after_seq: int, limit: int) -> list[RelayEvent]:
        """Up to `limit` outbox events after `after_seq`, in seq order, finished by the
        dispatcher or not.

        The relay moves its cursor past what this returns: a backend whose sequence may
        commit out of order (two transactions, the later number first) must not return an
        event while one with a smaller seq may still commit, or the cursor skips it."""

    @abc.abstractmethod
    async def advance_relay(self, stream: str, seq: int) -> None:
        """Every outbox event up to `seq` is acknowledged by `stream`; never moves back."""

    @abc.abstractmethod
    async def wait_for_relay(self, max_wait: float) -> None:
        """Return when new outbox events may have been committed, or after `max_wait` s.

        The relay's own wake-up, apart from the dispatcher's `wait_for_events`: two waiters
        on one wake-up would take it from each other, and one would sleep through a commit."""
