"""Fuzzing every SMS webhook with raw bytes (hypothesis), each correctly authenticated so the
bytes reach the parser: the answer is a 4xx, or a 2xx for an SMS that was taken (and so is
on record); never a 5xx, and the gateway keeps answering.

`make test` runs a bounded number of examples; `make fuzz` many more (LAPOR_FUZZ_EXAMPLES).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from collections.abc import Iterator
from urllib.parse import parse_qsl, quote_from_bytes

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from multidict import MultiDict
from twilio.request_validator import RequestValidator

from tests.gateway.sms_support import (
    KANNEL_SECRET,
    PUBLIC,
    SMS_SETTINGS,
    TWILIO_TOKEN,
    VONAGE_SIGNATURE_SECRET,
    vonage_md5hash,
)
from tests.processes import Launcher, ServerProcess

EXAMPLES = int(os.environ.get("LAPOR_FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=os.environ.get("LAPOR_FUZZ_EXAMPLES") is None,  # repeatable in `make test`
)
TIMEOUT = 15


@pytest.fixture(scope="module")
def sms(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    launcher = Launcher(tmp_path_factory.mktemp("webhooks"))
    environ = {f"LAPOR_{k.upper()}": str(v) for k, v in SMS_SETTINGS.items()}
    # Every SMS is answered: no rate limit hides a parser's answer behind a flood's.
    server = launcher.start(**environ, LAPOR_SMS_RATE_LIMIT="0", LAPOR_LOG_LEVEL="ERROR")
    try:
        asyncio.run(server.wait_until_up())
        yield server
    finally:
        launcher.stop_all()


def taken(server: ServerProcess, gateway: str, message_id: str) -> bool:
    with sqlite3.connect(server.db) as conn:
        found = conn.execute(
            "SELECT 1 FROM sms_messages WHERE gateway = ? AND message_id = ? "
            "UNION SELECT 1 FROM sms_parts WHERE gateway = ? AND message_id = ?",
            (gateway, message_id, gateway, message_id),
        ).fetchone()
    return found is not None


def records(server: ServerProcess) -> int:
    """SMS and parts of SMS on record."""
    with sqlite3.connect(server.db) as conn:
        (count,) = conn.execute(
            "SELECT (SELECT count(*) FROM sms_messages) + (SELECT count(*) FROM sms_parts)"
        ).fetchone()
    return int(count)


def answered_well(server: ServerProcess, status: int) -> None:
    assert status < 500, status
    assert requests.get(f"{server.base}/healthz", timeout=TIMEOUT).status_code == 200


TWILIO_FIELDS = [
    "Body", "From", "To", "MessageSid", "NumMedia", "MediaUrl0", "MediaContentType0",
    "AccountSid", "NumSegments", "SmsStatus",
]  # fmt: skip
VONAGE_FIELDS = [
    "msisdn", "to", "messageId", "text", "type", "keyword", "concat", "concat-ref",
    "concat-total", "concat-part", "message-timestamp", "data", "udh",
]  # fmt: skip

# Field values: anything at all, some of the time shaped like what a provider sends.
values = st.one_of(
    st.binary(max_size=300).map(lambda b: b.decode("latin-1")),
    st.text(max_size=300),
    st.sampled_from(["", "0", "-1", "99999999999999999999", "+6281234567890", "1708", "true"]),
)
# A delivery as the provider would send it, with any words; the fuzzed fields go over it,
# so that both what parses and what does not is reached.
message_ids = st.binary(min_size=16, max_size=16).map(bytes.hex)
twilio_deliveries = st.builds(
    lambda sid, body: {"MessageSid": f"SM{sid}", "From": "+6281234567890", "To": "1708",
                       "Body": body, "NumMedia": "0", "AccountSid": "AC" + "0" * 31 + "1"},
    message_ids,
    st.text(max_size=400),
)  # fmt: skip
vonage_deliveries = st.builds(
    lambda mid, text: {"msisdn": "6281234567890", "to": "1708", "messageId": mid[:16],
                       "text": text, "type": "text"},
    message_ids,
    st.text(max_size=400).map(lambda t: t.replace("\x00", "")),
)  # fmt: skip


@FUZZ
@given(
    body=st.binary(max_size=2000),
    base=twilio_deliveries,
    fields=st.dictionaries(st.sampled_from(TWILIO_FIELDS), values, max_size=10),
    raw=st.booleans(),
)
def test_twilio_answers_any_bytes_with_a_4xx_or_takes_them(
    sms: ServerProcess, body: bytes, base: dict[str, str], fields: dict[str, str], raw: bool
) -> None:
    fields = base | fields
    data = (
        body
        if raw
        else "&".join(
            f"{quote_from_bytes(k.encode())}={quote_from_bytes(v.encode('utf-8', 'replace'))}"
            for k, v in fields.items()
        ).encode()
    )
    try:
        params = parse_qsl(data.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        params = []
    # Signed as Twilio signs what the gateway will parse (repeated keys and all).
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(
        PUBLIC + "/webhooks/sms/twilio", MultiDict(params)
    )
    answer = requests.post(
        f"{sms.base}/webhooks/sms/twilio",
        data=data,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature,
        },
        timeout=TIMEOUT,
    )
    answered_well(sms, answer.status_code)
    if answer.ok:
        assert taken(sms, "twilio", dict(params)["MessageSid"])


@FUZZ
@given(
    base=vonage_deliveries,
    fields=st.dictionaries(st.sampled_from(VONAGE_FIELDS), values, max_size=13),
    method=st.sampled_from(["GET", "POST", "JSON"]),
)
def test_vonage_answers_any_delivery_with_a_4xx_or_takes_it(
    sms: ServerProcess, base: dict[str, str], fields: dict[str, str], method: str
) -> None:
    # Strings a URL or JSON can carry (no NUL in a query string, which clients refuse).
    fields = base | {k: v.replace("\x00", "") for k, v in fields.items()}
    fields["timestamp"] = str(int(time.time()))  # the gateway's own clock
    fields["sig"] = vonage_md5hash(fields, VONAGE_SIGNATURE_SECRET)
    url = f"{sms.base}/webhooks/sms/vonage"
    if method == "GET":
        answer = requests.get(url, params=fields, timeout=TIMEOUT)
    elif method == "POST":
        answer = requests.post(url, data=fields, timeout=TIMEOUT)
    else:
        answer = requests.post(url, json=fields, timeout=TIMEOUT)
    answered_well(sms, answer.status_code)
    if answer.ok:
        assert taken(sms, "vonage", fields["messageId"])


@FUZZ
@given(
    text=st.binary(max_size=600),
    query=st.binary(max_size=600),
    body=st.binary(max_size=1500),
    post=st.booleans(),
)
def test_kannel_takes_any_bytes_or_refuses_them_quietly(
    sms: ServerProcess, text: bytes, query: bytes, body: bytes, post: bool
) -> None:
    # The get-url of the README's sms-service, with raw bytes as the text and more
    # parameters (coding, charset, udh, …) as fuzzed bytes after it.
    raw_query = (
        f"secret={KANNEL_SECRET}&from=%2B6281234567890&to=1708&text="
        + quote_from_bytes(text)
        + "&"
        + quote_from_bytes(query, safe="=&%")
    )
    url = f"{sms.base}/webhooks/sms/kannel?{raw_query}"
    before = records(sms)
    if post:
        answer = requests.post(
            url, data=body, headers={"Content-Type": "text/plain"}, timeout=TIMEOUT
        )
    else:
        answer = requests.get(url, timeout=TIMEOUT)
    answered_well(sms, answer.status_code)
    refused = answer.headers.get("X-Lapor-Refused")
    if refused is not None:
        # What can never be filed is answered 200 with nothing to send back (smsbox would
        # text the sender about any other answer), the field named, nothing stored.
        assert answer.status_code == 200 and answer.text == "" and refused.split(":")[0]
        assert records(sms) == before
    elif answer.ok and b"id=" not in query:  # with an id, it may repeat an earlier one
        assert records(sms) > before
