"""Driving the SMS webhooks as the gateways do: signed Twilio forms, Vonage deliveries,
Kannel's get-url; and reading what the SMS channel stored."""

from __future__ import annotations

import hashlib
import random
import re
import sqlite3
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_from_bytes, urlencode

from aiohttp import ClientSession
from twilio.request_validator import RequestValidator

from tests.conftest import Running

TWILIO_SID = "AC" + "0" * 31 + "1"
TWILIO_TOKEN = "twilio-auth-token-for-tests"
PUBLIC = "https://lapor.ketapangkab.go.id"
TWILIO_URL = PUBLIC + "/webhooks/sms/twilio"
KANNEL_SECRET = "kannel-shared-secret"
VONAGE_KEY, VONAGE_SECRET = "abcd1234", "vonage-api-secret"
VONAGE_SIGNATURE_SECRET = "Zk8wQ3rT6yP1sV4n"
CITIZEN = "+6281234567890"
NEIGHBOUR = "+6285712345678"
TEXT = "Jalan rusak di depan Pasar Delta Pawan, lubang besar, dua motor jatuh minggu ini."

SMS_SETTINGS: dict[str, Any] = {
    "public_base_url": PUBLIC,
    "twilio_auth_token": TWILIO_TOKEN,
    "kannel_secret": KANNEL_SECRET,
    "vonage_api_key": VONAGE_KEY,
    "vonage_signature_secret": VONAGE_SIGNATURE_SECRET,
}


def signed_twilio_form(
    body: str, sender: str, sid: str, *, token: str = TWILIO_TOKEN, url: str = TWILIO_URL
) -> tuple[dict[str, str], str]:
    """A Twilio SMS webhook form as Twilio sends it, and its `X-Twilio-Signature` (computed
    by Twilio's own validator)."""
    params = {
        "ToCountry": "ID",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "SmsSid": sid,
        "FromCountry": "ID",
        "Body": body,
        "To": "1708",
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": TWILIO_SID,
        "From": sender,
        "ApiVersion": "2010-04-01",
    }
    return params, RequestValidator(token).compute_signature(url, params)


async def twilio_sms(
    running: Running,
    body: str,
    *,
    sender: str = CITIZEN,
    sid: str | None = None,
    signature: str | None = None,
    url: str = TWILIO_URL,
) -> tuple[int, str]:
    """POST a Twilio SMS webhook signed as Twilio signs it, for the address `url` (the one
    Twilio is configured to call: the gateway's public one)."""
    params, signed = signed_twilio_form(body, sender, sid or "SM" + uuid.uuid4().hex, url=url)
    headers = {
        "X-Twilio-Signature": signature if signature is not None else signed,
        "Content-Type": "application/x-www-form-urlencoded",
    }
    async with running.http.post(
        "/webhooks/sms/twilio", data=urlencode(params), headers=headers
    ) as response:
        return response.status, await response.text()


# Words for many distinct complaints, for the crash tests and the load of `make bench`.
PROBLEMS = (
    "Jalan berlubang",
    "Lampu jalan mati",
    "Air PDAM keruh dan berbau",
    "Sampah menumpuk tidak diangkut",
    "Jembatan kayu retak",
    "Saluran air tersumbat",
    "Ada pungutan liar",
    "Puskesmas tutup pada jam kerja",
)
PLACES = (
    "di Jl. Merdeka",
    "di Desa Sukamaju",
    "di Kelurahan Sampit",
    "dekat Pasar Delta Pawan",
    "di depan SDN 3 Ketapang",
    "di Kecamatan Matan Hilir Selatan",
)
SINCE = ("sejak seminggu", "sudah dua bulan", "sejak hari Senin", "setiap malam")


@dataclass(frozen=True)
class SignedDelivery:
    """One Twilio SMS delivery, signed, ready to be sent (and sent again)."""

    sid: str
    form: str
    signature: str


def signed_deliveries(rng: random.Random, n: int) -> list[SignedDelivery]:
    """`n` SMS from `n` different numbers (so no rate limit and no duplicate window joins
    two of them), each a complaint in words of its own."""
    numbers = rng.sample(range(10**8), n)
    made = []
    for i, number in enumerate(numbers):
        text = (
            f"{rng.choice(PROBLEMS)} {rng.choice(PLACES)} {rng.choice(SINCE)}, "
            f"mohon segera ditangani (laporan {i})."
        )
        sid = f"SM{rng.getrandbits(128):032x}"
        params, signature = signed_twilio_form(text, f"+62812{number:08d}", sid)
        made.append(SignedDelivery(sid, urlencode(params), signature))
    return made


@dataclass(frozen=True)
class Answer:
    status: int
    retry_after: str | None
    text: str
    seconds: float

    @property
    def tracking_id(self) -> str:
        return tracking_id_in(twiml_text(self.text) or self.text)


async def deliver(http: ClientSession, base: str, delivery: SignedDelivery) -> Answer:
    headers = {
        "X-Twilio-Signature": delivery.signature,
        "Content-Type": "application/x-www-form-urlencoded",
    }
    started = time.monotonic()
    async with http.post(
        f"{base}/webhooks/sms/twilio", data=delivery.form, headers=headers
    ) as response:
        text = await response.text()
    seconds = time.monotonic() - started
    return Answer(response.status, response.headers.get("Retry-After"), text, seconds)


def twiml_text(twiml: str) -> str | None:
    """The reply SMS in a TwiML answer; None for an empty <Response/>."""
    if "<Message>" not in twiml:
        return None
    inner = twiml.split("<Message>", 1)[1].split("</Message>", 1)[0]
    return inner.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def kannel_query(
    text: bytes,
    *,
    sender: str = "081234567890",
    message_id: str | None = None,
    coding: int = 0,
    charset: str = "UTF-8",
    udh: bytes = b"",
    secret: str = KANNEL_SECRET,
) -> str:
    """Kannel's get-url query with its escapes filled in, raw bytes percent-encoded."""
    fields: list[tuple[str, bytes]] = [
        ("secret", secret.encode()),
        ("from", sender.encode()),
        ("to", b"1708"),
        ("text", text),
        ("coding", str(coding).encode()),
        ("charset", charset.encode()),
        ("udh", udh),
        ("smsc", b"telkomsel"),
        ("id", (message_id or str(uuid.uuid4())).encode()),
    ]
    return "&".join(f"{k}={quote_from_bytes(v, safe='')}" for k, v in fields)


async def kannel_sms(running: Running, text: bytes, **fields: Any) -> tuple[int, str]:
    """GET Kannel's get-url; `fields` as `kannel_query` takes them."""
    query = kannel_query(text, **fields)
    async with running.http.get(f"/webhooks/sms/kannel?{query}") as response:
        return response.status, await response.text()


async def vonage_sms(running: Running, **fields: str) -> int:
    """POST a Vonage inbound-SMS webhook, signed as Vonage signs it (md5hash) at the
    gateway's own time."""
    params = {
        "msisdn": CITIZEN.removeprefix("+"),
        "to": "1708",
        "messageId": uuid.uuid4().hex[:16].upper(),
        "text": TEXT,
        "type": "text",
        "keyword": TEXT.split()[0].upper(),
        "api-key": VONAGE_KEY,
        "message-timestamp": "2026-08-14 03:00:00",
        "timestamp": str(int(running.clock().timestamp())),
        "nonce": uuid.uuid4().hex,
    } | fields
    params["sig"] = vonage_md5hash(params, VONAGE_SIGNATURE_SECRET)
    async with running.http.post("/webhooks/sms/vonage", data=params) as response:
        return response.status


def vonage_md5hash(params: dict[str, str], secret: str) -> str:
    """Vonage's default signature, as its documentation gives it: every parameter sorted by
    name as "&name=value" (with & and = in values replaced by _), the secret appended, MD5."""
    signed = "".join(
        f"&{name}={value.replace('&', '_').replace('=', '_')}"
        for name, value in sorted(params.items())
        if name != "sig"
    )
    return hashlib.md5((signed + secret).encode()).hexdigest()


def query(running: Running, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Read the gateway's SQLite file through a connection of the test's own."""
    conn = sqlite3.connect(running.sqlite_store.path)
    try:
        return list(conn.execute(sql, params).fetchall())
    finally:
        conn.close()


def tracking_id_in(reply: str) -> str:
    """The tracking ID an acknowledgement carries (`no. K7M2XQ9PD`)."""
    match = re.search(r"\bno\. ([2-9A-Z]{9})\b", reply)
    assert match, reply
    return match.group(1)
