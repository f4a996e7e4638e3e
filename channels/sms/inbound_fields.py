"""The rules every inbound SMS adapter applies to the fields a gateway hands over.

Whoever knows a webhook's address can post anything to it, so each value is hostile
until checked: overlong, full of control characters, a number that is no number. One
rule set for Twilio, Vonage and Kannel means the same SMS is judged the same way
whichever gateway carried it. Every failure is an `InvalidSms` naming the wire field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

from channels.sms.models import InvalidSms
from normalizer.phone import InvalidPhone, normalize_phone

MAX_TEXT_CHARS: Final = 1600
"""Most characters one delivery may carry: Twilio's own ceiling (it reassembles up to 10
segments); far above one part from Vonage or Kannel, and above what Kannel reassembles
from the usual few parts."""

MAX_ADDRESS_CHARS: Final = 20
"""E.164 has at most 15 digits and an alphanumeric sender name at most 11 characters."""

MAX_ID_CHARS: Final = 64

# A phone number (with or without +) or an alphanumeric sender name ("TELKOMSEL",
# "INFO BMKG"): letters and digits, inner spaces, dots and hyphens, nothing else.
_ADDRESS: Final = re.compile(r"\+?[0-9A-Za-z](?:[0-9A-Za-z .-]*[0-9A-Za-z])?", re.ASCII)
_ID: Final = re.compile(r"[0-9A-Za-z][0-9A-Za-z._:-]*", re.ASCII)
_DIGITS: Final = re.compile(r"[0-9]{1,6}", re.ASCII)
# Line breaks and tabs are text; GSM's extension table also maps ESC 0x0A to form feed.
# Control characters (Unicode category Cc: C0, DEL, C1) other than tab, line feed,
# carriage return and form feed, and lone surrogates (Cs): one regex scan, not a
# Python-level look at each character.
_FORBIDDEN_IN_TEXT: Final = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


class Fields:
    """A request's fields by name. One that arrives twice is refused rather than guessed
    at: which of the two copies would the gateway have meant?"""

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        self._values: dict[str, list[str]] = {}
        for name, value in pairs:
            self._values.setdefault(name, []).append(value)

    def __contains__(self, name: str) -> bool:
        return name in self._values

    def get(self, name: str) -> str | None:
        values = self._values.get(name)
        if values is None:
            return None
        if len(values) > 1:
            raise InvalidSms(name, "given more than once")
        return values[0]


def require(field: str, value: str | None) -> str:
    """The value of a field the delivery cannot do without."""
    if value is None or not value.strip():
        raise InvalidSms(field, "missing")
    return value


def address(field: str, value: str | None) -> str:
    """A sender or recipient: a phone number or a sender name, as the gateway gave it."""
    value = require(field, value)
    if len(value) > MAX_ADDRESS_CHARS:
        raise InvalidSms(field, f"longer than {MAX_ADDRESS_CHARS} characters")
    if not _ADDRESS.fullmatch(value):
        raise InvalidSms(field, "not a phone number or sender name")
    return value


def sender(field: str, value: str | None) -> str:
    """The citizen's number in E.164 (or a short code's digits): the one form the store
    compares, so `CEK` from 0812… finds what +62812… filed. A sender name (a network's
    broadcast) is no one we can answer."""
    try:
        return normalize_phone(address(field, value))
    except InvalidPhone as exc:
        raise InvalidSms(field, f"not a phone number: {exc}") from None


def optional_address(field: str, value: str | None) -> str | None:
    """A recipient the gateway may leave out (or blank): None, else a checked address."""
    return address(field, value) if value else None


def identifier(field: str, value: str | None) -> str:
    """A gateway's message id: it becomes our idempotency key, so it stays plain ASCII."""
    value = require(field, value)
    if len(value) > MAX_ID_CHARS:
        raise InvalidSms(field, f"longer than {MAX_ID_CHARS} characters")
    if not _ID.fullmatch(value):
        raise InvalidSms(field, "not a message id (letters, digits, '.', '_', ':', '-')")
    return value


def text(field: str, value: str) -> str:
    """The message text, kept as sent (the normaliser tidies it), within our limit.

    An empty text is a real SMS (a pocket send, a photo alone) and is answered with help,
    not refused: a gateway told 4xx retries it (Vonage for a day). Other control characters
    and lone surrogates are refused rather than dropped: no phone sends them, and
    PostgreSQL cannot even store a NUL in the original text."""
    if len(value) > MAX_TEXT_CHARS:
        raise InvalidSms(field, f"longer than {MAX_TEXT_CHARS} characters")
    if _FORBIDDEN_IN_TEXT.search(value):
        raise InvalidSms(field, "contains control characters or invalid Unicode")
    return value


def integer(field: str, value: str | None, low: int, high: int) -> int:
    """A small count or index. ASCII digits only: int() would also take '+5', ' 5',
    '5_0' and other scripts' digits, none of which a gateway sends."""
    value = require(field, value)
    if not _DIGITS.fullmatch(value) or not low <= int(value) <= high:
        raise InvalidSms(field, f"not a whole number from {low} to {high}")
    return int(value)
