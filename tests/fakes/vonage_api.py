"""A fake Vonage (Nexmo) SMS API: `POST /sms/json`, form-encoded or JSON.

Like Vonage it answers HTTP 200 with one `messages` entry per part even when it refuses:
status "2" for a missing field (credentials included), "4" for bad credentials, "3" for
an invalid field (a `to` that is not all digits, an unknown `type`). On top of the shared
failures, `refuse_next("1")` makes the next valid request come back with that status on
its last part (earlier parts "0", as when Vonage sends some parts of a long text and
throttles the rest). `sent` holds only messages whose every part was accepted.
"""

from __future__ import annotations

import secrets
from collections import deque
from http import HTTPStatus
from typing import Final

from aiohttp import web

from channels.sms.segments import segment_count
from tests.fakes.base import FakeProvider

_REQUIRED: Final = ("from", "to", "text")
_TYPES: Final = frozenset({"text", "unicode", "binary", "wappush", "vcal", "vcard"})
_ERROR_TEXTS: Final = {
    "1": "Throttled",
    "4": "Bad Credentials",
    "5": "Internal Error",
    "9": "Quota Exceeded - rejected",
    "29": "Non White-listed Destination - rejected",
}


def vonage_answer(entries: list[dict[str, str]]) -> web.Response:
    return web.json_response({"message-count": str(len(entries)), "messages": entries})


def vonage_refusal(status: str, text: str) -> web.Response:
    return vonage_answer([{"status": status, "error-text": text}])


class FakeVonage(FakeProvider):
    path = "/sms/json"

    def __init__(self, api_key: str, api_secret: str) -> None:
        super().__init__()
        self.api_key = api_key
        self.api_secret = api_secret
        self._refusals: deque[str] = deque()

    def refuse_next(self, status: str, *, times: int = 1) -> None:
        self._refusals.extend([status] * times)

    def error_response(self, status: int) -> web.Response:
        title = HTTPStatus(status).phrase
        body = {"type": f"https://developer.vonage.com/api-errors#{status}", "title": title}
        return web.json_response(body, status=status)

    async def accept(self, request: web.Request) -> web.Response:
        fields = await _fields(request)
        refusal = self._refusal(fields)
        if refusal is not None:
            return refusal
        entries = [self._part(fields) for _ in range(segment_count(fields["text"]))]
        if self._refusals:
            status = self._refusals.popleft()
            entries[-1] = {
                "to": fields["to"],
                "status": status,
                "error-text": _ERROR_TEXTS.get(status, "Rejected"),
            }
        else:
            self.sent.append(fields)
        return vonage_answer(entries)

    def _refusal(self, fields: dict[str, str]) -> web.Response | None:
        for name in ("api_key", "api_secret", *_REQUIRED):
            if not fields.get(name):
                return vonage_refusal("2", f"Missing {name}")
        if (fields["api_key"], fields["api_secret"]) != (self.api_key, self.api_secret):
            return vonage_refusal("4", "Bad Credentials")
        if not fields["to"].isdigit():
            return vonage_refusal("3", "Invalid to param")
        if fields.get("type", "text") not in _TYPES:
            return vonage_refusal("3", "Invalid type param")
        return None

    def _part(self, fields: dict[str, str]) -> dict[str, str]:
        part = {
            "to": fields["to"],
            "message-id": secrets.token_hex(8).upper(),
            "status": "0",
            "remaining-balance": "15.53590000",
            "message-price": "0.03330000",
            "network": "51010",
        }
        if "client-ref" in fields:
            part["client-ref"] = fields["client-ref"]
        return part


async def _fields(request: web.Request) -> dict[str, str]:
    if request.content_type == "application/json":
        document = await request.json()
        return {str(name): str(value) for name, value in dict(document).items()}
    return {name: str(value) for name, value in (await request.post()).items()}
