"""Vonage's (Nexmo's) inbound-SMS webhook: check its signature, read its fields.

Vonage calls us with a GET query, a POST form or a POST JSON body, all carrying the same
flat fields: msisdn, to, messageId, text, type (text, unicode, binary), keyword,
message-timestamp, and when signing is on timestamp, nonce and sig. Vonage does not
reassemble a long SMS: each part is a delivery of its own with concat="true" and
concat-ref, concat-total, concat-part. The route flattens any of the three shapes into
one mapping of strings; the text in it is already decoded.

The signature is implemented here rather than taken from the `vonage` SDK (v4): its
`Auth.check_signature` does not know the "MD5 hash" method (Vonage's default), needs an
API key just to check, changes the mapping it is given, and brings vonage-jwt,
cryptography and requests along.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Final

from channels.sms import inbound_fields as check
from channels.sms.models import ConcatPart, ForbiddenSms, InvalidSms, SmsMessage
from normalizer.models import RawPayload

GATEWAY: Final = "vonage"
MAX_CLOCK_SKEW: Final = timedelta(minutes=5)
"""How far ahead of our clock a signed delivery's timestamp may be (a clock a little off)."""
RETRY_PERIOD: Final = timedelta(hours=24)
"""How long Vonage retries a delivery it got no 200 for. Its `timestamp` stays the time of
the first push, so a retry after an outage of ours is that old: it is taken (once, by its
messageId), as is anything up to this plus the skew. A replay of a delivery we took is
recognised by its messageId and changes nothing; older ones are refused."""

MD5_HASH: Final = "md5hash"
"""Vonage's default signing method: MD5 of the parameter string with the secret appended."""

HMAC_METHODS: Final = frozenset({"md5", "sha1", "sha256", "sha512"})

_TEXT_TYPES: Final = frozenset({"text", "unicode"})
# Unix seconds; ten digits reach the year 2286 and keep datetime in range.
_UNIX_SECONDS: Final = re.compile(r"[0-9]{1,10}", re.ASCII)

_Digest = Callable[[str, str], str]
"""(secret, message) → lower-case hex digest: the one shape of every method."""


def verify_signature(params: Mapping[str, str], secret: str, method: str, now: datetime) -> None:
    """Raise ForbiddenSms unless `sig` signs every other parameter with our signature
    secret and `timestamp` is no more than MAX_CLOCK_SKEW ahead of `now` and no older than
    Vonage's RETRY_PERIOD (plus the skew).

    `method` is the one chosen in the Vonage dashboard: "md5hash" or an HMAC digest
    ("md5", "sha1", "sha256", "sha512"); anything else is a configuration error."""
    digest = _digest_for(method)
    if not secret:
        # An empty key is one anybody can sign with.
        raise ForbiddenSms("no Vonage signature secret configured")
    signature = params.get("sig")
    if not signature:
        raise ForbiddenSms("missing sig")
    _check_fresh(params.get("timestamp"), now)
    expected = digest(secret, _signed_string(params))
    # hexdigest is lower case; some Vonage signers send upper case.
    if not hmac.compare_digest(expected.encode(), signature.lower().encode()):
        raise ForbiddenSms("sig does not match")


def parse(params: Mapping[str, str], received_at: datetime, raw: RawPayload) -> SmsMessage:
    """The SMS, or the part of a long one, a verified Vonage webhook describes."""
    _check_type(params.get("type"))
    return SmsMessage(
        gateway=GATEWAY,
        message_id=check.identifier("messageId", params.get("messageId")),
        sender=check.sender("msisdn", params.get("msisdn")),
        recipient=check.optional_address("to", params.get("to")),
        text=check.text("text", params.get("text") or ""),
        received_at=received_at,
        part=_part(params) if params.get("concat") == "true" else None,
        raw=raw,
    )


def _signed_string(params: Mapping[str, str]) -> str:
    # Every parameter but sig, sorted by name, as "&name=value"; Vonage replaces & and =
    # inside values so that a value cannot pose as another parameter.
    return "".join(
        f"&{name}={params[name].replace('&', '_').replace('=', '_')}"
        for name in sorted(params)
        if name != "sig"
    )


def _digest_for(method: str) -> _Digest:
    name = method.strip().lower()
    if name == MD5_HASH:
        return _md5_hash
    if name in HMAC_METHODS:
        return lambda secret, message: hmac.new(secret.encode(), message.encode(), name).hexdigest()
    raise ValueError(f"unknown Vonage signature method {method!r}")


def _md5_hash(secret: str, message: str) -> str:
    return hashlib.md5((message + secret).encode()).hexdigest()


def _check_fresh(timestamp: str | None, now: datetime) -> None:
    if timestamp is None or not _UNIX_SECONDS.fullmatch(timestamp):
        raise ForbiddenSms("missing or malformed timestamp")
    signed_at = datetime.fromtimestamp(int(timestamp), UTC)
    if signed_at - now > MAX_CLOCK_SKEW:
        raise ForbiddenSms("timestamp in the future: a wrong clock")
    if now - signed_at > RETRY_PERIOD + MAX_CLOCK_SKEW:
        raise ForbiddenSms("timestamp older than Vonage's retries: a replay")


def _check_type(message_type: str | None) -> None:
    if message_type == "binary":
        raise InvalidSms("type", "binary messages are not supported")
    if message_type not in _TEXT_TYPES:
        raise InvalidSms("type", "not one of text, unicode")


def _part(params: Mapping[str, str]) -> ConcatPart:
    reference = check.integer("concat-ref", params.get("concat-ref"), 0, 0xFFFF)
    total = check.integer("concat-total", params.get("concat-total"), 2, 255)
    seq = check.integer("concat-part", params.get("concat-part"), 1, 255)
    if seq > total:
        raise InvalidSms("concat-part", "greater than concat-total")
    return ConcatPart(reference=reference, total=total, seq=seq)
