"""Long messages and replies that leave by a provider's API: parts out of order, repeated
or never complete, across a restart; replies sent once, retried while it can help."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from channels.sms.udh import concat_udh
from normalizer.models import Flag
from store.sms import OutboundSms, OutboundState
from tests.conftest import ADMIN_AUTH, Running, eventually, start_gateway
from tests.fakes.kannel_sendsms import FakeKannel
from tests.fakes.twilio_api import FakeTwilio
from tests.fakes.vonage_api import FakeVonage
from tests.gateway.sms_support import (
    CITIZEN,
    SMS_SETTINGS,
    VONAGE_KEY,
    VONAGE_SECRET,
    kannel_sms,
    query,
    tracking_id_in,
    vonage_sms,
)

REF_17_PART_2 = {"concat-ref": "17", "concat-total": "3", "concat-part": "2"}
PARTS = (
    "Air PDAM di Kelurahan Sampit mati ",
    "sejak hari Senin, warga terpaksa ",
    "beli air galon.",
)
WHOLE = "".join(PARTS)


@pytest.fixture
async def vonage() -> AsyncIterator[FakeVonage]:
    async with FakeVonage(VONAGE_KEY, VONAGE_SECRET) as fake:
        yield fake


@pytest.fixture
async def kannel() -> AsyncIterator[FakeKannel]:
    async with FakeKannel("lapor", "kannel-sendsms-pass") as fake:
        yield fake


def with_senders(vonage: FakeVonage, kannel: FakeKannel, **more: Any) -> dict[str, Any]:
    return (
        SMS_SETTINGS
        | {
            "vonage_api_secret": VONAGE_SECRET,
            "vonage_api_url": vonage.base_url,
            "kannel_sendsms_url": kannel.sendsms_url,
            "kannel_username": "lapor",
            "kannel_password": "kannel-sendsms-pass",
        }
        | more
    )


async def outbound_until(
    running: Running, accept: Callable[[OutboundSms], bool]
) -> list[OutboundSms]:
    """The outbound SMS once there is exactly one and it is as `accept` wants it."""

    def ok(rows: list[OutboundSms]) -> bool:
        return len(rows) == 1 and accept(rows[0])

    return await eventually(running.store.outbound_sms, ok)


async def sent(fake: FakeVonage | FakeKannel | FakeTwilio, n: int) -> list[dict[str, str]]:
    return await eventually(_now(fake), lambda messages: len(messages) >= n)


def _now(fake: FakeVonage | FakeKannel | FakeTwilio) -> Any:
    async def probe() -> list[dict[str, str]]:
        return list(fake.sent)

    return probe


async def test_a_three_part_vonage_sms_in_any_order_is_one_complaint_answered_once(
    tmp_path: Path, vonage: FakeVonage, kannel: FakeKannel
) -> None:
    running = await start_gateway(tmp_path, **with_senders(vonage, kannel))
    try:
        for seq in (3, 1, 3, 2):  # out of order, part 3 delivered twice
            status = await vonage_sms(
                running,
                messageId=f"0B00000{seq}",
                text=PARTS[seq - 1],
                concat="true",
                **{"concat-ref": "17", "concat-total": "3", "concat-part": str(seq)},
            )
            assert status == 200
        [reply] = await sent(vonage, 1)
        assert reply["to"] == CITIZEN.removeprefix("+")
        [(text,)] = query(running, "SELECT text FROM complaints")
        assert text == WHOLE
        assert (await running.store.get_complaint(tracking_id_in(reply["text"]))) is not None
        await vonage_sms(
            running, messageId="0B000002", text=PARTS[1], concat="true", **REF_17_PART_2
        )
        assert running.count("complaints") == 1 and len(vonage.sent) == 1
    finally:
        await running.stop()


async def test_parts_held_when_the_gateway_stops_are_there_after_a_restart(
    tmp_path: Path,
) -> None:
    first = await start_gateway(tmp_path, **SMS_SETTINGS)
    for seq in (2, 1):
        udh = concat_udh(0x5A, 3, seq)
        status, body = await kannel_sms(first, PARTS[seq - 1].encode(), udh=udh)
        assert (status, body) == (200, "")  # a part alone gets no reply
    await first.stop()

    second = await start_gateway(tmp_path, **SMS_SETTINGS)
    try:
        status, body = await kannel_sms(second, PARTS[2].encode(), udh=concat_udh(0x5A, 3, 3))
        assert status == 200
        complaint = await second.store.get_complaint(tracking_id_in(body))
        assert complaint is not None and complaint.text == WHOLE and complaint.flags == ()
    finally:
        await second.stop()


async def test_a_message_whose_parts_never_all_arrive_is_taken_in_with_a_marker(
    tmp_path: Path, vonage: FakeVonage, kannel: FakeKannel
) -> None:
    settings = with_senders(vonage, kannel, sms_concat_timeout_seconds=5)
    running = await start_gateway(tmp_path, **settings)
    try:
        for seq in (1, 3):
            await kannel_sms(running, PARTS[seq - 1].encode(), udh=concat_udh(9, 3, seq))
        assert running.count("complaints") == 0
        running.clock.advance(seconds=6)
        [reply] = await sent(kannel, 1)
        complaint = await running.store.get_complaint(tracking_id_in(reply["text"]))
        assert complaint is not None and complaint.flags == (Flag.INCOMPLETE,)
        marker = running.profile.message("sms.incomplete_marker", missing="2", total=3)
        assert complaint.text == f"{PARTS[0]}{PARTS[2]}".strip() + "\n" + marker
        # The missing part turning up late is not a second complaint.
        await kannel_sms(running, PARTS[1].encode(), udh=concat_udh(9, 3, 2))
        assert running.count("complaints") == 1
    finally:
        await running.stop()


async def test_a_reply_is_retried_on_5xx_and_sent_exactly_once(
    tmp_path: Path, vonage: FakeVonage, kannel: FakeKannel
) -> None:
    vonage.fail_next(status=503, times=2)
    running = await start_gateway(tmp_path, **with_senders(vonage, kannel))
    try:
        assert await vonage_sms(running, messageId="0C0000001") == 200

        def waiting(attempts: int) -> Callable[[OutboundSms], bool]:
            return lambda row: row.attempts == attempts and row.state is OutboundState.PENDING

        [message] = await outbound_until(running, waiting(1))
        assert message.last_error and "503" in message.last_error
        running.clock.advance(minutes=10)  # each retry waits for its backoff
        await outbound_until(running, waiting(2))
        running.clock.advance(minutes=10)
        [reply] = await sent(vonage, 1)
        [done] = await outbound_until(running, lambda row: row.state is OutboundState.SENT)
        assert done.provider_id and vonage.requests == 3
        # The Admin Penghubung sees in the complaint's timeline that the citizen got it.
        tracking_id = tracking_id_in(reply["text"])
        async with running.http.get(
            f"/api/v1/complaints/{tracking_id}", headers=ADMIN_AUTH
        ) as response:
            detail = await response.json()
        sms = [e for e in detail["timeline"] if e["kind"] == "sms.reply"]
        assert [(e["state"], e["actor"], e["note"]) for e in sms] == [
            ("sent", "vonage", reply["text"])
        ]
    finally:
        await running.stop()


async def test_a_refused_reply_is_given_up_and_recorded(
    tmp_path: Path, vonage: FakeVonage, kannel: FakeKannel
) -> None:
    vonage.refuse_next("29")  # non-whitelisted destination: retrying cannot help
    running = await start_gateway(tmp_path, **with_senders(vonage, kannel))
    try:
        await vonage_sms(running, messageId="0D0000001")
        [failed] = await outbound_until(running, lambda row: row.state is OutboundState.FAILED)
        assert failed.attempts == 1 and "29" in (failed.last_error or "")
        running.clock.advance(hours=1)
        await vonage_sms(running, messageId="0D0000002", text="INFO")
        await sent(vonage, 1)  # the worker has run again since: only the new reply went
        assert vonage.requests == 2
    finally:
        await running.stop()


async def test_a_reply_interrupted_mid_send_is_never_sent_again(
    tmp_path: Path, vonage: FakeVonage, kannel: FakeKannel
) -> None:
    """The process dies while the provider is being called: the reply may have gone out,
    so after the restart it is marked unknown rather than sent a second time."""
    settings = with_senders(vonage, kannel)
    first = await start_gateway(tmp_path, **settings, dispatch_enabled=False)
    await vonage_sms(first, messageId="0E0000001")
    [queued] = await first.store.outbound_sms()
    await first.store.claim_outbound_sms(first.clock(), 10)  # as the worker does, then dies
    await first.stop()

    second = await start_gateway(tmp_path, **settings)
    try:
        [row] = await outbound_until(second, lambda row: row.state is OutboundState.UNKNOWN)
        assert row.id == queued.id
        second.clock.advance(hours=1)
        await vonage_sms(second, messageId="0E0000002", text="INFO")
        await sent(vonage, 1)  # the worker runs and sends the new reply only
        assert [m["text"] for m in vonage.sent] == [second.profile.message(
            "sms.help", regency=second.profile.regency, short_code="1708")]  # fmt: skip
    finally:
        await second.stop()
