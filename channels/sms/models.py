"""What the SMS channel hands over and sends out, whichever gateway carries the SMS.

Every inbound adapter (Twilio, Vonage, Kannel, Gammu SMSD) turns its wire format into
`SmsMessage`: one SMS, or one part of a concatenated (long) SMS that the gateway still
has to put together. Every outbound sender takes an `OutgoingSms` and either returns a
`SendResult` or raises a `SendError` that says whether trying again may help.
"""

from __future__ import annotations

from typing import Protocol

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from normalizer.models import RawPayload


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ConcatPart(_Model):
    """Where one part sits in a concatenated SMS (from UDH or Vonage's `concat-*` fields)."""

    reference: int = Field(ge=0, le=0xFFFF)
    total: int = Field(ge=2, le=255)
    seq: int = Field(ge=1, le=255)


class MediaRef(_Model):
    """A picture or video the provider holds for us (Twilio MMS `MediaUrl{N}`)."""

    url: str
    content_type: str


class SmsMessage(_Model):
    """One SMS (or one part of a long one) as a gateway delivered it, text already decoded."""

    gateway: str = Field(description="twilio, vonage, kannel or gammu")
    message_id: str | None = Field(description="the gateway's own id of this SMS or part")
    sender: str = Field(description="the sender's number in E.164 (a short code: its digits)")
    recipient: str | None = None
    text: str
    received_at: AwareDatetime
    part: ConcatPart | None = None
    media: tuple[MediaRef, ...] = ()
    raw: RawPayload


class InvalidSms(ValueError):
    """A malformed delivery: answered 400 (unreadable) or 422 (a field breaks a rule)."""

    def __init__(self, field: str, reason: str, status: int = 422) -> None:
        self.field = field
        self.reason = reason
        self.status = status
        super().__init__(f"{field}: {reason}")


class ForbiddenSms(Exception):
    """The delivery is not from our gateway (bad or missing signature or secret): 403."""


class OutgoingSms(_Model):
    """One reply to send; `id` is ours, stable across retries (a client reference)."""

    id: str
    to: str = Field(description="E.164, e.g. +6281234567890")
    text: str = Field(min_length=1)


class SendResult(_Model):
    provider_id: str | None = None


class SendError(Exception):
    """The provider did not take the message. `transient`: a 5xx, a 429, a connection
    error or a throttle, worth trying again later; otherwise a refusal (a 4xx, a bad
    number) that will fail the same way every time."""

    def __init__(self, detail: str, *, transient: bool) -> None:
        self.detail = detail
        self.transient = transient
        super().__init__(detail)


class SmsSender(Protocol):
    """Sends one SMS through one gateway. Implementations never log the message text."""

    name: str

    async def send(self, message: OutgoingSms) -> SendResult: ...

    async def close(self) -> None: ...
