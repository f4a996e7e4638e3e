"""The SMS channel's tables in the store, on both backends (a SQLite file, a PostgreSQL
database): parts of long messages, the record of every SMS and its reply, the outbound
queue's at-most-once states."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from normalizer.casework import CitizenReply
from normalizer.models import Channel, Complaint, Flag, RawPayload
from store.base import Store
from store.sms import (
    OutboundSms,
    OutboundState,
    PartKey,
    RateLimit,
    ReplyVia,
    SmsRecord,
    SmsTake,
    StoredPart,
)
from tests.conftest import FRIDAY_BEFORE_HOLIDAY, Clock
from tests.store.backends import BACKENDS, count, opened, reopened, rows
from tests.store.test_store import draft

SENDER = "+6281234567890"
NOW = FRIDAY_BEFORE_HOLIDAY


@pytest.fixture(params=BACKENDS)
async def store(
    request: pytest.FixtureRequest, tmp_path: Path, clock: Clock
) -> AsyncIterator[Store]:
    # The `clock` fixture stands at FRIDAY_BEFORE_HOLIDAY: the store's now is NOW.
    async with opened(request.param, request, tmp_path, clock) as found:
        yield found


def key(sender: str = SENDER, reference: int = 0xCC, total: int = 3) -> PartKey:
    return PartKey(gateway="kannel", sender=sender, reference=reference, total=total)


def part(seq: int, text: str, message_id: str | None = None, minutes: float = 0) -> StoredPart:
    return StoredPart(
        seq=seq,
        message_id=message_id,
        text=text,
        received_at=NOW + timedelta(minutes=minutes),
        raw=RawPayload(content_type="text/plain", body=text.encode()),
    )


def outbound(message_id: str = "reply-1") -> OutboundSms:
    return OutboundSms(
        id=message_id,
        gateway="vonage",
        recipient=SENDER,
        text="LAPOR! diterima",
        purpose="reply",
        next_attempt_at=NOW,
        created_at=NOW,
    )


async def test_parts_out_of_order_repeated_and_interleaved_make_one_message(
    store: Store,
) -> None:
    other = key(sender="+6285712345678", total=2)
    assert not (await store.add_sms_part(key(), part(3, "kemarin.", "m3"))).completes
    await store.add_sms_part(other, part(1, "Sampah ", "x1"))
    again = await store.add_sms_part(key(), part(3, "kemarin.", "m3"))  # the gateway retried
    assert [p.seq for p in again.group.parts] == [3] and not again.completes
    await store.add_sms_part(key(), part(1, "Jalan rusak ", "m1"))
    last = await store.add_sms_part(key(), part(2, "sejak ", "m2"))
    assert last.completes and last.group.complete
    assert "".join(p.text for p in last.group.parts) == "Jalan rusak sejak kemarin."
    # The last part delivered again completes nothing: only one delivery takes it in.
    repeat = await store.add_sms_part(key(), part(2, "sejak ", "m2"))
    assert repeat.group.complete and not repeat.completes
    other_last = await store.add_sms_part(other, part(2, "menumpuk", "x2"))
    assert other_last.completes and other_last.group.id != last.group.id


async def test_of_the_last_parts_committed_together_one_completes(store: Store) -> None:
    """Two deliveries racing at the end share one group commit; only the one whose part
    completed the group may take the message in (answer), and it sees the group whole."""
    await store.add_sms_part(key(), part(1, "Jalan ", "m1"))
    added = await asyncio.gather(
        store.add_sms_part(key(), part(2, "rusak ", "m2")),
        store.add_sms_part(key(), part(3, "parah.", "m3")),
    )
    assert sorted(a.completes for a in added) == [False, True]
    [last] = [a for a in added if a.completes]
    assert last.group.complete and [p.text for p in last.group.parts] == [
        "Jalan ",
        "rusak ",
        "parah.",
    ]
    assert not any(a.repeat for a in added)


async def test_the_same_part_without_an_id_is_kept_once(store: Store) -> None:
    """Kannel without %I gives no message id: the seq in the open group tells repeats."""
    await store.add_sms_part(key(total=2), part(1, "Lampu ", None))
    again = await store.add_sms_part(key(total=2), part(1, "Lampu ", None))
    assert len(again.group.parts) == 1 and not again.completes
    assert (await store.add_sms_part(key(total=2), part(2, "mati.", None))).completes


async def test_parts_survive_a_restart(store: Store, clock: Clock) -> None:
    await store.add_sms_part(key(total=2), part(1, "Lampu jalan ", "m1"))
    await store.close()
    async with reopened(store, clock) as again:
        added = await again.add_sms_part(key(total=2), part(2, "mati.", "m2"))
        assert added.completes
        assert [p.text for p in added.group.parts] == ["Lampu jalan ", "mati."]


async def test_a_late_repeat_of_a_closed_group_never_opens_a_new_one(store: Store) -> None:
    await store.add_sms_part(key(total=2), part(1, "a", "m1"))
    group = (await store.add_sms_part(key(total=2), part(2, "b", "m2"))).group
    await store.close_part_group(group.id, NOW)
    repeat = await store.add_sms_part(key(total=2), part(2, "b", "m2"))
    assert repeat.group.id == group.id and not repeat.completes
    assert await store.is_part_group_closed(group.id)
    # The same reference reused later by the phone for a new message is a new group.
    fresh = await store.add_sms_part(key(total=2), part(1, "c", "m5"))
    assert fresh.group.id != group.id and not fresh.group.complete


async def test_expired_groups_are_the_open_ones_past_the_timeout(store: Store) -> None:
    old = (await store.add_sms_part(key(reference=1), part(1, "lama", "a1", minutes=0))).group
    await store.add_sms_part(key(reference=2), part(1, "baru", "b1", minutes=9))
    expired = await store.expired_part_groups(NOW + timedelta(minutes=5), 10)
    assert [g.id for g in expired] == [old.id]
    await store.close_part_group(old.id, NOW)
    assert await store.expired_part_groups(NOW + timedelta(minutes=5), 10) == []


def record(message_id: str, intent: str = "complaint", **fields: object) -> SmsRecord:
    return SmsRecord(
        gateway="vonage",
        message_id=message_id,
        sender=SENDER,
        received_at=NOW,
        intent=intent,
        **fields,
    )


def acknowledge(complaint: Complaint | None) -> str:
    assert complaint is not None
    return f"LAPOR! diterima, no. {complaint.tracking_id}"


def queue(done: SmsRecord) -> OutboundSms:
    return outbound(f"reply-{done.message_id}").model_copy(update={"text": done.reply})


async def test_an_sms_its_complaint_and_its_reply_commit_together_once(
    store: Store,
) -> None:
    take = SmsTake(
        record=record("0A0000001", flags=(Flag.TOO_SHORT,)),
        answer=acknowledge,
        draft=draft(external_id="vonage:0A0000001"),
        queue=queue,
    )
    taken = await store.take_sms(take)
    [(complaint_id, tracking_id)] = rows(store, "SELECT id, tracking_id FROM complaints")
    assert taken.complaint_id == complaint_id
    assert taken.reply == f"LAPOR! diterima, no. {tracking_id}"
    assert taken.reply_via is ReplyVia.SENDER and taken.flags == (Flag.TOO_SHORT,)
    assert [o.text for o in await store.outbound_sms()] == [taken.reply]
    # Taken again (a gateway's retry): the first record, and nothing more written.
    assert await store.take_sms(take) == taken
    assert await store.get_sms_record("vonage", "0A0000001") == taken
    assert [count(store, t) for t in ("complaints", "sms_messages", "sms_outbound")] == [
        1,
        1,
        1,
    ]


async def test_a_retry_racing_its_original_is_taken_once(store: Store) -> None:
    take = SmsTake(
        record=record("0A0000001"),
        answer=acknowledge,
        draft=draft(external_id="vonage:0A0000001"),
    )
    first, retry = await asyncio.gather(store.take_sms(take), store.take_sms(take))
    assert first == retry and first.reply is not None
    assert [count(store, t) for t in ("complaints", "sms_messages")] == [1, 1]


async def test_the_rate_limit_holds_for_sms_arriving_together(store: Store) -> None:
    # Counted inside the one writer's transactions: ten at once cannot all slip under it.
    takes = [
        SmsTake(
            record=record(f"0A{i:07d}"),
            answer=acknowledge,
            draft=draft(f"{draft().text} Nomor {i}.", external_id=f"vonage:0A{i:07d}"),
            rate_limit=RateLimit(limit=3, since=NOW - timedelta(hours=1)),
        )
        for i in range(10)
    ]
    taken = await asyncio.gather(*(store.take_sms(t) for t in takes))
    answered = [t for t in taken if t.reply is not None]
    assert len(answered) == 3 and all(t.reply_via is ReplyVia.HTTP for t in answered)
    flooded = [t for t in taken if t.reply is None]
    assert len(flooded) == 7 and all(Flag.RATE_LIMITED in t.flags for t in flooded)
    assert rows(store, "SELECT count(*) FROM complaints WHERE flags = 'rate_limited'") == [(7,)]


async def test_outbound_is_claimed_once_and_abandoned_not_resent(store: Store) -> None:
    assert await store.enqueue_sms(outbound())
    assert not await store.enqueue_sms(outbound())  # the same id is queued once
    [claimed] = await store.claim_outbound_sms(NOW, 10)
    assert claimed.state is OutboundState.SENDING and claimed.attempts == 1
    assert await store.claim_outbound_sms(NOW, 10) == []
    # The process dies during the provider call: at the next start it is not sent again.
    assert await store.abandon_unconfirmed_sms(NOW) == 1
    assert await store.claim_outbound_sms(NOW + timedelta(days=1), 10) == []
    [row] = await store.outbound_sms()
    assert row.state is OutboundState.UNKNOWN


async def test_a_retry_waits_for_its_time(store: Store) -> None:
    await store.enqueue_sms(outbound())
    [claimed] = await store.claim_outbound_sms(NOW, 10)
    later = NOW + timedelta(seconds=10)
    await store.finish_outbound_sms(
        claimed.id, OutboundState.PENDING, NOW, error="HTTP 503", retry_at=later
    )
    assert await store.claim_outbound_sms(NOW + timedelta(seconds=9), 10) == []
    [again] = await store.claim_outbound_sms(later, 10)
    assert again.attempts == 2
    await store.finish_outbound_sms(again.id, OutboundState.SENT, later, provider_id="SM1")
    [row] = await store.outbound_sms()
    assert (row.state, row.provider_id, row.last_error) == (OutboundState.SENT, "SM1", None)


async def test_followups_join_the_timeline_once(store: Store) -> None:
    complaint = (await store.intake(draft(external_id="twilio:SM1"))).complaint
    followup = CitizenReply(
        complaint_id=complaint.id,
        channel=Channel.SMS,
        external_id="twilio:SM2",
        text="Lubangnya makin besar.",
        received_at=NOW,
    )
    take = SmsTake(
        record=record("SM2", "follow_up", complaint_id=complaint.id),
        answer=lambda _: "Tambahan diterima.",
        reply=followup,
    )
    for _ in range(2):
        await store.take_sms(take)
    timeline = await store.timeline(complaint.id)
    followups = [entry for entry in timeline if entry.kind == "complaint.followup"]
    assert [(f.note, f.actor) for f in followups] == [("Lubangnya makin besar.", "sms")]
    assert rows(store, "SELECT count(*) FROM complaint_followups") == [(1,)]
    # Queued once for the workflow, which takes an answer to a question on hold from it.
    queued = "SELECT count(*) FROM outbox WHERE kind = 'citizen.followup'"
    assert rows(store, queued) == [(1,)]


async def test_flags_are_kept_with_the_complaint(store: Store) -> None:
    flagged = draft(external_id="kannel:1").model_copy(
        update={"flags": (Flag.INCOMPLETE, Flag.RATE_LIMITED)}
    )
    result = await store.intake(flagged)
    stored = await store.get_complaint(result.complaint.tracking_id)
    assert stored is not None and stored.flags == (Flag.INCOMPLETE, Flag.RATE_LIMITED)
