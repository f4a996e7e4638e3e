"""The SMS channel's tables in the embedded SQLite store (migrations 0003 and 0005)."""

from __future__ import annotations

import abc
import logging
import sqlite3
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from normalizer.models import Attachment, Complaint, ComplaintDraft, Flag
from store.rows import ts
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
from store.sqlite_part import SqlitePart
from store.sqlite_workflow import insert_citizen_reply
from store.sqlite_writer import CommitWakeup

log = logging.getLogger(__name__)

_SMS_RECORD = "SELECT * FROM sms_messages WHERE gateway = ? AND message_id = ?"
# The record or part of a message from before fingerprints, by its bare gateway id: only
# with the same sender and time is it this message rather than one the id was given to again.
_UNFINGERPRINTED_RECORD = _SMS_RECORD + " AND sender = ? AND received_at = ?"
_UNFINGERPRINTED_PART = (
    "SELECT p.group_id FROM sms_parts p JOIN sms_part_groups g ON g.id = p.group_id "
    "WHERE p.gateway = ? AND p.message_id = ? AND g.sender = ? AND p.received_at = ?"
)
# A long message's group and its parts, read the same way inside a write and outside one.
_GROUP = "SELECT * FROM sms_part_groups WHERE id = ?"
_GROUP_PARTS = "SELECT * FROM sms_parts WHERE group_id = ? ORDER BY seq"
_INSERT_SMS = "INSERT INTO sms_messages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
_INSERT_OUTBOUND = (
    f"INSERT INTO sms_outbound ({', '.join(OUTBOUND_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(OUTBOUND_COLUMNS))}) ON CONFLICT (id) DO NOTHING"
)
_INSERT_MEDIA = (
    "INSERT INTO sms_media (complaint_id, gateway, message_id, position, url, content_type, "
    "state, last_error, next_attempt_at, created_at, updated_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
# Pending media of complaints that hold their number of files already: never fetched.
_REFUSE_FULL = (
    "UPDATE sms_media SET state = 'refused', last_error = ?, updated_at = ? "
    "WHERE state = 'pending' AND (SELECT json_array_length(c.attachments) FROM complaints c "
    "WHERE c.id = sms_media.complaint_id) >= ?"
)
# The first pending media of each complaint, if due: one at a time per complaint keeps its
# photos in the MMS's order and lets the file limit be checked before each download.
_DUE_MEDIA = (
    "SELECT * FROM sms_media m WHERE m.state = 'pending' AND m.next_attempt_at <= ? "
    "AND m.id = (SELECT min(f.id) FROM sms_media f "
    "WHERE f.complaint_id = m.complaint_id AND f.state = 'pending') "
    "ORDER BY m.next_attempt_at, m.id LIMIT ?"
)
_FINISH_MEDIA = (
    "UPDATE sms_media SET state = ?, last_error = ?, attachment = ?, "
    "next_attempt_at = COALESCE(?, next_attempt_at), updated_at = ? WHERE id = ?"
)


class SqliteSmsStore(SqlitePart, SmsStore):
    """Mixed into SqliteStore, which provides the connections and the writer."""

    _outbound: CommitWakeup
    _events: CommitWakeup
    _clock: Callable[[], datetime]

    @abc.abstractmethod
    def _intake_batch(
        self, conn: sqlite3.Connection, items: Sequence[tuple[ComplaintDraft, timedelta]]
    ) -> list[Any]:
        """SqliteStore's intake, inside the open transaction."""

    @abc.abstractmethod
    def _attach(
        self, conn: sqlite3.Connection, complaint_id: str, attachment: Attachment, max_files: int
    ) -> bool:
        """SqliteStore's: a file appended to a complaint (False if it holds `max_files`)."""

    # -- parts of long messages -----------------------------------------------------

    async def add_sms_part(self, key: PartKey, part: StoredPart) -> PartAdded:
        added: PartAdded = await self._write.submit(self._add_part_batch, (key, part))
        return added

    def _add_part_batch(
        self, conn: sqlite3.Connection, items: Sequence[tuple[PartKey, StoredPart]]
    ) -> list[Any]:
        # One by one: a later part of this batch must see the group an earlier one opened.
        return [_add_part(conn, key, part) for key, part in items]

    async def _part_group(self, group_id: str) -> PartGroup | None:
        row = await self._row(_GROUP, (group_id,))
        if row is None:
            return None
        parts = await self._rows(_GROUP_PARTS, (group_id,))
        return group_from_rows(row, parts)

    async def expired_part_groups(self, opened_before: datetime, limit: int) -> list[PartGroup]:
        rows = await self._rows(
            "SELECT id FROM sms_part_groups WHERE closed_at IS NULL AND first_received_at < ? "
            "ORDER BY first_received_at LIMIT ?",
            (ts(opened_before), limit),
        )
        ids = [row["id"] for row in rows]
        groups = [await self._part_group(group_id) for group_id in ids]
        return [g for g in groups if g is not None]

    async def close_part_group(self, group_id: str, now: datetime) -> None:
        def close(conn: sqlite3.Connection, items: Sequence[str]) -> list[Any]:
            conn.executemany(
                "UPDATE sms_part_groups SET closed_at = ? WHERE id = ? AND closed_at IS NULL",
                [(ts(now), item) for item in items],
            )
            return [None] * len(items)

        await self._write.submit(close, group_id)

    async def is_part_group_closed(self, group_id: str) -> bool:
        row = await self._row("SELECT closed_at FROM sms_part_groups WHERE id = ?", (group_id,))
        return row is not None and row["closed_at"] is not None

    # -- messages taken in ----------------------------------------------------------

    async def get_sms_record(self, gateway: str, message_id: str) -> SmsRecord | None:
        row = await self._row(_SMS_RECORD, (gateway, message_id))
        return record_from_row(row) if row else None

    async def take_sms(self, take: SmsTake) -> SmsRecord:
        record: SmsRecord = await self._write.submit(self._take_batch, take)
        return record

    def _take_batch(self, conn: sqlite3.Connection, takes: Sequence[SmsTake]) -> list[Any]:
        """The whole batch in a few statements. Each SMS is counted against the rate limit
        after, and files beside, the SMS of this batch before it; the same SMS twice in
        one batch (a retry racing the original) is taken once."""
        known = _records_of(conn, takes)
        times = _times_of(conn, takes)
        fresh: dict[tuple[str, str], tuple[SmsTake, bool]] = {}
        for take in takes:
            key = (take.record.gateway, take.record.message_id)
            if key in known:
                log_taken_before(take.record.message_id, known[key])
                continue
            if key in fresh:
                continue
            fresh[key] = (take, _flooded(times, take))
            times.setdefault(take.record.sender, []).append(ts(take.record.received_at))
        if fresh:
            known.update(self._take_fresh(conn, fresh))
        return [known[(t.record.gateway, t.record.message_id)] for t in takes]

    def _take_fresh(
        self, conn: sqlite3.Connection, fresh: dict[tuple[str, str], tuple[SmsTake, bool]]
    ) -> dict[tuple[str, str], SmsRecord]:
        complaints = self._file_drafts(conn, fresh)
        records: dict[tuple[str, str], SmsRecord] = {}
        queued: list[OutboundSms] = []
        for key, (take, flooded) in fresh.items():
            record = records[key] = finished_record(take, flooded, complaints.get(key))
            if record.reply_via is ReplyVia.SENDER and take.queue is not None:
                queued.append(take.queue(record))
        conn.executemany(_INSERT_SMS, [_sms_row(r) for r in records.values()])
        if any(take.media for take, _ in fresh.values()):  # an MMS: a text SMS skips this
            at = ts(self._clock())
            media = [row for k, (t, _) in fresh.items() for row in _media_rows(t, records[k], at)]
            conn.executemany(_INSERT_MEDIA, media)
        for reply in (t.reply for t, _ in fresh.values() if t.reply is not None):
            if insert_citizen_reply(conn, reply):
                self._events.wrote()
        if queued:
            conn.executemany(_INSERT_OUTBOUND, [_outbound_row(m) for m in queued])
            self._outbound.wrote()
        return records

    def _file_drafts(
        self, conn: sqlite3.Connection, fresh: dict[tuple[str, str], tuple[SmsTake, bool]]
    ) -> dict[tuple[str, str], Complaint]:
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
        filed = self._intake_batch(conn, drafts)
        for result in filed:
            if isinstance(result, Exception):  # an SMS has no request hash to conflict on
                raise result
        return {key: result.complaint for key, result in zip(keys, filed, strict=True)}

    async def sms_gateway_of(self, complaint_id: str) -> str | None:
        row = await self._row(
            "SELECT gateway FROM sms_messages WHERE complaint_id = ? ORDER BY received_at LIMIT 1",
            (complaint_id,),
        )
        return str(row["gateway"]) if row else None

    # -- SMS to send ----------------------------------------------------------------

    async def enqueue_sms(self, message: OutboundSms) -> bool:
        def enqueue(conn: sqlite3.Connection, items: Sequence[OutboundSms]) -> list[Any]:
            results = []
            for item in items:
                cur = conn.execute(_INSERT_OUTBOUND, _outbound_row(item))
                results.append(cur.rowcount == 1)
            if any(results):
                self._outbound.wrote()
            return results

        queued: bool = await self._write.submit(enqueue, message)
        return queued

    async def claim_outbound_sms(self, now: datetime, limit: int) -> list[OutboundSms]:
        def claim(conn: sqlite3.Connection, _: Sequence[None]) -> list[Any]:
            rows = conn.execute(
                "SELECT * FROM sms_outbound WHERE state = 'pending' AND next_attempt_at <= ? "
                "ORDER BY next_attempt_at, created_at LIMIT ?",
                (ts(now), limit),
            ).fetchall()
            conn.executemany(
                "UPDATE sms_outbound SET state = 'sending', attempts = attempts + 1, "
                "updated_at = ? WHERE id = ?",
                [(ts(now), row["id"]) for row in rows],
            )
            claimed = [
                outbound_from_row(row).model_copy(
                    update={"state": OutboundState.SENDING, "attempts": row["attempts"] + 1}
                )
                for row in rows
            ]
            return [claimed]

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
        def finish(conn: sqlite3.Connection, items: Sequence[tuple[Any, ...]]) -> list[Any]:
            conn.executemany(
                "UPDATE sms_outbound SET state = ?, provider_id = COALESCE(?, provider_id), "
                "last_error = ?, next_attempt_at = COALESCE(?, next_attempt_at), "
                "updated_at = ? WHERE id = ?",
                items,
            )
            return [None] * len(items)

        retry = ts(retry_at) if retry_at else None
        await self._write.submit(
            finish, (state.value, provider_id, error, retry, ts(now), message_id)
        )

    async def abandon_unconfirmed_sms(self, now: datetime) -> int:
        def abandon(conn: sqlite3.Connection, _: Sequence[None]) -> list[Any]:
            cur = conn.execute(
                "UPDATE sms_outbound SET state = 'unknown', updated_at = ?, "
                "last_error = 'the gateway stopped while sending; not sent again' "
                "WHERE state = 'sending'",
                (ts(now),),
            )
            return [cur.rowcount]

        count: int = await self._write.submit(abandon, None)
        return count

    async def outbound_sms(self, complaint_id: str | None = None) -> list[OutboundSms]:
        where, params = ("WHERE complaint_id = ?", (complaint_id,)) if complaint_id else ("", ())
        rows = await self._rows(
            f"SELECT * FROM sms_outbound {where} ORDER BY created_at, id", params
        )
        return [outbound_from_row(row) for row in rows]

    async def outbound_summary(self, since: datetime) -> dict[str, object]:
        row = await self._row(
            "SELECT (SELECT count(*) FROM sms_outbound WHERE state = 'pending') AS pending, "
            "(SELECT count(*) FROM sms_outbound WHERE state = 'failed' AND updated_at >= ?) "
            "AS failed, (SELECT last_error FROM sms_outbound WHERE state = 'failed' "
            "AND updated_at >= ? ORDER BY updated_at DESC LIMIT 1) AS last_error",
            (ts(since), ts(since)),
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
        def claim(conn: sqlite3.Connection, _: Sequence[None]) -> list[Any]:
            conn.execute(_REFUSE_FULL, (full_note(max_files), ts(now), max_files))
            rows = conn.execute(_DUE_MEDIA, (ts(now), limit)).fetchall()
            conn.executemany(
                "UPDATE sms_media SET attempts = attempts + 1, next_attempt_at = ?, "
                "updated_at = ? WHERE id = ?",
                [(ts(lease_until), ts(now), row["id"]) for row in rows],
            )
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

    def _finish_media_batch(
        self, conn: sqlite3.Connection, items: Sequence[tuple[int, MediaOutcome, datetime, int]]
    ) -> list[Any]:
        return [self._finish_media(conn, *item) for item in items]

    def _finish_media(
        self,
        conn: sqlite3.Connection,
        media_id: int,
        outcome: MediaOutcome,
        now: datetime,
        max_files: int,
    ) -> MediaState:
        """Record an attempt; a fetched media joins its complaint's attachments, if there is
        room, in the same transaction."""
        state, error, attachment = outcome.state, outcome.error, outcome.attachment
        if attachment is not None:
            (complaint_id,) = conn.execute(
                "SELECT complaint_id FROM sms_media WHERE id = ?", (media_id,)
            ).fetchone()
            if not self._attach(conn, complaint_id, attachment, max_files):
                state, error, attachment = MediaState.REFUSED, full_note(max_files), None
        retry_at = ts(outcome.retry_at) if outcome.retry_at else None
        stored = attachment.model_dump_json() if attachment else None
        conn.execute(_FINISH_MEDIA, (state.value, error, stored, retry_at, ts(now), media_id))
        return state


def _records_of(
    conn: sqlite3.Connection, takes: Sequence[SmsTake]
) -> dict[tuple[str, str], SmsRecord]:
    """The SMS of the batch taken before (retries), by (gateway, message id)."""
    by_gateway: dict[str, set[str]] = {}
    for take in takes:
        by_gateway.setdefault(take.record.gateway, set()).add(take.record.message_id)
    found: dict[tuple[str, str], SmsRecord] = {}
    for gateway, ids in by_gateway.items():
        sql = (
            f"SELECT * FROM sms_messages WHERE gateway = ? "
            f"AND message_id IN ({', '.join('?' * len(ids))})"
        )
        for row in conn.execute(sql, [gateway, *ids]):
            found[(gateway, row["message_id"])] = record_from_row(row)
    for take in takes:
        key = (take.record.gateway, take.record.message_id)
        if key not in found and (earlier := _unfingerprinted_record(conn, take.record)):
            found[key] = earlier
    return found


def _unfingerprinted_record(conn: sqlite3.Connection, record: SmsRecord) -> SmsRecord | None:
    """The record of this message kept under its bare gateway id, if it has one."""
    bare = gateway_id(record.message_id)
    if bare == record.message_id:
        return None
    params = (record.gateway, bare, record.sender, ts(record.received_at))
    row = conn.execute(_UNFINGERPRINTED_RECORD, params).fetchone()
    return record_from_row(row) if row else None


def _times_of(conn: sqlite3.Connection, takes: Sequence[SmsTake]) -> dict[str, list[str]]:
    """When each rate-limited sender of the batch sent SMS within its window, by sender."""
    limited = [t for t in takes if t.rate_limit is not None]
    if not limited:
        return {}
    senders = sorted({t.record.sender for t in limited})
    since = min(t.rate_limit.since for t in limited if t.rate_limit is not None)
    sql = (
        f"SELECT sender, received_at FROM sms_messages "
        f"WHERE sender IN ({', '.join('?' * len(senders))}) AND received_at >= ?"
    )
    times: dict[str, list[str]] = {}
    for sender, received_at in conn.execute(sql, [*senders, ts(since)]):
        times.setdefault(sender, []).append(received_at)
    return times


def _flooded(times: dict[str, list[str]], take: SmsTake) -> bool:
    """Whether the sender had reached the limit before this SMS (times compare as text)."""
    rate = take.rate_limit
    if rate is None:
        return False
    since = ts(rate.since)
    return sum(1 for at in times.get(take.record.sender, ()) if at >= since) >= rate.limit


def _sms_row(record: SmsRecord) -> tuple[Any, ...]:
    return (
        record.gateway, record.message_id, record.sender, ts(record.received_at),
        record.intent, record.complaint_id, " ".join(record.flags), record.reply,
        record.reply_via.value if record.reply_via else None,
    )  # fmt: skip


def _media_rows(take: SmsTake, record: SmsRecord, at: str) -> list[tuple[Any, ...]]:
    """The SMS's media, for the complaint it filed or named: pending, or refused with why."""
    if record.complaint_id is None:
        return []
    return [_media_row(record, position, media, at) for position, media in enumerate(take.media)]


def _media_row(record: SmsRecord, position: int, media: NewMedia, at: str) -> tuple[Any, ...]:
    state = MediaState.REFUSED if media.refused else MediaState.PENDING
    return (
        record.complaint_id, record.gateway, record.message_id, position, media.url,
        media.content_type, state.value, media.refused, at, at, at,
    )  # fmt: skip


def _add_part(conn: sqlite3.Connection, key: PartKey, part: StoredPart) -> PartAdded:
    """The group the part now belongs to (inserting it unless seen before), read in the
    same transaction, and whether inserting it completed the group."""
    group_id, completes, repeat = _insert_part(conn, key, part)
    row = conn.execute(_GROUP, (group_id,)).fetchone()
    group = group_from_rows(row, conn.execute(_GROUP_PARTS, (group_id,)).fetchall())
    return PartAdded(group=group, completes=completes, repeat=repeat)


def _insert_part(
    conn: sqlite3.Connection, key: PartKey, part: StoredPart
) -> tuple[str, bool, bool]:
    """(the part's group, whether this part completed it, whether it was there before)."""
    if part.message_id is not None:
        seen = _part_seen(conn, key, part, part.message_id)
        if seen is not None:
            log.log(
                logging.WARNING if key.gateway in RENUMBERING_GATEWAYS else logging.INFO,
                "SMS part %s %r was taken in before: not kept again",
                key.gateway,
                part.message_id,
            )
            return seen, False, True
    row = conn.execute(
        "SELECT id FROM sms_part_groups WHERE gateway = ? AND sender = ? AND reference = ? "
        "AND total = ? AND closed_at IS NULL",
        (key.gateway, key.sender, key.reference, key.total),
    ).fetchone()
    if row is None:
        group_id = uuid.uuid4().hex
        conn.execute(
            "INSERT INTO sms_part_groups (id, gateway, sender, reference, total, "
            "first_received_at) VALUES (?, ?, ?, ?, ?, ?)",
            (group_id, key.gateway, key.sender, key.reference, key.total, ts(part.received_at)),
        )
    else:
        group_id = row["id"]
    cur = conn.execute(
        "INSERT INTO sms_parts VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (group_id, seq) DO NOTHING",
        (
            group_id, part.seq, key.gateway, part.message_id, part.text,
            ts(part.received_at), part.raw.content_type, part.raw.body,
        ),
    )  # fmt: skip
    if cur.rowcount != 1:
        log.warning(
            "SMS part %s %r repeats part %d of %d of a message still open: not kept again",
            key.gateway, part.message_id, part.seq, key.total,
        )  # fmt: skip
        return group_id, False, True
    (count,) = conn.execute(
        "SELECT count(*) FROM sms_parts WHERE group_id = ?", (group_id,)
    ).fetchone()
    return group_id, count == key.total, False


def _part_seen(
    conn: sqlite3.Connection, key: PartKey, part: StoredPart, message_id: str
) -> str | None:
    """The group of the part delivered before under this message id, or (before
    fingerprints) under its bare gateway id with the same sender and time."""
    seen = conn.execute(
        "SELECT group_id FROM sms_parts WHERE gateway = ? AND message_id = ?",
        (key.gateway, message_id),
    ).fetchone()
    bare = gateway_id(message_id)
    if seen is None and bare != message_id:
        params = (key.gateway, bare, key.sender, ts(part.received_at))
        seen = conn.execute(_UNFINGERPRINTED_PART, params).fetchone()
    return str(seen["group_id"]) if seen else None


def _outbound_row(message: OutboundSms) -> tuple[Any, ...]:
    return (
        message.id, message.gateway, message.recipient, message.text, message.purpose,
        message.complaint_id, message.state.value, message.attempts,
        ts(message.next_attempt_at), ts(message.created_at), ts(message.created_at),
        message.provider_id, message.last_error,
    )  # fmt: skip
