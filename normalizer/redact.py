"""Blank who sent a message out of its raw payload: an anonymous reporter stays anonymous
to everyone who handles the case, in the payload a person may open as well.

Pure and total: a payload it cannot read is replaced by a note saying so, never shown as
it came, since the sender may be anywhere in bytes we do not understand.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlencode

from normalizer.models import RawPayload

BLANK = ""

# Every field name, in any provider's payload or our own forms, that names or reaches the
# sender (compared in lower case): Twilio, Vonage, Kannel, Gammu, the app and desk forms,
# e-mail headers, X, Telegram and Messenger users.
SENDER_FIELDS = frozenset(
    {
        "from", "fromcity", "fromstate", "fromzip", "fromcountry",
        "msisdn", "sender", "sendernumber", "phone", "email", "name", "reporter",
        "reporter_name", "reporter_phone", "reporter_email", "author_id", "username",
        "first_name", "last_name", "user", "chat", "reply-to", "return-path", "display_name",
    }
)  # fmt: skip


def redact_payload(raw: RawPayload) -> RawPayload:
    """The payload with every sender field blanked, in the format it came in."""
    body = raw.body
    try:
        if raw.content_type.startswith(("application/json", "application/x-sms-delivery+json")):
            data = _blank(json.loads(body))
            if isinstance(data, dict) and isinstance(data.get("body"), str):
                data["body"] = _redact_text(data["body"])  # a delivery envelope's form body
            return RawPayload(content_type=raw.content_type, body=json.dumps(data).encode())
        if raw.content_type.startswith("application/x-www-form-urlencoded"):
            text = _redact_text(body.decode("utf-8"))
            return RawPayload(content_type=raw.content_type, body=text.encode())
    except (ValueError, UnicodeDecodeError):
        pass
    note = b"[payload hidden: the reporter asked to stay anonymous]"
    return RawPayload(content_type="text/plain", body=note)


def _blank(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: BLANK if _sender(k) else _blank(v) for k, v in value.items()}
    if isinstance(value, list):
        # A delivery's query string is kept as [name, value] pairs.
        if len(value) == 2 and isinstance(value[0], str) and _sender(value[0]):
            return [value[0], BLANK]
        return [_blank(v) for v in value]
    return value


def _redact_text(form: str) -> str:
    pairs = parse_qsl(form, keep_blank_values=True)
    if not pairs:
        return form
    return urlencode([(k, BLANK if _sender(k) else v) for k, v in pairs])


def _sender(key: object) -> bool:
    return isinstance(key, str) and key.lower() in SENDER_FIELDS
