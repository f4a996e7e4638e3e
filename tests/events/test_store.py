"""What the relay asks of the store, on both backends (a SQLite file, a PostgreSQL
database): the outbox in order with its complaint and case, a cursor of its own apart from
the dispatcher's `done_at`, and a wake-up of its own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from config.profile import load_profile
from normalizer.casework import CitizenReply
from normalizer.models import Channel, ComplaintDraft, Inbound
from normalizer.normalize import normalize
from store.base import Store
from tests.conftest import FRIDAY_BEFORE_HOLIDAY, Clock
from tests.store.backends import BACKENDS, opened
from workflow.cases import new_case

PROFILE = load_profile("ketapang")
LEASE = 30.0


@pytest.fixture(params=BACKENDS)
async def store(
    request: pytest.FixtureRequest, tmp_path: Path, clock: Clock
) -> AsyncIterator[Store]:
    async with opened(request.param, request, tmp_path, clock) as found:
        yield found


def draft(n: int) -> ComplaintDraft:
    inbound = Inbound(
        channel=Channel.SMS,
        sender=f"+62812345678{n:02d}",
        text=f"Jalan di Desa Sukamaju berlubang besar, sudah {n + 2} motor jatuh minggu ini.",
        received_at=FRIDAY_BEFORE_HOLIDAY,
    )
    return normalize(inbound, PROFILE)


async def test_the_relay_reads_in_order_whatever_the_dispatcher_did(
    store: Store, clock: Clock
) -> None:
    complaints = [(await store.intake(draft(n))).complaint for n in range(3)]
    # The dispatcher finishes the first two (their cases open): the relay still gets them.
    events = await store.claim_events(2, LEASE, clock.now)
    await store.open_cases([(e, new_case(e.complaint, PROFILE, clock.now)) for e in events])
    reply = CitizenReply(
        complaint_id=complaints[0].id,
        channel=Channel.SMS,
        external_id="SM-tambah-1",
        text="Sudah ada korban lagi tadi pagi.",
        received_at=clock.now,
    )
    assert await store.add_citizen_reply(reply)

    read = await store.relay_events(0, 10)
    assert [e.seq for e in read] == [1, 2, 3, 4]
    assert [e.kind for e in read] == ["complaint.received"] * 3 + ["citizen.followup"]
    assert [e.complaint.id for e in read] == [c.id for c in complaints] + [complaints[0].id]
    assert [e.case is not None for e in read] == [True, True, False, True]
    assert read[0].case is not None and read[0].case.state == "diterima"
    assert read[3].followup is not None and read[3].followup.text == reply.text
    assert read[3].data == {"followup": read[3].data["followup"]}
    assert read[2].complaint.text == complaints[2].text
    assert [e.seq for e in await store.relay_events(2, 1)] == [3]  # after, at most limit
    assert await store.relay_events(4, 10) == []


async def test_the_cursor_is_the_relays_own_and_never_moves_back(store: Store) -> None:
    for n in range(3):
        await store.intake(draft(n))
    assert await store.relay_position("LAPOR") == 0
    await store.advance_relay("LAPOR", 2)
    await store.advance_relay("LAPOR", 1)  # an older relay's late write changes nothing
    assert await store.relay_position("LAPOR") == 2
    assert await store.relay_position("LAPOR_KETAPANG") == 0  # one cursor per stream
    # The dispatcher's own progress is untouched: every event still waits for it.
    assert len(await store.claim_events(10, LEASE, FRIDAY_BEFORE_HOLIDAY)) == 3


async def test_a_commit_wakes_the_relay_and_the_dispatcher_both(store: Store) -> None:
    """Each has its own wake-up: one waiting never takes the other's."""
    await store.relay_events(0, 10)  # the relay's wake-up exists from its first read
    dispatcher = asyncio.create_task(store.wait_for_events(60))
    relay = asyncio.create_task(store.wait_for_relay(60))
    await asyncio.sleep(0)  # both are waiting
    await store.intake(draft(1))
    await asyncio.wait_for(asyncio.gather(dispatcher, relay), 2.0)

    # A commit while the relay is busy (not waiting) is kept for it, even once the
    # dispatcher has taken its own.
    await store.intake(draft(2))
    await asyncio.wait_for(store.wait_for_events(60), 2.0)
    await asyncio.wait_for(store.wait_for_relay(60), 2.0)
