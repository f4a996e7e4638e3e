"""The front desk as a channel: walk-in and phone complaints are answered at the desk.

Every message to the citizen of such a complaint waits at the desk as a letter to print
(or read out over the phone), and, when the citizen gave a phone number and is not
anonymous, as a call to make, whatever else their reply address does. The desk's pages
and its intake API are the gateway's own (gateway/routes/desk.py)."""

from __future__ import annotations

from channels.plugin import ChannelHost, ChannelPlugin, Delivery, DeliveryState
from normalizer.models import Channel, Complaint
from store.workflow import CitizenMessage

LETTER, CALL = "letter", "call"


class DeskPlugin(ChannelPlugin):
    name = "desk"
    copies_of = frozenset({Channel.WALKIN, Channel.PHONE})

    def __init__(self, host: ChannelHost) -> None:
        self._host = host

    @classmethod
    def create(cls, host: ChannelHost) -> DeskPlugin:
        return cls(host)

    async def deliver(self, message: CitizenMessage, complaint: Complaint) -> Delivery:
        kinds = (LETTER, CALL) if wants_call(complaint) else (LETTER,)
        await self._host.store.add_desk_items(message, kinds)
        return Delivery(DeliveryState.DESK, " + ".join(kinds))

    async def health(self) -> dict[str, object]:
        return {"status": "ok", "waiting": await self._host.store.count_desk_items()}


def wants_call(complaint: Complaint) -> bool:
    """A citizen the desk may call: not anonymous, with a phone number of their own."""
    return not complaint.anonymous and complaint.reporter.phone is not None
