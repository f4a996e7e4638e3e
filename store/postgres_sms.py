"""The SMS channel's tables in the PostgreSQL store: the twin of store/sqlite_sms.py, for
several processes writing at once.

Where SQLite relies on being the only writer (a part's open group looked up, then opened;
an SMS's record looked up, then kept; a sender's SMS counted, then one more kept), the
transaction here first takes the outbox lock (`PostgresPart._lock_outbox`): such steps
then run one at a time across the installation, each seeing all that committed before
it. The outbox lock and not one of their own: taking an SMS intake's complaint and a
citizen's reply adds outbox events, so that transaction takes the outbox lock anyway, and
a batch may already hold it from an earlier job; a second lock taken in either order
beside it would let two processes wait on each other. The sender's and the media
fetcher's claims take their rows with SKIP LOCKED, so each is claimed once.
"""

from __future__ import annotations

import abc
import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from psycopg.rows import DictRow
from psycopg.types.json import Jsonb

from normalizer.models import Attachment, Complaint, ComplaintDraft, Flag
from store.postgres_part import PostgresPart
from store.postgres_workflow import insert_citizen_reply
from store.postgres_writer import Conn
from store.sms import (
    RENUMBERING_GATEWAYS,
    MediaOutcome,
    MediaState,
    NewMedia,
    OutboundSms,
    OutboundState,
    PartAdded,
    PartGroup,
    PartKey,
    ReplyVia,
    SmsMedia,
    SmsRecord,
    SmsStore,
    SmsTake,
    StoredPart,
    gateway_id,
)

# The row mappings and rules that do not depend on the database, shared with the SQLite twin.
from store.sms_rows import (
    OUTBOUND_COLUMNS,
    finished_record,
    full_note,
    group_from_rows,
    log_taken_before,
    media_claimed,
    outbound_from_row,
    record_from_row,
)
from store.sqlite_writer import CommitWakeup

log = logging.getLogger(__name__)

_SMS_RECORD = "SELECT * FROM sms_messages WHERE gateway = %s AND message_id = %s"
# The record or part of a message from before fingerprints, by its bare gateway id: only
# with the same sender and time is it this message rather than one the id was given to again.
_UNFINGERPRINTED_RECORD = _SMS_RECORD + " AND sender = %s AND received_at = %s"
_UNFINGERPRINTED_PART = (
    "SELECT p.group_id FROM sms_parts p JOIN sms_part_groups g ON g.id = p.group_id "
    "WHERE p.gateway = %s AND p.message_id = %s AND g.sender = %s AND p.received_at = %s"
)
# A long message's group and its parts, read the same way inside a write and outside one.
_GROUP = "SELECT * FROM sms_part_groups WHERE id = %s"
_GROUP_PARTS = "SELECT * FROM sms_parts WHERE group_id = %s ORDER BY seq"
# Locked, so that a group closed meanwhile is seen closed (a new one is opened) and one
# found open is not closed before this part joins it.
_OPEN_GROUP = (
    "SELECT id FROM sms_part_groups WHERE gateway = %s AND sender = %s AND reference = %s "
    "AND total = %s AND closed_at IS NULL FOR UPDATE"
)
_INSERT_PART = (
    "INSERT INTO sms_parts (group_id, seq, gateway, message_id, text, received_at, "
    "content_type, body) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
    "ON CONFLICT (group_id, seq) DO NOTHING"
)
_INSERT_SMS = (
    "INSERT INTO sms_messages (gateway, message_id, sender, received_at, intent, "
    "complaint_id, flags, reply, reply_via) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
_INSERT_OUTBOUND = (
    f"INSERT INTO sms_outbound ({', '.join(OUTBOUND_COLUMNS)}) "
    f"VALUES ({', '.join(['%s'] * len(OUTBOUND_COLUMNS))}) ON CONFLICT (id) DO NOTHING"
)
_INSERT_MEDIA = (
    "INSERT INTO sms_media (complaint_id, gateway, message_id, position, url, content_type, "
    "state, last_error, next_attempt_at, created_at, updated_at) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
# Due pending SMS, oldest first; those another process is claiming are left to it.
_CLAIM_OUTBOUND = (
    "WITH due AS (SELECT id FROM sms_outbound WHERE state = 'pending' "
    "AND next_attempt_at <= %s ORDER BY next_attempt_at, created_at LIMIT %s "
    "FOR UPDATE SKIP LOCKED) "
    "UPDATE sms_outbound o SET state = 'sending', attempts = o.attempts + 1, updated_at = %s "
    "FROM due WHERE o.id = due.id RETURNING o.*"
)
# Pending media of complaints that hold their number of files already: never fetched. One
# that another process is claiming now is left to it: finishing its fetch refuses it.
_REFUSE_FULL = (
    "UPDATE sms_media SET state = 'refused', last_error = %s, updated_at = %s "
    "WHERE id IN (SELECT m.id FROM sms_media m JOIN complaints c ON c.id = m.complaint_id "
    "WHERE m.state = 'pending' AND jsonb_array_length(c.attachments) >= %s "
    "FOR UPDATE OF m SKIP LOCKED)"
)
# The first pending media of each complaint, if due: one at a time per complaint keeps its
# photos in the MMS's order and lets the file limit be checked before each download. The
# first one locked by another process's claim is skipped, and so is the rest of its
# complaint's (none of them is its first pending one).
_DUE_MEDIA = (
    "SELECT * FROM sms_media m WHERE m.state = 'pending' AND m.next_attempt_at <= %s "
    "AND m.id = (SELECT min(f.id) FROM sms_media f "
    "WHERE f.complaint_id = m.complaint_id AND f.state = 'pending') "
    "ORDER BY m.next_attempt_at, m.id LIMIT %s FOR UPDATE SKIP LOCKED"
)
_LEASE_MEDIA = (
    "UPDATE sms_media SET attempts = attempts + 1, next_attempt_at = %s, updated_at = %s "
    "WHERE id = ANY(%s)"
)
_FINISH_MEDIA = (
    "UPDATE sms_media SET state = %s, last_error = %s, attachment = %s, "
    "next_attempt_at = COALESCE(%s, next_attempt_at), updated_at = %s WHERE id = %s"
)

_Fresh = dict[tuple[str, str], tuple[SmsTake, bool]]
"""The SMS of a batch not taken before, by (gateway, message id), each with whether it is
past its sender's rate limit."""


class PostgresSmsStore(PostgresPart, SmsStore):
    """Mixed into PostgresStore, which provides the pool, the writer and the wake-ups."""

    # Woken in every process by the core's LISTEN; this part only sends the NOTIFYs.
    _outbound: CommitWakeup
    _events: CommitWakeup
    _clock: Callable[[], datetime]

    @abc.abstractmethod
    async def _intake_batch(
        self, conn: Conn, items: Sequence[tuple[ComplaintDraft, timedelta]]
    ) -> list[Any]:
        """PostgresStore's intake, inside the open transaction."""

    @abc.abstractmethod
    async def _attach(
        self, conn: Conn, complaint_id: str, attachment: Attachment, max_files: int
    ) -> bool:
        """PostgresStore's: a file appended to a complaint (False if it holds `max_files`)."""

    # -- parts of long messages -----------------------------------------------------

    async def add_sms_part(self, key: PartKey, part: StoredPart) -> PartAdded:
        added: PartAdded = await self._write.submit(self._add_part_batch, (key, part))
        return added

    async def _add_part_batch(
        self, conn: Conn, items: Sequence[tuple[PartKey, StoredPart]]
    ) -> list[Any]:
        # Parts of one message may reach several processes at once: one at a time, so only
        # one opens the group and exactly one sees it complete (see the module's doc).
        await self._lock_outbox(conn)
        # One by one: a later part of this batch must see the group an earlier one opened.
        return [await _add_part(conn, key, part) for key, part in items]

    async def expired_part_groups(self, opened_before: datetime, limit: int) -> list[PartGroup]:
        groups = await self._rows(
            "SELECT * FROM sms_part_groups WHERE closed_at IS NULL AND first_received_at < %s "
            "ORDER BY first_received_at LIMIT %s",
            (opened_before, limit),
        )
        parts = await self._rows(
            "SELECT * FROM sms_parts WHERE group_id = ANY(%s) ORDER BY group_id, seq",
            ([g["id"] for g in groups],),
        )
        by_group: dict[str, list[DictRow]] = {}
        for p in parts:
            by_group.setdefault(p["group_id"], []).append(p)
        return [group_from_rows(g, by_group.get(g["id"], [])) for g in groups]

    async def close_part_group(self, group_id: str, now: datetime) -> None:
        async def close(conn: Conn, items: Sequence[str]) -> list[Any]:
            async with conn.cursor() as cur:
                await cur.executemany(
                    "UPDATE sms_part_groups SET closed_at = %s WHERE id = %s AND closed_at IS NULL",
                    [(now, item) for item in items],
                )
            return [None] * len(items)

        await self._write.submit(close, group_id)

    async def is_part_group_closed(self, group_id: str) -> bool:
        row = await self._row("SELECT closed_at FROM sms_part_groups WHERE id = %s", (group_id,))
        return row is not None and row["closed_at"] is not None

    # -- messages taken in ----------------------------------------------------------

    async def get_sms_record(self, gateway: str, message_id: str) -> SmsRecord | None:
        row = await self._row(_SMS_RECORD, (gateway, message_id))
        return record_from_row(row) if row else None

    async def take_sms(self, take: SmsTake) -> SmsRecord:
        record: SmsRecord = await self._write.submit(self._take_batch, take)
        return record

    async def _take_batch(self, conn: Conn, takes: Sequence[SmsTake]) -> list[Any]:
        """The whole batch in a few statements. Each SMS is counted against the rate limit
        after, and files beside, the SMS of this batch before it; the same SMS twice in
        one batch (a retry racing the original) is taken once."""
        # First: a retry racing its original in another process, or a sender's SMS taken
        # in by several at once, must see the other's record and count (module's doc).
        await self._lock_outbox(conn)
        known = await _records_of(conn, takes)
        times = await _times_of(conn, takes)
        fresh: _Fresh = {}
        for take in takes:
            key = (take.record.gateway, take.record.message_id)
            if key in known:
                log_taken_before(take.record.message_id, known[key])
                continue
            if key in fresh:
                continue
            fresh[key] = (take, _flooded(times, take))
            times.setdefault(take.record.sender, []).append(take.record.received_at)
        if fresh:
            known.update(await self._take_fresh(conn, fresh))
        return [known[(t.record.gateway, t.record.message_id)] for t in takes]

    async def _take_fresh(self, conn: Conn, fresh: _Fresh) -> dict[tuple[str, str], SmsRecord]:
        complaints = await self._file_drafts(conn, fresh)
        records: dict[tuple[str, str], SmsRecord] = {}
        queued: list[OutboundSms] = []
        for key, (take, flooded) in fresh.items():
            record = records[key] = finished_record(take, flooded, complaints.get(key))
            if record.reply_via is ReplyVia.SENDER and take.queue is not None:
                queued.append(take.queue(record))
        at = self._clock()
        media = [row for k, (t, _) in fresh.items() for row in _media_rows(t, records[k], at)]
        async with conn.cursor() as cur:
            await cur.executemany(_INSERT_SMS, [_sms_row(r) for r in records.values()])
            if media:  # an MMS: a text SMS skips this
                await cur.executemany(_INSERT_MEDIA, media)
        for reply in (t.reply for t, _ in fresh.values() if t.reply is not None):
            if await insert_citizen_reply(conn, reply):
                await self._notify(conn, "events")
        if queued:
            async with conn.cursor() as cur:
                await cur.executemany(_INSERT_OUTBOUND, [_outbound_row(m) for m in queued])
            await self._notify(conn, "outbound")
        return records

    async def _file_drafts(self, conn: Conn, fresh: _Fresh) -> dict[tuple[str, str], Complaint]:
        """The complaints the fresh SMS file, by SMS; one past the rate limit is flagged."""
        keys, drafts = [], []
        for key, (take, flooded) in fresh.items():
            if take.draft is None:
                continue
            draft = take.draft
            if flooded:
                flags = tuple(sorted({*draft.flags, Flag.RATE_LIMITED}))
                draft = draft.model_copy(update={"flags": flags})
            keys.append(key)
            drafts.append((draft, take.duplicate_window))
        if not drafts:
            return {}
        filed = await self._intake_batch(conn, drafts)
        for result in filed:
            if isinstance(result, Exception):  # an SMS has no request hash to conflict on
                raise result
        return {key: result.complaint for key, result in zip(keys, filed, strict=True)}

    async def sms_gateway_of(self, complaint_id: str) -> str | None:
        row = await self._row(
            "SELECT gateway FROM sms_messages WHERE complaint_id = %s ORDER BY received_at LIMIT 1",
            (complaint_id,),
        )
        return str(row["gateway"]) if row else None

    # -- SMS to send ----------------------------------------------------------------

    async def enqueue_sms(self, message: OutboundSms) -> bool:
        async def enqueue(conn: Conn, items: Sequence[OutboundSms]) -> list[Any]:
            results = []
            for item in items:
                cur = await conn.execute(_INSERT_OUTBOUND, _outbound_row(item))
                results.append(cur.rowcount == 1)
            if any(results):
                await self._notify(conn, "outbound")
            return results

        queued: bool = await self._write.submit(enqueue, message)
        return queued

    async def claim_outbound_sms(self, now: datetime, limit: int) -> list[OutboundSms]:
        async def claim(conn: Conn, _: Sequence[None]) -> list[Any]:
            cur = await conn.execute(_CLAIM_OUTBOUND, (now, limit, now))
            rows = await cur.fetchall()
            # RETURNING keeps no order: oldest first again, as they were chosen.
            rows.sort(key=lambda r: (r["next_attempt_at"], r["created_at"], r["id"]))
            return [[outbound_from_row(row) for row in rows]]

        claimed: list[OutboundSms] = await self._write.submit(claim, None)
        return claimed

    async def finish_outbound_sms(
        self,
        message_id: str,
        state: OutboundState,
        now: datetime,
        *,
        provider_id: str | None = None,
        error: str | None = None,
        retry_at: datetime | None = None,
    ) -> None:
        async def finish(conn: Conn, items: Sequence[tuple[Any, ...]]) -> list[Any]:
            async with conn.cursor() as cur:
                await cur.executemany(
                    "UPDATE sms_outbound SET state = %s, "
                    "provider_id = COALESCE(%s, provider_id), last_error = %s, "
                    "next_attempt_at = COALESCE(%s, next_attempt_at), updated_at = %s "
                    "WHERE id = %s",
                    items,
                )
            return [None] * len(items)

        await self._write.submit(
            finish, (state.value, provider_id, error, retry_at, now, message_id)
        )

    async def abandon_unconfirmed_sms(self, now: datetime) -> int:
        async def abandon(conn: Conn, _: Sequence[None]) -> list[Any]:
            cur = await conn.execute(
                "UPDATE sms_outbound SET state = 'unknown', updated_at = %s, "
                "last_error = 'the gateway stopped while sending; not sent again' "
                "WHERE state = 'sending'",
                (now,),
            )
            return [cur.rowcount]

        count: int = await self._write.submit(abandon, None)
        return count

    async def outbound_sms(self, complaint_id: str | None = None) -> list[OutboundSms]:
        where, params = ("WHERE complaint_id = %s", (complaint_id,)) if complaint_id else ("", ())
        rows = await self._rows(
            f"SELECT * FROM sms_outbound {where} ORDER BY created_at, id", params
        )
        return [outbound_from_row(row) for row in rows]

    async def outbound_summary(self, since: datetime) -> dict[str, object]:
        row = await self._row(
            "SELECT (SELECT count(*) FROM sms_outbound WHERE state = 'pending') AS pending, "
            "(SELECT count(*) FROM sms_outbound WHERE state = 'failed' AND updated_at >= %s) "
            "AS failed, (SELECT last_error FROM sms_outbound WHERE state = 'failed' "
            "AND updated_at >= %s ORDER BY updated_at DESC LIMIT 1) AS last_error",
            (since, since),
        )
        assert row is not None
        return {
            "pending": row["pending"],
            "failed_24h": row["failed"],
            "last_error": row["last_error"],
        }

    async def wait_for_outbound(self, max_wait: float) -> None:
        await self._outbound.wait(max_wait)

    # -- media of MMS ---------------------------------------------------------------

    async def claim_sms_media(
        self, now: datetime, limit: int, lease_until: datetime, max_files: int
    ) -> list[SmsMedia]:
        async def claim(conn: Conn, _: Sequence[None]) -> list[Any]:
            await conn.execute(_REFUSE_FULL, (full_note(max_files), now, max_files))
            rows = await (await conn.execute(_DUE_MEDIA, (now, limit))).fetchall()
            if rows:
                await conn.execute(_LEASE_MEDIA, (lease_until, now, [row["id"] for row in rows]))
            return [[media_claimed(row, lease_until) for row in rows]]

        claimed: list[SmsMedia] = await self._write.submit(claim, None)
        return claimed

    async def finish_sms_media(
        self, media_id: int, outcome: MediaOutcome, now: datetime, max_files: int
    ) -> MediaState:
        state: MediaState = await self._write.submit(
            self._finish_media_batch, (media_id, outcome, now, max_files)
        )
        return state

    async def _finish_media_batch(
        self, conn: Conn, items: Sequence[tuple[int, MediaOutcome, datetime, int]]
    ) -> list[Any]:
        return [await self._finish_media(conn, *item) for item in items]

    async def _finish_media(
        self, conn: Conn, media_id: int, outcome: MediaOutcome, now: datetime, max_files: int
    ) -> MediaState:
        """Record an attempt; a fetched media joins its complaint's attachments, if there is
        room, in the same transaction."""
        state, error, attachment = outcome.state, outcome.error, outcome.attachment
        if attachment is not None:
            cur = await conn.execute(
                "SELECT complaint_id FROM sms_media WHERE id = %s", (media_id,)
            )
            row = await cur.fetchone()
            if row is None:
                raise LookupError(f"no SMS media {media_id}")
            if not await self._attach(conn, row["complaint_id"], attachment, max_files):
                state, error, attachment = MediaState.REFUSED, full_note(max_files), None
        stored = Jsonb(attachment.model_dump(mode="json")) if attachment else None
        await conn.execute(
            _FINISH_MEDIA, (state.value, error, stored, outcome.retry_at, now, media_id)
        )
        return state


async def _records_of(conn: Conn, takes: Sequence[SmsTake]) -> dict[tuple[str, str], SmsRecord]:
    """The SMS of the batch taken before (retries), by (gateway, message id)."""
    by_gateway: dict[str, set[str]] = {}
    for take in takes:
        by_gateway.setdefault(take.record.gateway, set()).add(take.record.message_id)
    found: dict[tuple[str, str], SmsRecord] = {}
    for gateway, ids in by_gateway.items():
        cur = await conn.execute(
            "SELECT * FROM sms_messages WHERE gateway = %s AND message_id = ANY(%s)",
            (gateway, sorted(ids)),
        )
        for row in await cur.fetchall():
            found[(gateway, row["message_id"])] = record_from_row(row)
    for take in takes:
        key = (take.record.gateway, take.record.message_id)
        if key not in found and (earlier := await _unfingerprinted_record(conn, take.record)):
            found[key] = earlier
    return found


async def _unfingerprinted_record(conn: Conn, record: SmsRecord) -> SmsRecord | None:
    """The record of this message kept under its bare gateway id, if it has one."""
    bare = gateway_id(record.message_id)
    if bare == record.message_id:
        return None
    params = (record.gateway, bare, record.sender, record.received_at)
    row = await (await conn.execute(_UNFINGERPRINTED_RECORD, params)).fetchone()
    return record_from_row(row) if row else None


async def _times_of(conn: Conn, takes: Sequence[SmsTake]) -> dict[str, list[datetime]]:
    """When each rate-limited sender of the batch sent SMS within its window, by sender."""
    limited = [t for t in takes if t.rate_limit is not None]
    if not limited:
        return {}
    senders = sorted({t.record.sender for t in limited})
    since = min(t.rate_limit.since for t in limited if t.rate_limit is not None)
    cur = await conn.execute(
        "SELECT sender, received_at FROM sms_messages WHERE sender = ANY(%s) AND received_at >= %s",
        (senders, since),
    )
    times: dict[str, list[datetime]] = {}
    for row in await cur.fetchall():
        times.setdefault(row["sender"], []).append(row["received_at"])
    return times


def _flooded(times: dict[str, list[datetime]], take: SmsTake) -> bool:
    """Whether the sender had reached the limit before this SMS."""
    rate = take.rate_limit
    if rate is None:
        return False
    return sum(1 for at in times.get(take.record.sender, ()) if at >= rate.since) >= rate.limit


def _sms_row(record: SmsRecord) -> tuple[Any, ...]:
    return (
        record.gateway, record.message_id, record.sender, record.received_at,
        record.intent, record.complaint_id, " ".join(record.flags), record.reply,
        record.reply_via.value if record.reply_via else None,
    )  # fmt: skip


def _media_rows(take: SmsTake, record: SmsRecord, at: datetime) -> list[tuple[Any, ...]]:
    """The SMS's media, for the complaint it filed or named: pending, or refused with why."""
    if record.complaint_id is None:
        return []
    return [_media_row(record, position, media, at) for position, media in enumerate(take.media)]


def _media_row(record: SmsRecord, position: int, media: NewMedia, at: datetime) -> tuple[Any, ...]:
    state = MediaState.REFUSED if media.refused else MediaState.PENDING
    return (
        record.complaint_id, record.gateway, record.message_id, position, media.url,
        media.content_type, state.value, media.refused, at, at, at,
    )  # fmt: skip


async def _add_part(conn: Conn, key: PartKey, part: StoredPart) -> PartAdded:
    """The group the part now belongs to (inserting it unless seen before), read in the
    same transaction, and whether inserting it completed the group."""
    group_id, completes, repeat = await _insert_part(conn, key, part)
    row = await (await conn.execute(_GROUP, (group_id,))).fetchone()
    assert row is not None  # its group, written or read in this transaction
    parts = await (await conn.execute(_GROUP_PARTS, (group_id,))).fetchall()
    return PartAdded(group=group_from_rows(row, parts), completes=completes, repeat=repeat)


async def _insert_part(conn: Conn, key: PartKey, part: StoredPart) -> tuple[str, bool, bool]:
    """(the part's group, whether this part completed it, whether it was there before)."""
    if part.message_id is not None:
        seen = await _part_seen(conn, key, part, part.message_id)
        if seen is not None:
            log.log(
                logging.WARNING if key.gateway in RENUMBERING_GATEWAYS else logging.INFO,
                "SMS part %s %r was taken in before: not kept again",
                key.gateway,
                part.message_id,
            )
            return seen, False, True
    group_id = await _open_group(conn, key, part)
    cur = await conn.execute(
        _INSERT_PART,
        (
            group_id, part.seq, key.gateway, part.message_id, part.text,
            part.received_at, part.raw.content_type, part.raw.body,
        ),
    )  # fmt: skip
    if cur.rowcount != 1:
        log.warning(
            "SMS part %s %r repeats part %d of %d of a message still open: not kept again",
            key.gateway, part.message_id, part.seq, key.total,
        )  # fmt: skip
        return group_id, False, True
    cur = await conn.execute("SELECT count(*) AS n FROM sms_parts WHERE group_id = %s", (group_id,))
    counted = await cur.fetchone()
    assert counted is not None
    return group_id, counted["n"] == key.total, False


async def _open_group(conn: Conn, key: PartKey, part: StoredPart) -> str:
    """The open group of the part's message, opened by this part if there is none."""
    params = (key.gateway, key.sender, key.reference, key.total)
    row = await (await conn.execute(_OPEN_GROUP, params)).fetchone()
    if row is not None:
        return str(row["id"])
    group_id = uuid.uuid4().hex
    await conn.execute(
        "INSERT INTO sms_part_groups (id, gateway, sender, reference, total, "
        "first_received_at) VALUES (%s, %s, %s, %s, %s, %s)",
        (group_id, *params, part.received_at),
    )
    return group_id


async def _part_seen(conn: Conn, key: PartKey, part: StoredPart, message_id: str) -> str | None:
    """The group of the part delivered before under this message id, or (before
    fingerprints) under its bare gateway id with the same sender and time."""
    cur = await conn.execute(
        "SELECT group_id FROM sms_parts WHERE gateway = %s AND message_id = %s",
        (key.gateway, message_id),
    )
    seen = await cur.fetchone()
    bare = gateway_id(message_id)
    if seen is None and bare != message_id:
        params = (key.gateway, bare, key.sender, part.received_at)
        seen = await (await conn.execute(_UNFINGERPRINTED_PART, params)).fetchone()
    return str(seen["group_id"]) if seen else None


def _outbound_row(message: OutboundSms) -> tuple[Any, ...]:
    return (
        message.id, message.gateway, message.recipient, message.text, message.purpose,
        message.complaint_id, message.state.value, message.attempts,
        message.next_attempt_at, message.created_at, message.created_at,
        message.provider_id, message.last_error,
    )  # fmt: skip
