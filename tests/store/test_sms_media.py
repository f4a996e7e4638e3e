"""The media of MMS in the store, on both backends (a SQLite file, a PostgreSQL database):
recorded with their SMS, claimed one at a time per complaint, and a fetched one appended
to the complaint's attachments in the transaction that marks it fetched."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from normalizer.models import Attachment
from store.base import Store
from store.sms import MediaOutcome, MediaState, NewMedia, SmsMedia, SmsTake
from tests.conftest import FRIDAY_BEFORE_HOLIDAY, Clock
from tests.store.backends import BACKENDS, count, document, opened, rows
from tests.store.test_sms import acknowledge, record
from tests.store.test_store import draft

NOW = FRIDAY_BEFORE_HOLIDAY
LEASE = timedelta(minutes=5)
MAX_FILES = 5
API = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media"


@pytest.fixture(params=BACKENDS)
async def store(
    request: pytest.FixtureRequest, tmp_path: Path, clock: Clock
) -> AsyncIterator[Store]:
    # The `clock` fixture stands at FRIDAY_BEFORE_HOLIDAY: the store's now is NOW.
    async with opened(request.param, request, tmp_path, clock) as found:
        yield found


def media(name: str, refused: str | None = None) -> NewMedia:
    return NewMedia(url=f"{API}/{name}", content_type="image/jpeg", refused=refused)


def mms(message_id: str, *with_media: NewMedia) -> SmsTake:
    """An SMS filing a complaint (its words its own, so none joins another as a resend)."""
    words = f"Jalan rusak parah di Desa Sukamaju, laporan {message_id}."
    return SmsTake(
        record=record(message_id),
        answer=acknowledge,
        draft=draft(words, external_id=f"vonage:{message_id}"),
        media=with_media,
    )


def photo(name: str) -> Attachment:
    return Attachment(filename=f"{name}.png", content_type="image/png", size=69, sha256=name * 64)


async def claim(
    store: Store, at: timedelta = timedelta(0), max_files: int = MAX_FILES
) -> list[SmsMedia]:
    now = NOW + at
    return await store.claim_sms_media(now, 10, now + LEASE, max_files)


def fetched(attachment: Attachment) -> MediaOutcome:
    return MediaOutcome(state=MediaState.FETCHED, attachment=attachment)


async def media_timeline(store: Store, complaint_id: str) -> list[tuple[str | None, str | None]]:
    return [(e.state, e.note) for e in await store.timeline(complaint_id) if e.kind == "sms.media"]


async def test_media_are_recorded_with_their_sms_once(store: Store) -> None:
    take = mms("0A1", media("ME1"), media("ME2", refused="not on https://api.twilio.com"))

    taken = await store.take_sms(take)
    assert await store.take_sms(take) == taken  # the gateway's retry records nothing more

    assert taken.complaint_id is not None
    recorded = "SELECT complaint_id, position, state, last_error FROM sms_media ORDER BY position"
    assert rows(store, recorded) == [
        (taken.complaint_id, 0, "pending", None),
        (taken.complaint_id, 1, "refused", "not on https://api.twilio.com"),
    ]
    # Only what is settled shows on the timeline.
    assert await media_timeline(store, taken.complaint_id) == [
        ("refused", "image/jpeg [not on https://api.twilio.com]")
    ]


async def test_media_of_an_sms_that_names_no_complaint_are_not_kept(store: Store) -> None:
    help_request = SmsTake(
        record=record("0A1", intent="help"),
        answer=lambda _: "LAPOR! bantuan",
        media=(media("ME1"),),
    )

    await store.take_sms(help_request)

    assert count(store, "sms_media") == 0


async def test_one_media_per_complaint_is_claimed_in_order_and_leased(store: Store) -> None:
    first = await store.take_sms(mms("0A1", media("ME1"), media("ME2")))
    second = await store.take_sms(mms("0A2", media("ME3")))

    claimed = await claim(store)

    assert [(m.complaint_id, m.url.rsplit("/", 1)[1], m.attempts) for m in claimed] == [
        (first.complaint_id, "ME1", 1),
        (second.complaint_id, "ME3", 1),
    ]
    assert await claim(store) == []  # leased, and ME2 waits for ME1
    # Past the lease (its fetch cut short by a crash), the same media again.
    again = await claim(store, LEASE + timedelta(seconds=1))
    assert [(m.id, m.attempts) for m in again] == [(m.id, 2) for m in claimed]


async def test_a_fetched_media_joins_the_complaint_and_the_next_is_claimed(
    store: Store,
) -> None:
    taken = await store.take_sms(mms("0A1", media("ME1"), media("ME2")))
    [first] = await claim(store)

    state = await store.finish_sms_media(first.id, fetched(photo("a")), NOW, MAX_FILES)

    assert state is MediaState.FETCHED
    [(tracking_id,)] = rows(store, "SELECT tracking_id FROM complaints")
    complaint = await store.get_complaint(tracking_id)
    assert complaint is not None and complaint.attachments == (photo("a"),)
    assert await store.referenced_blobs([photo("a").sha256]) == {photo("a").sha256}
    assert taken.complaint_id is not None
    assert await media_timeline(store, taken.complaint_id) == [("fetched", "image/png")]
    [second] = await claim(store)
    assert second.url.endswith("/ME2")


async def test_past_the_file_limit_media_are_refused_never_claimed(store: Store) -> None:
    taken = await store.take_sms(mms("0A1", media("ME1"), media("ME2"), media("ME3")))
    [first] = await claim(store, max_files=1)
    await store.finish_sms_media(first.id, fetched(photo("a")), NOW, 1)

    assert await claim(store, max_files=1) == []

    assert taken.complaint_id is not None
    assert await media_timeline(store, taken.complaint_id) == [
        ("fetched", "image/png"),
        ("refused", "image/jpeg [the complaint holds the most files allowed (1)]"),
        ("refused", "image/jpeg [the complaint holds the most files allowed (1)]"),
    ]


async def test_a_media_fetched_when_the_complaint_is_full_is_refused(store: Store) -> None:
    """The limit holds in the transaction that attaches, whatever was claimed before."""
    await store.take_sms(mms("0A1", media("ME1")))
    [claimed] = await claim(store)

    state = await store.finish_sms_media(claimed.id, fetched(photo("a")), NOW, 0)

    assert state is MediaState.REFUSED
    [(attachments,)] = rows(store, "SELECT attachments FROM complaints")
    assert document(attachments) == []
    assert rows(store, "SELECT state, attachment FROM sms_media") == [("refused", None)]


async def test_a_retry_waits_for_its_time_and_a_failure_keeps_its_reason(
    store: Store,
) -> None:
    taken = await store.take_sms(mms("0A1", media("ME1")))
    [claimed] = await claim(store)
    later = MediaOutcome(
        state=MediaState.PENDING, error="HTTP 503", retry_at=NOW + timedelta(seconds=10)
    )
    await store.finish_sms_media(claimed.id, later, NOW, MAX_FILES)

    assert await claim(store, timedelta(seconds=9)) == []
    [again] = await claim(store, timedelta(seconds=11))
    assert again.attempts == 2 and again.last_error == "HTTP 503"
    failed = MediaOutcome(state=MediaState.FAILED, error="HTTP 401 Unauthorized")
    await store.finish_sms_media(again.id, failed, NOW + timedelta(seconds=12), MAX_FILES)

    assert taken.complaint_id is not None
    assert await media_timeline(store, taken.complaint_id) == [
        ("failed", "image/jpeg [HTTP 401 Unauthorized]")
    ]
    assert await claim(store, timedelta(hours=1)) == []
