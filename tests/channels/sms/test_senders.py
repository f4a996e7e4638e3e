"""The outbound SMS senders, each over real HTTP to a fake of its provider.

What the worker relies on: a message the provider took comes back as a SendResult;
anything else is a SendError whose `transient` says whether a later attempt may succeed;
one call is one attempt; and no error carries a secret, the text or a whole phone number.
"""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from channels.sms.kannel.outbound import KannelSender
from channels.sms.models import OutgoingSms, SendError, SendResult, SmsSender
from channels.sms.outbound_http import answer_excerpt, mask_phone
from channels.sms.segments import segment_count
from channels.sms.twilio.outbound import TwilioSender
from channels.sms.vonage.outbound import VonageSender
from tests.fakes.base import FakeProvider
from tests.fakes.kannel_sendsms import FakeKannel
from tests.fakes.twilio_api import FakeTwilio
from tests.fakes.vonage_api import FakeVonage

PROVIDERS = ["twilio", "vonage", "kannel"]

TO = "+6281234567890"
TO_MASKED = "+62812****7890"
REPLY_ID = "reply-0001-K7M2XQ9PD"
GSM_TEXT = "Laporan K7M2XQ9PD diterima. Café di Pasar Ketapang sudah dicek petugas."
UCS2_TEXT = "Terima kasih 🙏 laporan K7M2XQ9PD sudah diteruskan ke Dinas PU (é)."
LONG_TEXT = "Jawaban Dinas PU untuk K7M2XQ9PD: " + "lampu jalan sudah diperbaiki. " * 8

TWILIO_SID, TWILIO_TOKEN, TWILIO_FROM = "AC" + "5e" * 16, "twilio-auth-token-0001", "+15005550006"
VONAGE_KEY, VONAGE_SECRET = "a1b2c3d4", "vonage-api-secret-0001"
KANNEL_USER, KANNEL_PASSWORD = "lapor", "kannel-password-0001"

Build = Callable[[str, str, float], SmsSender]  # (base URL, secret, timeout) → sender


def _twilio(base_url: str, secret: str, timeout: float) -> SmsSender:
    return TwilioSender(
        TWILIO_SID, secret, from_number=TWILIO_FROM, base_url=base_url, timeout=timeout
    )


def _vonage(base_url: str, secret: str, timeout: float) -> SmsSender:
    return VonageSender(VONAGE_KEY, secret, sender="LAPOR1708", base_url=base_url, timeout=timeout)


def _kannel(base_url: str, secret: str, timeout: float) -> SmsSender:
    url = base_url + FakeKannel.path
    return KannelSender(
        KANNEL_USER, secret, sendsms_url=url, sender="1708", smsc="telkomsel", timeout=timeout
    )


@dataclass
class Rig:
    """A running fake and a way to build senders pointed at it (closed by the rig)."""

    fake: FakeProvider
    secret: str
    build: Build
    senders: list[SmsSender] = field(default_factory=list)

    def sender(
        self, *, secret: str | None = None, base_url: str | None = None, timeout: float = 5.0
    ) -> SmsSender:
        built = self.build(base_url or self.fake.base_url, secret or self.secret, timeout)
        self.senders.append(built)
        return built


# provider → (its fake, the secret the fake expects, how to build a sender)
RIGS: dict[str, tuple[Callable[[], FakeProvider], str, Build]] = {
    "twilio": (lambda: FakeTwilio(TWILIO_SID, TWILIO_TOKEN), TWILIO_TOKEN, _twilio),
    "vonage": (lambda: FakeVonage(VONAGE_KEY, VONAGE_SECRET), VONAGE_SECRET, _vonage),
    "kannel": (lambda: FakeKannel(KANNEL_USER, KANNEL_PASSWORD), KANNEL_PASSWORD, _kannel),
}


@asynccontextmanager
async def running(provider: str) -> AsyncIterator[Rig]:
    make_fake, secret, build = RIGS[provider]
    async with make_fake() as fake:
        rig = Rig(fake, secret, build)
        try:
            yield rig
        finally:
            for sender in rig.senders:
                await sender.close()


def reply(text: str = GSM_TEXT, to: str = TO) -> OutgoingSms:
    return OutgoingSms(id=REPLY_ID, to=to, text=text)


async def refused(sender: SmsSender, message: OutgoingSms, secret: str) -> SendError:
    """The SendError a send ends in, checked to give nothing away."""
    with pytest.raises(SendError) as caught:
        await sender.send(message)
    detail = str(caught.value)
    assert secret not in detail
    assert message.text not in detail
    assert message.to not in detail
    return caught.value


@pytest.fixture
def dead_url() -> Iterator[str]:
    """A port bound but never listening: connecting to it is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


# -- accepted messages ------------------------------------------------------------------------

# (provider, text, fields the provider must have received)
CARRIED: list[Any] = [
    pytest.param(
        "twilio", GSM_TEXT, {"To": TO, "From": TWILIO_FROM, "Body": GSM_TEXT}, id="twilio-gsm"
    ),
    pytest.param("twilio", UCS2_TEXT, {"To": TO, "Body": UCS2_TEXT}, id="twilio-ucs2"),
    pytest.param("twilio", LONG_TEXT, {"Body": LONG_TEXT}, id="twilio-long-whole"),
    pytest.param(
        "vonage",
        GSM_TEXT,
        {
            "to": TO[1:],
            "from": "LAPOR1708",
            "text": GSM_TEXT,
            "type": "text",
            "client-ref": REPLY_ID,
        },
        id="vonage-gsm-with-e-acute-is-text",
    ),
    pytest.param(
        "vonage", UCS2_TEXT, {"text": UCS2_TEXT, "type": "unicode"}, id="vonage-ucs2-is-unicode"
    ),
    pytest.param("vonage", LONG_TEXT, {"text": LONG_TEXT, "type": "text"}, id="vonage-long-whole"),
    pytest.param(
        "kannel",
        GSM_TEXT,
        {"to": TO, "from": "1708", "smsc": "telkomsel", "text": GSM_TEXT, "coding": "0"},
        id="kannel-gsm-with-e-acute-7bit",
    ),
    pytest.param(
        "kannel",
        UCS2_TEXT,
        {"text": UCS2_TEXT, "coding": "2", "charset": "UTF-8"},
        id="kannel-ucs2-coding-2-utf8",
    ),
    pytest.param("kannel", LONG_TEXT, {"text": LONG_TEXT}, id="kannel-long-whole"),
]


@pytest.mark.parametrize(("provider", "text", "expected"), CARRIED)
async def test_the_provider_receives_the_text_as_it_must(
    provider: str, text: str, expected: dict[str, str]
) -> None:
    async with running(provider) as rig:
        await rig.sender().send(reply(text))
        assert len(rig.fake.sent) == 1
        received = rig.fake.sent[0]
        assert {name: received.get(name) for name in expected} == expected


# (provider, what the provider id must look like; None: the provider gives none)
PROVIDER_IDS = [
    pytest.param("twilio", r"SM[0-9a-f]{32}", id="twilio-message-sid"),
    pytest.param("vonage", r"[0-9A-F]{16}", id="vonage-message-id"),
    pytest.param("kannel", None, id="kannel-has-no-id"),
]


@pytest.mark.parametrize(("provider", "pattern"), PROVIDER_IDS)
async def test_an_accepted_message_gives_the_provider_id(
    provider: str, pattern: str | None
) -> None:
    async with running(provider) as rig:
        result = await rig.sender().send(reply())
    if pattern is None:
        assert result == SendResult(provider_id=None)
    else:
        assert re.fullmatch(pattern, result.provider_id or ""), result


async def test_twilio_through_a_messaging_service_sends_no_from() -> None:
    async with running("twilio") as rig:
        sender = TwilioSender(
            TWILIO_SID,
            TWILIO_TOKEN,
            messaging_service_sid="MG" + "0" * 32,
            base_url=rig.fake.base_url,
        )
        rig.senders.append(sender)
        await sender.send(reply())
        assert rig.fake.sent[0]["MessagingServiceSid"] == "MG" + "0" * 32
        assert "From" not in rig.fake.sent[0]


async def test_vonage_multipart_with_every_part_accepted_is_sent() -> None:
    assert segment_count(LONG_TEXT) == 2
    async with running("vonage") as rig:
        result = await rig.sender().send(reply(LONG_TEXT))
        assert len(rig.fake.sent) == 1
    assert re.fullmatch(r"[0-9A-F]{16}", result.provider_id or ""), result


async def test_kannel_queued_for_later_delivery_is_sent() -> None:
    async with FakeKannel(KANNEL_USER, KANNEL_PASSWORD, queued=True) as fake:
        sender = _kannel(fake.base_url, KANNEL_PASSWORD, 5.0)
        try:
            assert await sender.send(reply()) == SendResult()
        finally:
            await sender.close()
        assert len(fake.sent) == 1


# -- refusals and failures --------------------------------------------------------------------

# (ordered failure, transient)
FAILURES: list[Any] = [
    pytest.param({"status": 400}, False, id="http-400"),
    pytest.param({"status": 500}, True, id="http-500"),
    pytest.param({"status": 503}, True, id="http-503"),
    pytest.param({"status": 429}, True, id="http-429"),
    pytest.param({"drop": True}, True, id="connection-dropped"),
]


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize(("failure", "transient"), FAILURES)
async def test_a_failed_request_is_one_attempt_and_says_if_retry_may_help(
    provider: str, failure: dict[str, Any], transient: bool
) -> None:
    async with running(provider) as rig:
        rig.fake.fail_next(**failure)
        error = await refused(rig.sender(), reply(), rig.secret)
        assert error.transient is transient
        assert TO_MASKED in str(error)
        assert rig.fake.requests == 1
        assert rig.fake.sent == []


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_wrong_credentials_are_not_transient(provider: str) -> None:
    async with running(provider) as rig:
        error = await refused(rig.sender(secret="wrong-secret-0000"), reply(), rig.secret)
        assert error.transient is False
        assert "wrong-secret-0000" not in str(error)
        assert rig.fake.sent == []


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_provider_nobody_answers_for_is_transient(provider: str, dead_url: str) -> None:
    async with running(provider) as rig:
        error = await refused(rig.sender(base_url=dead_url), reply(), rig.secret)
        assert error.transient is True


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_an_answer_that_never_comes_times_out_as_transient(provider: str) -> None:
    async with running(provider) as rig:
        rig.fake.fail_next(hold=True)
        async with asyncio.timeout(5):
            error = await refused(rig.sender(timeout=0.2), reply(), rig.secret)
        assert error.transient is True
        assert "no answer in time" in str(error)


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_failures_ordered_on_a_fake_are_used_up_in_turn(provider: str) -> None:
    async with running(provider) as rig:
        sender = rig.sender()
        rig.fake.fail_next(status=503, times=2)
        for _ in range(2):
            assert (await refused(sender, reply(), rig.secret)).transient
        await sender.send(reply())
        assert rig.fake.requests == 3
        assert len(rig.fake.sent) == 1


# (Vonage status on the message, transient)
VONAGE_STATUSES = [
    pytest.param("1", True, id="1-throttled"),
    pytest.param("4", False, id="4-invalid-credentials"),
    pytest.param("5", True, id="5-internal-error"),
    pytest.param("9", True, id="9-quota-exceeded-until-top-up"),
    pytest.param("29", False, id="29-non-whitelisted-destination"),
    pytest.param("999", False, id="unknown-status"),
]


@pytest.mark.parametrize(("status", "transient"), VONAGE_STATUSES)
@pytest.mark.parametrize("text", [GSM_TEXT, LONG_TEXT], ids=["one-part", "last-of-two-parts"])
async def test_vonage_refuses_with_http_200_and_a_message_status(
    status: str, transient: bool, text: str
) -> None:
    async with running("vonage") as rig:
        fake = rig.fake
        assert isinstance(fake, FakeVonage)
        fake.refuse_next(status)
        error = await refused(rig.sender(), reply(text), rig.secret)
        assert error.transient is transient
        assert f"status {status}" in str(error)


async def test_twilio_refusal_quotes_twilio_with_the_number_masked() -> None:
    async with running("twilio") as rig:
        error = await refused(rig.sender(), reply(to="6281234567890"), rig.secret)
    assert error.transient is False
    assert "error 21211" in str(error)
    assert "628123****7890" in str(error)


# -- what an error may say --------------------------------------------------------------------

# (provider's answer, values to hide, the excerpt an error may carry)
EXCERPTS = [
    pytest.param(
        "Temporal failure, try again later.", [], "Temporal failure, try again later.", id="plain"
    ),
    pytest.param(
        "The 'To' number +6281234567890 is not valid",
        [],
        "The 'To' number +62812****7890 is not valid",
        id="phone-masked",
    ),
    pytest.param(
        "<h1>404</h1> /sendsms?password=s%C3%A9cret&to=1",
        ["sécret"],
        "",
        id="echoed-secret-dropped",
    ),
    pytest.param("first line\nsecond line", [], "first line", id="first-line-only"),
]


@pytest.mark.parametrize(("body", "hide", "expected"), EXCERPTS)
def test_an_error_quotes_the_provider_only_when_it_gives_nothing_away(
    body: str, hide: list[str], expected: str
) -> None:
    assert answer_excerpt(body, hide=hide) == expected


@pytest.mark.parametrize(
    ("number", "masked"),
    [("+6281234567890", "+62812****7890"), ("+628123456", "+62812****3456"), ("1708", "****08")],
)
def test_phone_numbers_are_masked_for_logs(number: str, masked: str) -> None:
    assert mask_phone(number) == masked
