"""`/webhooks/sms/{twilio,vonage,kannel}`: SMS to 1708 as each gateway delivers it.

Each route authenticates, parses (channels/sms/<gateway>/inbound.py), hands the message to
the SMS service, and answers only after it is committed, in the gateway's own format.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl

from aiohttp import web

from channels.app.models import FieldProblem
from channels.http import json_error, read_body_within
from channels.plugin import ChannelHost
from channels.sms.gateways import SmsGateways
from channels.sms.kannel import inbound as kannel
from channels.sms.models import ForbiddenSms, InvalidSms
from channels.sms.service import SmsService
from channels.sms.twilio import inbound as twilio
from channels.sms.vonage import inbound as vonage
from normalizer.models import RawPayload

# One SMS delivery is a few kilobytes at most (Twilio's form with ten media URLs included).
log = logging.getLogger(__name__)
MAX_DELIVERY_BYTES = 64 * 1024

Handler = Callable[[web.Request], Awaitable[web.Response]]


class SmsWebhooks:
    def __init__(self, host: ChannelHost, service: SmsService, gateways: SmsGateways) -> None:
        self._host = host
        self._service = service
        self._gateways = gateways

    def routes(self) -> list[web.RouteDef]:
        twilio_route = self._guarded("twilio", self.twilio)
        vonage_route = self._guarded("vonage", self.vonage)
        kannel_route = self._guarded("kannel", self.kannel)
        return [
            web.post("/webhooks/sms/twilio", twilio_route),
            web.get("/webhooks/sms/vonage", vonage_route, allow_head=False),
            web.post("/webhooks/sms/vonage", vonage_route),
            web.get("/webhooks/sms/kannel", kannel_route, allow_head=False),
            web.post("/webhooks/sms/kannel", kannel_route),
        ]

    def _guarded(self, gateway: str, handler: Handler) -> Handler:
        """Open only when the gateway is configured; refusals answered as the house answers."""

        async def route(request: web.Request) -> web.Response:
            if gateway not in self._gateways.webhooks:
                raise json_error(404, "channel_disabled", f"Kanal SMS {gateway} tidak aktif.")
            try:
                return await handler(request)
            except ForbiddenSms:
                raise json_error(403, "forbidden", "Tanda tangan atau kunci tidak sah.") from None
            except InvalidSms as exc:
                if gateway == "kannel":
                    return _kannel_refusal(exc)
                problem = FieldProblem(field=exc.field, reason=exc.reason)
                raise json_error(
                    exc.status, "invalid_sms", "Pesan SMS tidak dapat dibaca.", [problem]
                ) from None

        return route

    async def twilio(self, request: web.Request) -> web.Response:
        settings = self._host.settings
        body = await read_body_within(request, MAX_DELIVERY_BYTES)
        params = _form(body)
        token = settings.twilio_auth_token
        assert token is not None  # the webhook is open only with it
        # Twilio signs the URL it called: behind a proxy that is LAPOR_PUBLIC_BASE_URL.
        base = settings.public_base_url or f"{request.scheme}://{request.host}"
        twilio.verify_signature(
            token.get_secret_value(),
            base + request.path_qs,
            params,
            request.headers.get("X-Twilio-Signature"),
        )
        message = twilio.parse(params, self._host.clock(), _raw(request, body))
        reply = await self._service.receive(message)
        return web.Response(text=twilio.twiml(reply), content_type="application/xml")

    async def vonage(self, request: web.Request) -> web.Response:
        settings = self._host.settings
        body = (
            await read_body_within(request, MAX_DELIVERY_BYTES) if request.method == "POST" else b""
        )
        params = _vonage_params(request, body)
        secret = settings.vonage_signature_secret
        if secret is not None:
            method = settings.vonage_signature_method
            vonage.verify_signature(params, secret.get_secret_value(), method, self._host.clock())
        elif not settings.vonage_allow_unsigned:
            # Unsigned, anyone could file complaints in any number's name and make the
            # regency pay for replies to numbers they choose.
            raise ForbiddenSms("unsigned Vonage deliveries are refused")
        await self._service.receive(vonage.parse(params, self._host.clock(), _raw(request, body)))
        # Vonage wants a 200 and nothing else; the reply goes out through its SMS API.
        return web.Response(status=200)

    async def kannel(self, request: web.Request) -> web.Response:
        secret = self._host.settings.kannel_secret
        assert secret is not None  # the webhook is open only with it
        given = request.query.get("secret") or request.headers.get("X-Kannel-Secret")
        kannel.verify_secret(secret.get_secret_value(), given)
        body = (
            await read_body_within(request, MAX_DELIVERY_BYTES) if request.method == "POST" else b""
        )
        raw_query = request.rel_url.raw_query_string
        message = kannel.parse(
            raw_query, body, request.headers, self._host.clock(), _raw(request, body)
        )
        reply = await self._service.receive(message)
        # Kannel sends this body back as the reply SMS; with `omit-empty = true` an empty one
        # sends nothing (a part of a long message, a flood).
        return web.Response(text=reply or "", content_type="text/plain", charset="utf-8")


def _kannel_refusal(exc: InvalidSms) -> web.Response:
    """An SMS Kannel delivered (its secret was right) that can never be filed: a network's
    broadcast from a name, an unknown charset, a broken UDH. smsbox turns any answer but
    200 into "Could not fetch content, sorry." to the sender and, with the README's
    http-request-retry, asks again for minutes; so it is answered 200 with no body (no
    reply, with `omit-empty = true`), the field named in a header and in the log."""
    log.warning("kannel delivery refused: %s: %s", exc.field, exc.reason)
    return web.Response(
        status=200,
        text="",
        content_type="text/plain",
        headers={"X-Lapor-Refused": f"{exc.field}: {exc.reason}"},
    )


def _form(body: bytes) -> list[tuple[str, str]]:
    try:
        return parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise InvalidSms("body", "not UTF-8 form data", status=400) from None


def _raw(request: web.Request, body: bytes) -> RawPayload:
    """The delivery as it came, query string included (Kannel and Vonage GET carry the SMS
    there); Kannel's `secret` is dropped so it is never stored."""
    query = [(k, v) for k, v in parse_qsl(request.rel_url.raw_query_string, True) if k != "secret"]
    envelope = {"method": request.method, "query": query, "body": body.decode("latin-1")}
    content_type = request.headers.get("Content-Type", "")
    return RawPayload(
        content_type=f"application/x-sms-delivery+json; original={content_type!r}",
        body=json.dumps(envelope).encode(),
    )


def _vonage_params(request: web.Request, body: bytes) -> dict[str, str]:
    """Vonage calls with GET, POST form or POST JSON, as set in its dashboard."""
    if request.method == "GET":
        return dict(request.query)
    if request.content_type == "application/json":
        try:
            data = json.loads(body)
        except ValueError:
            raise InvalidSms("body", "not valid JSON", status=400) from None
        if not isinstance(data, dict):
            raise InvalidSms("body", "a JSON object is expected", status=400)
        return {str(k): _scalar(v) for k, v in data.items()}
    return dict(_form(body))


def _scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float) or value is None:
        return "" if value is None else str(value)
    raise InvalidSms("body", "nested JSON values are not expected", status=400)
