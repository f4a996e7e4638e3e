"""A fake Kannel smsbox `sendsms` interface: `GET /cgi-bin/sendsms?username=…`.

It checks in the order of smsbox's own code (gw/smsbox.c, Kannel 1.4) and answers with
its texts: 403 "Authorization failed for sendsms"; 400 for a missing or empty `to`, a `to`
with characters outside sendsms-chars ("0123456789 +-"), no sender and no default, a
`coding` outside -1..2, or text its charset cannot decode. The text is decoded as Kannel
does: the percent-decoded bytes in `charset`, by default UTF-8, or UTF-16BE with coding=2,
so a sender that forgets the charset of UCS-2 text gets garbage recorded. Accepted
messages are answered 202 "0: Accepted for delivery" (or, built with `queued=True`,
"3: Queued for later delivery", as when no SMSC is connected).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Final
from urllib.parse import parse_qsl

from aiohttp import web

from tests.fakes.base import FakeProvider

_NUMBER_CHARS: Final = frozenset("0123456789 +-")
_UCS2: Final = 2
# What smsbox answers for a status a test orders with fail_next.
_ANSWERS: Final = {
    400: "Missing receiver number, rejected",
    403: "Not routable. Do not try again.",
    500: "Sending failed.",
    503: "Temporal failure, try again later.",
}


def kannel_answer(status: int, text: str) -> web.Response:
    return web.Response(status=status, text=text, content_type="text/html")


class FakeKannel(FakeProvider):
    method = "GET"
    path = "/cgi-bin/sendsms"

    def __init__(
        self,
        username: str,
        password: str,
        *,
        default_sender: str | None = None,
        queued: bool = False,
    ) -> None:
        super().__init__()
        self.username = username
        self.password = password
        self.default_sender = default_sender
        self.queued = queued

    @property
    def sendsms_url(self) -> str:
        return self.base_url + self.path

    def error_response(self, status: int) -> web.Response:
        return kannel_answer(status, _ANSWERS.get(status, HTTPStatus(status).phrase))

    async def accept(self, request: web.Request) -> web.Response:
        # Latin-1 maps every byte to one character, so the text's bytes come back intact
        # for decoding in its own charset below.
        query = request.rel_url.raw_query_string
        args: dict[str, str] = {}
        for name, value in parse_qsl(query, keep_blank_values=True, encoding="latin-1"):
            args.setdefault(name, value)  # smsbox reads the first of repeated parameters
        refusal = self._refusal(args)
        if refusal is not None:
            return refusal
        text = _text(args)
        if text is None:
            return kannel_answer(400, "Charset or body misformed, rejected")
        self.sent.append({**args, "text": text})
        if self.queued:
            return kannel_answer(202, "3: Queued for later delivery")
        return kannel_answer(202, "0: Accepted for delivery")

    def _refusal(self, args: dict[str, str]) -> web.Response | None:
        user = args.get("username", args.get("user"))
        password = args.get("password", args.get("pass"))
        if (user, password) != (self.username, self.password):
            return kannel_answer(403, "Authorization failed for sendsms")
        if "to" not in args:
            return kannel_answer(400, "Missing receiver number, rejected")
        if not args["to"]:
            return kannel_answer(400, "Empty receiver number not allowed, rejected")
        if not any(set(number) <= _NUMBER_CHARS for number in args["to"].split()):
            return kannel_answer(
                400, "Number(s) has/have been denied by white- and/or black-lists."
            )
        if not args.get("from") and not self.default_sender:
            return kannel_answer(400, "Sender missing and no global set, rejected")
        if _coding(args) not in (-1, 0, 1, 2):
            return kannel_answer(400, "Coding field misformed, rejected")
        return None


def _coding(args: dict[str, str]) -> int:
    try:
        return int(args.get("coding", "-1"))
    except ValueError:
        return -1  # smsbox's sscanf("%d") leaves the parameter undefined


def _text(args: dict[str, str]) -> str | None:
    default = "UTF-16BE" if _coding(args) == _UCS2 else "UTF-8"
    try:
        return args.get("text", "").encode("latin-1").decode(args.get("charset") or default)
    except (LookupError, UnicodeDecodeError):
        return None
