"""The channel seam: what a channel brings to the gateway, and what the gateway gives it.

A channel is a folder under `channels/` whose `plugin.py` makes a `ChannelPlugin`: its
routes, its background loops, how it says a message to one of its reply addresses, its
health and its lines of the start-up banner. `channels/registry.py` lists them, and the
gateway mounts every one it lists; adding a channel is a folder and one line there.

A channel never decides what happens to a complaint. It gets the house's services through
`ChannelHost` (Protocols, so a channel imports none of gateway/ or workflow/): the intake,
the citizen's commands (CEK, TAMBAH, PUAS …), the blob store, the store's interface for
its own records, the settings, the profile and the clock.
"""

from __future__ import annotations

import abc
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import ClassVar, Protocol

from aiohttp import web

from config.profile import Profile
from config.settings import Settings
from normalizer.commands import CitizenPlan, CitizenText
from normalizer.models import Channel, Complaint, ComplaintDraft, Inbound
from store.base import IntakeResult, Store
from store.blobs import BlobStore
from store.workflow import CitizenMessage


class Intake(Protocol):
    """One way in for every channel: normalise, then commit through the store."""

    duplicate_window: timedelta

    async def submit(self, inbound: Inbound) -> IntakeResult: ...

    def draft(self, inbound: Inbound) -> ComplaintDraft: ...


class Citizen(Protocol):
    """What a citizen can say on any text channel, handled once for all of them."""

    async def plan(self, message: CitizenText) -> CitizenPlan: ...


class ChannelHost(Protocol):
    """The house's services, as the gateway gives them to every channel."""

    @property
    def settings(self) -> Settings: ...

    @property
    def profile(self) -> Profile: ...

    @property
    def store(self) -> Store: ...

    @property
    def intake(self) -> Intake: ...

    @property
    def citizen(self) -> Citizen: ...

    @property
    def blobs(self) -> BlobStore: ...

    def clock(self) -> datetime: ...

    def public_url(self, path: str) -> str:
        """An absolute link for citizens: LAPOR_PUBLIC_BASE_URL (else this host) + path."""
        ...


@dataclass(frozen=True)
class Loop:
    """A background loop: `round` handles what is there and says how much; `idle` waits
    when there was nothing. It runs once per installation: in the dispatching process."""

    name: str
    round: Callable[[], Awaitable[int]]
    idle: Callable[[], Awaitable[object]]


class DeliveryState(StrEnum):
    QUEUED = "queued"
    """Taken by the channel's own sender, which records how it went."""
    SENT = "sent"
    DESK = "desk"
    """Waiting at the front desk (a letter to print, a citizen to call)."""
    FAILED = "failed"


@dataclass(frozen=True)
class Delivery:
    state: DeliveryState
    detail: str | None = None


class ChannelPlugin(abc.ABC):
    name: ClassVar[str]
    reply_channels: ClassVar[frozenset[Channel]] = frozenset()
    """Reply addresses of these channels are this channel's to answer."""
    copies_of: ClassVar[frozenset[Channel]] = frozenset()
    """Complaints taken on these channels also get every message through this one (the
    desk keeps a letter for a walk-in complaint, whatever its reply address)."""

    @classmethod
    @abc.abstractmethod
    def create(cls, host: ChannelHost) -> ChannelPlugin | None:
        """The channel as the settings configure it, or None when it is switched off.
        Raises ValueError (the command line exits 2 with it) for settings that cannot work."""

    def routes(self) -> Iterable[web.AbstractRouteDef]:
        return ()

    def loops(self) -> Iterable[Loop]:
        return ()

    async def deliver(self, message: CitizenMessage, complaint: Complaint) -> Delivery:
        """Say `message` to the complaint's citizen. At least once: a message id seen
        before must not be said twice."""
        raise NotImplementedError(f"the {self.name} channel sends no messages")

    async def health(self) -> dict[str, object]:
        """Shown under `channels.<name>` on /healthz; trouble here never makes it 503."""
        return {"status": "ok"}

    def banner(self, base_url: str) -> list[str]:
        """Lines of the start-up banner: where this channel listens."""
        return []

    async def close(self) -> None:  # noqa: B027 (most channels hold nothing to release)
        """Release connections; called once the loops have stopped."""
