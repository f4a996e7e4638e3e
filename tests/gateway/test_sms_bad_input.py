"""Bad SMS deliveries get a clear 4xx naming the field, never a 500, and leave nothing
stored: a table of what a broken gateway, a forger or a fuzzer may send."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator

from tests.conftest import Running, start_gateway
from tests.gateway.sms_support import (
    KANNEL_SECRET,
    PUBLIC,
    SMS_SETTINGS,
    TWILIO_SID,
    TWILIO_TOKEN,
    VONAGE_SIGNATURE_SECRET,
    vonage_md5hash,
)

SMS_TABLES = ("complaints", "outbox", "sms_messages", "sms_parts", "sms_outbound")
TWILIO_OK = {
    "MessageSid": "SM" + "1" * 32,
    "AccountSid": TWILIO_SID,
    "From": "+6281234567890",
    "To": "1708",
    "Body": "Jalan rusak di depan pasar.",
    "NumMedia": "0",
}


@dataclass(frozen=True)
class Bad:
    case: str
    method: str
    path: str
    status: int
    named: str | None = None
    form: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    content_type: str = "application/x-www-form-urlencoded"
    sign: bool = True
    headers: dict[str, str] = field(default_factory=dict)


def twilio(case: str, status: int, field_: str | None, **changes: str | None) -> Bad:
    form = {k: v for k, v in (TWILIO_OK | changes).items() if v is not None}
    return Bad(case, "POST", "/webhooks/sms/twilio", status, field_, form=form)


def kannel(case: str, status: int, field_: str | None, query: str) -> Bad:
    return Bad(case, "GET", f"/webhooks/sms/kannel?secret={KANNEL_SECRET}&{query}", status, field_)


def vonage(case: str, status: int, field_: str | None, **form: str) -> Bad:
    base = {"msisdn": "6281234567890", "to": "1708", "messageId": "0A00000012345678",
            "text": "Jalan rusak", "type": "text"}  # fmt: skip
    values = {k: v for k, v in (base | form).items() if v != "<drop>"}
    return Bad(case, "POST", "/webhooks/sms/vonage", status, field_, form=values)


CASES = [
    twilio("twilio: no From", 422, "From", From=None),
    twilio("twilio: no MessageSid", 422, "MessageSid", MessageSid=None),
    twilio("twilio: sender is not a number", 422, "From", From="+62abc"),
    twilio("twilio: sender is a name", 422, "From", From="PROMO"),
    twilio("twilio: NumMedia not a number", 422, "NumMedia", NumMedia="dua"),
    twilio("twilio: too many media", 422, "NumMedia", NumMedia="11"),
    twilio("twilio: a NUL in the body", 422, "Body", Body="jalan\x00rusak"),
    twilio("twilio: an SMS of 5000 characters", 422, "Body", Body="a" * 5000),
    Bad("twilio: not UTF-8", "POST", "/webhooks/sms/twilio", 400, "body", body=b"Body=\xff\xfe"),
    Bad(
        "twilio: over the body limit",
        "POST",
        "/webhooks/sms/twilio",
        413,
        body=b"Body=" + b"a" * 70_000,
    ),
    Bad("twilio: unsigned", "POST", "/webhooks/sms/twilio", 403, form=TWILIO_OK, sign=False),
    # Kannel turns any 4xx into an English SMS to the sender and retries: what it
    # delivers and can never be filed is answered 200 with no body, the field in a header.
    kannel("kannel: no sender", 200, "from", "to=1708&text=halo&coding=0&charset=UTF-8"),
    kannel("kannel: a network's name", 200, "from", "from=TELKOMSEL&text=Promo+pulsa"),
    kannel("kannel: unknown charset", 200, "charset", "from=0812345678&text=halo&charset=KOI9"),
    kannel("kannel: garbled UDH", 200, "udh", "from=0812345678&text=halo&udh=%05%00%03"),
    kannel("kannel: bad coding", 200, "coding", "from=0812345678&text=halo&coding=7"),
    Bad("kannel: wrong secret", "GET", "/webhooks/sms/kannel?secret=nope&from=0812&text=x", 403),
    Bad("kannel: no secret", "GET", "/webhooks/sms/kannel?from=0812345678&text=halo", 403),
    vonage("vonage: no msisdn", 422, "msisdn", msisdn="<drop>"),
    vonage("vonage: binary", 422, "type", type="binary"),
    vonage(
        "vonage: concat without total",
        422,
        "concat-total",
        concat="true",
        **{"concat-ref": "1", "concat-part": "1"},
    ),
    vonage(
        "vonage: part past the total",
        422,
        "concat-part",
        concat="true",
        **{"concat-ref": "1", "concat-total": "2", "concat-part": "3"},
    ),
    Bad(
        "vonage: unsigned",
        "POST",
        "/webhooks/sms/vonage",
        403,
        form={"msisdn": "6281234567890", "to": "1708", "messageId": "0A1", "text": "Jalan"},
        sign=False,
    ),
    Bad(
        "vonage: JSON list",
        "POST",
        "/webhooks/sms/vonage",
        400,
        "body",
        body=b"[1, 2]",
        content_type="application/json",
    ),
    Bad(
        "vonage: broken JSON",
        "POST",
        "/webhooks/sms/vonage",
        400,
        "body",
        body=b"{",
        content_type="application/json",
    ),
]


@pytest.fixture
async def sms(tmp_path: Path) -> AsyncIterator[Running]:
    running = await start_gateway(tmp_path, **SMS_SETTINGS)
    yield running
    await running.stop()


@pytest.mark.parametrize("bad", CASES, ids=[c.case for c in CASES])
async def test_bad_deliveries_are_refused_naming_the_field(sms: Running, bad: Bad) -> None:
    form = dict(bad.form)
    headers = {"Content-Type": bad.content_type, **bad.headers}
    if bad.path.endswith("twilio") and bad.sign and bad.body is None:
        url = PUBLIC + bad.path
        headers["X-Twilio-Signature"] = RequestValidator(TWILIO_TOKEN).compute_signature(url, form)
    if bad.path.endswith("vonage") and bad.sign and bad.body is None:
        # Signed, so that what is refused is the field, not a missing signature.
        form["timestamp"] = str(int(sms.clock().timestamp()))
        form["sig"] = vonage_md5hash(form, VONAGE_SIGNATURE_SECRET)
    body = bad.body if bad.body is not None else urlencode(form).encode()
    async with sms.http.request(bad.method, bad.path, data=body, headers=headers) as response:
        if response.status == 200:  # Kannel's refusal: no reply SMS, the field in a header
            assert await response.text() == ""
            named = [response.headers["X-Lapor-Refused"].split(":")[0]]
        else:
            answer = await response.json()
            named = [f["field"] for f in answer["fields"]]
        assert response.status == bad.status, named
    if bad.named is not None:
        assert named == [bad.named]
    assert {t: sms.count(t) for t in SMS_TABLES} == dict.fromkeys(SMS_TABLES, 0)


async def test_a_gateway_that_is_not_configured_is_not_there(tmp_path: Path) -> None:
    running = await start_gateway(tmp_path)  # no SMS secrets at all
    try:
        for path in ("/webhooks/sms/twilio", "/webhooks/sms/kannel", "/webhooks/sms/vonage"):
            async with running.http.post(path, data={"From": "+6281234567890"}) as response:
                assert response.status == 404
                assert (await response.json())["error"] == "channel_disabled"
    finally:
        await running.stop()
