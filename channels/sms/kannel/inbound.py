"""Kannel's smsbox calling our sms-service URL: authenticate it, read the SMS.

Two shapes arrive at the same address. With get-url, Kannel fills escape codes into the
query: %p the sender, %P the receiver (our number), %b the message and %u the UDH as raw
bytes percent-encoded (space as '+'), %c the coding (0 7-bit, 1 8-bit, 2 UCS-2, -1 not
known), %C the charset, %i the SMSC id and %I Kannel's message id (a UUID). With
post-url, the body is the message and headers carry the rest: X-Kannel-From (only with
`send-sender = true`), X-Kannel-To, X-Kannel-Coding, X-Kannel-UDH, X-Kannel-SMSC, and
the charset in Content-Type; the post-url itself may still carry escape codes (id=%I).
A query with `text` is the get-url shape; anything else is read as post-url.

The sms-service group we document (secret in the query: Kannel cannot add a header):

    group = sms-service
    keyword = default
    catch-all = true
    max-messages = 3
    concatenation = true
    omit-empty = true
    get-url = "http://GATEWAY/webhooks/sms/kannel?secret=XXX&from=%p&to=%P&text=%b&coding=%c&charset=%C&udh=%u&smsc=%i&id=%I"

Our text/plain answer is the reply SMS: `max-messages = 3` lets the longest answer we send
take its three segments, `concatenation = true` makes them one message on the phone, and
`omit-empty = true` sends nothing when we answer with nothing (a part of a long message, a
flood, a delivery we refuse: smsbox would text any answer but 200 to the sender as "Could
not fetch content"). %t is left out on purpose: our own clock stamps the delivery.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.message import Message
from typing import Final
from urllib.parse import parse_qsl, unquote_to_bytes

from channels.sms import inbound_fields as check
from channels.sms.encoding import UnknownCharset, decode_sms_payload
from channels.sms.models import ConcatPart, ForbiddenSms, InvalidSms, SmsMessage
from channels.sms.udh import InvalidUdh, parse_concat
from normalizer.models import RawPayload

GATEWAY: Final = "kannel"
MAX_QUERY_FIELDS: Final = 30
"""Far more than our get-url has; a query with more is not from our sms-service."""

# %c: Kannel's DC_7BIT, DC_8BIT, DC_UCS2 and DC_UNDEF.
_CODINGS: Final[dict[str, int | None]] = {"0": 0, "1": 1, "2": 2, "-1": None}


@dataclass(frozen=True)
class _Delivery:
    """The SMS as either shape carries it, before any of it is checked."""

    sender: str | None
    recipient: str | None
    data: bytes
    coding: str | None
    charset: str | None
    udh: bytes


def verify_secret(expected: str, given: str | None) -> None:
    """Raise ForbiddenSms unless `given` (the query's secret= or an X-Kannel-Secret
    header) is our shared secret. Compared in constant time."""
    if not expected:
        raise ForbiddenSms("no Kannel secret configured")
    if not given:
        raise ForbiddenSms("missing secret")
    # As bytes: compare_digest refuses str with non-ASCII characters.
    if not hmac.compare_digest(expected.encode(), given.encode()):
        raise ForbiddenSms("secret does not match")


def parse(
    raw_query: str,
    body: bytes,
    headers: Mapping[str, str],
    received_at: datetime,
    raw: RawPayload,
) -> SmsMessage:
    """The SMS, or the part of a long one, Kannel delivered.

    `raw_query` is the query string still percent-encoded (aiohttp:
    `request.rel_url.raw_query_string`): %b and %u are bytes, not UTF-8 text, and
    decoding them as UTF-8 first would destroy them."""
    query = _query(raw_query)
    delivery = _from_query(query) if "text" in query else _from_post(body, headers)
    message_id = query.get("id")
    return SmsMessage(
        gateway=GATEWAY,
        message_id=check.identifier("id", message_id) if message_id else None,
        sender=check.sender("from", delivery.sender),
        recipient=check.optional_address("to", delivery.recipient),
        text=check.text("text", _decode(delivery)),
        received_at=received_at,
        part=_part(delivery.udh),
        raw=raw,
    )


def _query(raw_query: str) -> check.Fields:
    # Latin-1 maps each percent-decoded byte to the one code point of the same value, so
    # encoding a value back to Latin-1 gives Kannel's bytes exactly.
    try:
        pairs = parse_qsl(
            raw_query, keep_blank_values=True, encoding="latin-1", max_num_fields=MAX_QUERY_FIELDS
        )
    except ValueError:
        raise InvalidSms("query", f"more than {MAX_QUERY_FIELDS} parameters", 400) from None
    return check.Fields(pairs)


def _from_query(query: check.Fields) -> _Delivery:
    return _Delivery(
        sender=query.get("from"),
        recipient=query.get("to"),
        data=(query.get("text") or "").encode("latin-1"),
        coding=query.get("coding"),
        charset=query.get("charset"),
        udh=(query.get("udh") or "").encode("latin-1"),
    )


def _from_post(body: bytes, headers: Mapping[str, str]) -> _Delivery:
    named = {name.lower(): value for name, value in headers.items()}
    sender = named.get("x-kannel-from")
    if not sender:
        raise InvalidSms(
            "from", "missing: from=%p in the get-url, or X-Kannel-From (send-sender = true)"
        )
    return _Delivery(
        sender=sender,
        recipient=named.get("x-kannel-to"),
        data=body,
        coding=named.get("x-kannel-coding"),
        charset=_content_charset(named.get("content-type")),
        udh=_udh_header(named.get("x-kannel-udh")),
    )


def _content_charset(content_type: str | None) -> str | None:
    # Kannel quotes it: text/plain; charset="UTF-16BE".
    header = Message()
    header["Content-Type"] = content_type or ""
    charset = header.get_param("charset")
    return charset if isinstance(charset, str) else None


def _udh_header(value: str | None) -> bytes:
    if not value:
        return b""
    if "%" in value:
        # Kannel 1.4 and later percent-encode it as they do %u (space as '+').
        return unquote_to_bytes(value.replace("+", " "))
    try:
        return bytes.fromhex(value)  # older Kannel sent hex
    except ValueError:
        raise InvalidSms("udh", "neither hex nor percent-encoded") from None


def _decode(delivery: _Delivery) -> str:
    coding = delivery.coding or "-1"
    if coding not in _CODINGS:
        raise InvalidSms("coding", "not one of 0, 1, 2 (Kannel's %c)")
    try:
        return decode_sms_payload(delivery.data, _CODINGS[coding], delivery.charset)
    except UnknownCharset:
        raise InvalidSms("charset", "not a charset we can decode") from None


def _part(udh: bytes) -> ConcatPart | None:
    if not udh:
        return None
    try:
        return parse_concat(udh)
    except InvalidUdh as exc:
        raise InvalidSms("udh", str(exc)) from None
