"""Twilio's incoming-message webhook: check its signature, read its form, answer in TwiML.

Twilio POSTs `application/x-www-form-urlencoded` fields (MessageSid, AccountSid, From,
To, Body, NumMedia, MediaUrl{N}, MediaContentType{N} and geographic extras we keep only
in the raw payload) and signs them with the account's auth token in X-Twilio-Signature.
Twilio reassembles a long SMS itself, so every delivery is a whole message.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Final
from urllib.parse import urlparse, urlsplit
from xml.sax.saxutils import escape

from multidict import MultiDict
from twilio.request_validator import RequestValidator, add_port, remove_port

from channels.sms import inbound_fields as check
from channels.sms.models import ForbiddenSms, InvalidSms, MediaRef, SmsMessage
from normalizer.models import RawPayload

GATEWAY: Final = "twilio"
MAX_MEDIA: Final = 10
"""Twilio's own limit of media on one message."""

MAX_MEDIA_URL_CHARS: Final = 2048

_MESSAGE_SID: Final = re.compile(r"(SM|MM)[0-9a-fA-F]{32}", re.ASCII)
_ACCOUNT_SID: Final = re.compile(r"AC[0-9a-fA-F]{32}", re.ASCII)
# type/subtype as RFC 6838 names them, optionally followed by printable parameters.
_CONTENT_TYPE: Final = re.compile(
    r"[A-Za-z0-9][\w!#$&^.+-]{0,63}/[A-Za-z0-9][\w!#$&^.+-]{0,63}(;[ -~]{0,128})?", re.ASCII
)
# Characters XML 1.0 cannot carry at all, escaped or not: a reply that echoes a
# citizen's control character must not turn the whole TwiML document invalid.
_XML_DECLARATION: Final = '<?xml version="1.0" encoding="UTF-8"?>'
_NOT_XML: Final = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def verify_signature(
    auth_token: str, url: str, params: Sequence[tuple[str, str]], signature: str | None
) -> None:
    """Raise ForbiddenSms unless X-Twilio-Signature signs `url` and `params` with our token.

    `url` is the address Twilio was told to call, query included, as Twilio sees it (the
    public https one, not what a proxy forwards to us). Twilio's own validator is used
    so its rules hold exactly: repeated keys, and the URL accepted with or without an
    explicit :443/:80 because Twilio's signer is not consistent about the port."""
    if not auth_token:
        # An empty HMAC key is one anybody can sign with.
        raise ForbiddenSms("no Twilio auth token configured")
    if not signature:
        raise ForbiddenSms("missing X-Twilio-Signature")
    # A MultiDict keeps every value of a repeated key (the validator reads getall()).
    form = MultiDict(params)
    validator = RequestValidator(auth_token)
    # What RequestValidator.validate does, stopping at the first match: it signs the URL
    # without and with the port and compares both, an HMAC more than needed per SMS.
    for candidate in _signed_urls(url):
        expected = validator.compute_signature(candidate, form)
        if hmac.compare_digest(expected.encode(), signature.encode()):
            return
    raise ForbiddenSms("X-Twilio-Signature does not match")


@lru_cache(maxsize=64)
def _signed_urls(url: str) -> tuple[str, str]:
    """`url` without and with its port: Twilio calls the few addresses it was given, and
    taking one apart and together again cost as much as its HMAC, on every SMS."""
    parsed = urlparse(url)
    return remove_port(parsed), add_port(parsed)


def parse(params: Sequence[tuple[str, str]], received_at: datetime, raw: RawPayload) -> SmsMessage:
    """The SMS (or MMS) a verified Twilio webhook describes."""
    fields = check.Fields(params)
    message_id = _sid("MessageSid", fields.get("MessageSid") or fields.get("SmsSid"), _MESSAGE_SID)
    # Not kept, but a delivery without an AccountSid is not shaped like anything Twilio sends.
    _sid("AccountSid", fields.get("AccountSid"), _ACCOUNT_SID)
    media = _media(fields)
    return SmsMessage(
        gateway=GATEWAY,
        message_id=message_id,
        sender=check.sender("From", fields.get("From")),
        recipient=check.optional_address("To", fields.get("To")),
        text=check.text("Body", fields.get("Body") or ""),
        received_at=received_at,
        media=media,
        raw=raw,
    )


def twiml(reply: str | None) -> str:
    """The TwiML answer: one <Message> with `reply`, or an empty <Response/> (no SMS).

    Written out as the library's MessagingResponse writes it (a test holds the two equal):
    building an ElementTree for it costs ten times as much, on every SMS."""
    if not reply:
        return f"{_XML_DECLARATION}<Response />"
    text = escape(_NOT_XML.sub("", reply))
    return f"{_XML_DECLARATION}<Response><Message>{text}</Message></Response>"


def _sid(field: str, value: str | None, shape: re.Pattern[str]) -> str:
    sid = check.require(field, value)
    if not shape.fullmatch(sid):
        raise InvalidSms(field, "not a Twilio SID")
    return sid


def _media(fields: check.Fields) -> tuple[MediaRef, ...]:
    count = check.integer("NumMedia", fields.get("NumMedia") or "0", 0, MAX_MEDIA)
    return tuple(_media_ref(fields, index) for index in range(count))


def _media_ref(fields: check.Fields, index: int) -> MediaRef:
    url_field, type_field = f"MediaUrl{index}", f"MediaContentType{index}"
    url = check.require(url_field, fields.get(url_field))
    content_type = check.require(type_field, fields.get(type_field))
    if len(url) > MAX_MEDIA_URL_CHARS or not _is_https_url(url):
        raise InvalidSms(url_field, f"not an https URL of at most {MAX_MEDIA_URL_CHARS} characters")
    if not _CONTENT_TYPE.fullmatch(content_type):
        raise InvalidSms(type_field, "not a media type such as image/jpeg")
    return MediaRef(url=url, content_type=content_type)


def _is_https_url(url: str) -> bool:
    if not url.isascii() or not url.isprintable() or " " in url:
        return False
    try:
        parts = urlsplit(url)
    except ValueError:  # an unbalanced [ in the host
        return False
    return parts.scheme == "https" and bool(parts.hostname)
