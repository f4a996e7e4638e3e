"""One Inbound from any channel to the one ComplaintDraft shape the store keeps."""

from __future__ import annotations

from datetime import UTC

from config.profile import Profile
from normalizer.classify import guess_category
from normalizer.dedup import duplicate_key
from normalizer.models import (
    Channel,
    Classification,
    ComplaintDraft,
    Inbound,
    ReplyAddress,
    Reporter,
)
from normalizer.phone import normalize_phone
from normalizer.redact import redact_payload
from normalizer.text import clean_text

# Channels where the citizen wrote from an address we can answer on directly. Not fax:
# a fax reaches us through a fax-to-mail service, and an answer there never reaches them.
MESSAGING_CHANNELS = frozenset(
    {Channel.SMS, Channel.EMAIL, Channel.X, Channel.TELEGRAM, Channel.MESSENGER}
)


def normalize(inbound: Inbound, profile: Profile) -> ComplaintDraft:
    """Pure: the same inbound and profile always give the same draft.

    Raises ValueError when no text is left after cleaning, and InvalidPhone (a
    ValueError) when the reporter gave a phone number that is not one.
    """
    text = clean_text(inbound.text)
    if not text:
        raise ValueError("the complaint text is empty")
    reporter = _reporter(inbound)
    reply_to = _reply_to(inbound, reporter)
    raw = inbound.raw
    if inbound.anonymous:
        # An anonymous reporter's contact is kept only as the address the answer goes to.
        reporter = Reporter()
        raw = redact_payload(raw) if raw is not None else None
    return ComplaintDraft(
        channel=inbound.channel,
        external_id=_message_id(inbound.external_id),
        request_hash=inbound.request_hash,
        duplicate_key=duplicate_key(inbound.channel, reply_to, text),
        profile=profile.key,
        reporter=reporter,
        reply_to=reply_to,
        anonymous=inbound.anonymous,
        confidential=inbound.confidential,
        classification=inbound.classification or Classification.PENGADUAN,
        category=inbound.category or guess_category(text, profile),
        text=text,
        text_original=inbound.text,
        location=_optional_text(inbound.location),
        incident_date=inbound.incident_date,
        attachments=inbound.attachments,
        received_at=inbound.received_at.astimezone(UTC),
        logged_by=inbound.logged_by,
        flags=tuple(sorted(set(inbound.flags))),
        raw=raw,
    )


def _reporter(inbound: Inbound) -> Reporter:
    given = inbound.reporter
    phone = given.phone.strip() if given.phone else ""
    email = given.email.strip().lower() if given.email else ""
    return Reporter(
        name=_optional_text(given.name),
        phone=normalize_phone(phone) if phone else None,
        email=email or None,
    )


def _reply_to(inbound: Inbound, reporter: Reporter) -> ReplyAddress | None:
    sender = inbound.sender.strip() if inbound.sender else ""
    if inbound.channel in MESSAGING_CHANNELS and sender:
        return ReplyAddress(channel=inbound.channel, address=sender)
    # Web, app, desk and phone calls have no return address of their own (and a
    # messaging channel may lack one), so the answer goes to the contact the citizen gave.
    if reporter.email:
        return ReplyAddress(channel=Channel.EMAIL, address=reporter.email)
    if reporter.phone:
        return ReplyAddress(channel=Channel.SMS, address=reporter.phone)
    return None


def _message_id(raw: str | None) -> str | None:
    # A provider that sends a blank message id sent none: "" must not become one
    # idempotency key that every such message shares.
    return raw if raw and raw.strip() else None


def _optional_text(raw: str | None) -> str | None:
    return (clean_text(raw) or None) if raw is not None else None
