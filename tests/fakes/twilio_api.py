"""A fake Twilio Programmable Messaging API: `POST /2010-04-01/Accounts/{sid}/Messages.json`,
and the media of incoming MMS, `GET /2010-04-01/Accounts/{sid}/Messages/{sid}/Media/{sid}`.

It checks what Twilio checks, in Twilio's order and with its error codes: HTTP Basic
AccountSid:AuthToken (401, 20003), the account in the path (404, 20404), `To` (21604) in
E.164 (21211), `From` or `MessagingServiceSid` (21603), `Body` (21602) of at most 1600
characters (21617). An accepted message is answered 201 with a Message resource.

A test registers an MMS's media with `add_media`, which gives the `MediaUrl` Twilio would
put in the webhook (on https://api.twilio.com; the gateway fetches its path from this
fake). The media is served after the same Basic check, directly or, as Twilio does, by a
307 to its CDN (here `/cdn/{MediaSid}` on the fake, which checks nothing: the real CDN's
URL is signed).
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from dataclasses import dataclass
from typing import Final

from aiohttp import web

from channels.sms.segments import segment_count
from tests.fakes.base import FakeProvider

_E164: Final = re.compile(r"\+[1-9][0-9]{6,14}")
_MESSAGES: Final = re.compile(r"/2010-04-01/Accounts/(?P<account>[^/]+)/Messages\.json")
_MEDIA: Final = re.compile(
    r"/2010-04-01/Accounts/(?P<account>[^/]+)/Messages/[^/]+/Media/(?P<media>[^/]+)"
)
_CDN: Final = re.compile(r"/cdn/(?P<media>[^/]+)")
_NOT_FOUND: Final = (404, 20404, "The requested resource was not found")
_MAX_BODY: Final = 1600
# What Twilio answers with for a status a test orders with fail_next.
_ERRORS: Final[dict[int, tuple[int, str]]] = {
    400: (21610, "Attempt to send to unsubscribed recipient"),
    401: (20003, "Authenticate"),
    404: (20404, "The requested resource was not found"),
    429: (20429, "Too Many Requests"),
    500: (20500, "Internal Server Error"),
    503: (20503, "Service Unavailable"),
}


def twilio_error(status: int, code: int, message: str) -> web.Response:
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    headers = {"WWW-Authenticate": 'Basic realm="Twilio API"'} if status == 401 else None
    return web.json_response(body, status=status, headers=headers)


@dataclass(frozen=True)
class Media:
    body: bytes
    content_type: str
    redirect: bool


class FakeTwilio(FakeProvider):
    # Every path of the API on the one route the base serves (so ordered failures apply
    # to any request), told apart in `accept`.
    method = "*"
    path = "/{resource:.*}"

    def __init__(self, account_sid: str, auth_token: str) -> None:
        super().__init__()
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.media: dict[str, Media] = {}
        self.media_requests: list[str] = []
        """The MediaSid of every media request that reached the API (failures ordered with
        `fail_next` answer before it)."""

    def add_media(
        self, message_sid: str, body: bytes, content_type: str, *, redirect: bool = False
    ) -> str:
        """Hold `body` as a media of the MMS `message_sid`; returns its MediaUrl."""
        media_sid = "ME" + secrets.token_hex(16)
        self.media[media_sid] = Media(body, content_type, redirect)
        return (
            f"https://api.twilio.com/2010-04-01/Accounts/{self.account_sid}"
            f"/Messages/{message_sid}/Media/{media_sid}"
        )

    def error_response(self, status: int) -> web.Response:
        code, message = _ERRORS.get(status, (20500, "Internal Server Error"))
        return twilio_error(status, code, message)

    async def accept(self, request: web.Request) -> web.Response:
        path, method = request.path, request.method
        if method == "POST" and (found := _MESSAGES.fullmatch(path)):
            return await self._message(request, found["account"])
        if method == "GET" and (found := _MEDIA.fullmatch(path)):
            self.media_requests.append(found["media"])
            return self._media(request, found["account"], found["media"])
        if method == "GET" and (found := _CDN.fullmatch(path)) and found["media"] in self.media:
            return _served(self.media[found["media"]])
        return twilio_error(*_NOT_FOUND)

    def _media(self, request: web.Request, account: str, media_sid: str) -> web.Response:
        refusal = self._unauthorised(request, account)
        if refusal is not None:
            return refusal
        media = self.media.get(media_sid)
        if media is None:
            return twilio_error(*_NOT_FOUND)
        if media.redirect:
            return web.Response(
                status=307, headers={"Location": f"{self.base_url}/cdn/{media_sid}"}
            )
        return _served(media)

    def _unauthorised(self, request: web.Request, account: str) -> web.Response | None:
        """Twilio's answer to a request with bad credentials or of another account."""
        user = self._authenticated(request.headers.get("Authorization", ""))
        if user is None:
            return twilio_error(401, 20003, "Authenticate")
        if account != user:
            return twilio_error(*_NOT_FOUND)
        return None

    async def _message(self, request: web.Request, account: str) -> web.Response:
        refusal = self._unauthorised(request, account)
        if refusal is not None:
            return refusal
        form = {name: str(value) for name, value in (await request.post()).items()}
        refusal = _refusal(form)
        if refusal is not None:
            return refusal
        self.sent.append(form)
        return web.json_response(self._resource(form), status=201)

    def _authenticated(self, header: str) -> str | None:
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return user if (user, password) == (self.account_sid, self.auth_token) else None

    def _resource(self, form: dict[str, str]) -> dict[str, object]:
        sid = "SM" + secrets.token_hex(16)
        return {
            "sid": sid,
            "account_sid": self.account_sid,
            "to": form["To"],
            "from": form.get("From"),
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "body": form["Body"],
            # With a Messaging Service the sender is chosen later: "accepted", not "queued".
            "status": "accepted" if "From" not in form else "queued",
            "num_segments": str(segment_count(form["Body"])),
            "num_media": "0",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "price": None,
            "price_unit": "USD",
            "error_code": None,
            "error_message": None,
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
        }


def _served(media: Media) -> web.Response:
    return web.Response(body=media.body, headers={"Content-Type": media.content_type})


def _refusal(form: dict[str, str]) -> web.Response | None:
    to, body = form.get("To", ""), form.get("Body", "")
    if not to:
        return twilio_error(400, 21604, "A 'To' phone number is required.")
    if not _E164.fullmatch(to):
        return twilio_error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
    if not form.get("From") and not form.get("MessagingServiceSid"):
        return twilio_error(400, 21603, "A 'From' phone number is required.")
    if not body:
        return twilio_error(400, 21602, "Message body is required.")
    if len(body) > _MAX_BODY:
        return twilio_error(
            400, 21617, "The concatenated message body exceeds the 1600 character limit."
        )
    return None
