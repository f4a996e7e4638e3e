"""The event relay's reads and cursor in the PostgreSQL store: the same as the SQLite
store's (store/sqlite_events.py), in PostgreSQL's types."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import cached_property

from normalizer.casework import CitizenReply
from store.base import EVENT_CITIZEN_REPLY
from store.events import EventRelayStore, RelayEvent
from store.postgres_part import PostgresPart
from store.postgres_writer import Conn
from store.rows import (
    CASE_COLUMNS,
    case_from_row,
    complaint_from_row,
    from_row,
    parse_document,
    parse_ts,
)
from store.sqlite_writer import CommitWakeup

# The case's columns prefixed, beside the complaint's own (both have tracking_id).
_CASE_SELECT = ", ".join(f"k.{c} AS k_{c}" for c in CASE_COLUMNS)
# Outbox seqs are not handed out in commit order by themselves (two transactions, the
# later number committed first), but every transaction adding outbox rows holds
# OUTBOX_LOCK from before its inserts to its commit: whatever a read finds after the
# cursor, nothing with a smaller seq can commit later.
_RELAY_EVENTS = (
    "SELECT o.seq AS o_seq, o.kind AS o_kind, o.created_at AS o_created_at, o.data AS o_data, "
    f"c.*, {_CASE_SELECT} FROM outbox o JOIN complaints c ON c.id = o.complaint_id "
    "LEFT JOIN cases k ON k.complaint_id = o.complaint_id "
    "WHERE o.seq > %s ORDER BY o.seq LIMIT %s"
)


class PostgresEventsStore(PostgresPart, EventRelayStore):
    """Mixed into PostgresStore, which provides the pool, the writer and the outbox's
    commit wake-up (woken by the installation's LISTEN on new events)."""

    _events: CommitWakeup
    _clock: Callable[[], datetime]

    @cached_property
    def _relay_wakeup(self) -> CommitWakeup:
        return self._events.follower()

    async def relay_position(self, stream: str) -> int:
        row = await self._row("SELECT seq FROM event_relay WHERE stream = %s", (stream,))
        return int(row["seq"]) if row else 0

    async def relay_events(self, after_seq: int, limit: int) -> list[RelayEvent]:
        # The relay's wake-up exists from its first read on, so no commit after that read
        # goes unnoticed.
        _ = self._relay_wakeup
        rows = await self._rows(_RELAY_EVENTS, (after_seq, limit))
        data = [parse_document(r["o_data"]) if r["o_data"] else {} for r in rows]
        named = [
            d.get("followup") if r["o_kind"] == EVENT_CITIZEN_REPLY else None
            for r, d in zip(rows, data, strict=True)
        ]
        followups = await self._followups(named)
        return [
            RelayEvent(
                seq=r["o_seq"],
                kind=r["o_kind"],
                created_at=parse_ts(r["o_created_at"]),
                data=d,
                complaint=complaint_from_row(r),
                case=case_from_row(r, prefix="k_") if r["k_complaint_id"] else None,
                followup=followups.get(followup) if isinstance(followup, int) else None,
            )
            for r, d, followup in zip(rows, data, named, strict=True)
        ]

    async def _followups(self, ids: list[object]) -> dict[int, CitizenReply]:
        wanted = sorted({i for i in ids if isinstance(i, int)})
        if not wanted:
            return {}
        rows = await self._rows("SELECT * FROM complaint_followups WHERE id = ANY(%s)", (wanted,))
        return {r["id"]: from_row(CitizenReply, r) for r in rows}

    async def advance_relay(self, stream: str, seq: int) -> None:
        now = self._clock()

        async def advance(conn: Conn) -> None:
            await conn.execute(
                "INSERT INTO event_relay (stream, seq, updated_at) VALUES (%s, %s, %s) "
                "ON CONFLICT (stream) DO UPDATE SET "
                "seq = GREATEST(event_relay.seq, excluded.seq), updated_at = excluded.updated_at",
                (stream, seq, now),
            )

        await self._one(advance)

    async def wait_for_relay(self, max_wait: float) -> None:
        await self._relay_wakeup.wait(max_wait)
