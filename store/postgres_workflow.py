"""The workflow's tables in the PostgreSQL store: the twin of store/sqlite_workflow.py, for
several processes writing at once. Where SQLite relies on being the only writer, here the
case's row is locked for its step, the nota numbers and the tab counts are upserts, and
the notifiers claim messages with SKIP LOCKED."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import uuid6
from psycopg.abc import QueryNoTemplate as Query
from psycopg.rows import DictRow
from psycopg.types.json import Jsonb

from normalizer.casework import (
    Approval,
    CitizenReply,
    Draft,
    NotaDinas,
    Transition,
    nota_number,
)
from normalizer.models import Case, Channel, Complaint, RawPayload
from normalizer.redact import redact_payload
from store.base import EVENT_CITIZEN_REPLY
from store.postgres_part import OUTBOX_LOCK, PostgresPart
from store.postgres_writer import Conn
from store.rows import case_from_row, complaint_from_row, from_row, parse_ts, parse_ts_or_none
from store.sqlite_writer import CommitWakeup
from store.workflow import (
    AgencyStint,
    CaseRecord,
    CitizenCode,
    CitizenMessage,
    DeskItem,
    MessageState,
    RecapKind,
    RecapTally,
    StaleCase,
    WorkflowStore,
)

_UPDATE_CASE = (
    "UPDATE cases SET state = %s, version = version + 1, updated_at = %s, agency = %s, "
    "assignee = %s, due_at = %s, held_at = %s, verified_at = %s, answered_at = %s, "
    "closed_at = %s, rating = %s, dissatisfied = %s, verification_late = %s, "
    "completion_late = %s WHERE complaint_id = %s RETURNING *"
)
_INSERT_EVENT = (
    "INSERT INTO case_events (complaint_id, at, kind, state, actor, note, role, from_state, "
    "data) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
_INSERT_MESSAGE = (
    "INSERT INTO citizen_messages (id, complaint_id, purpose, text, state, created_at, "
    "updated_at) VALUES (%s, %s, %s, %s, 'pending', %s, %s)"
)
_INSERT_OUTBOX = "INSERT INTO outbox (kind, complaint_id, created_at, data) VALUES (%s, %s, %s, %s)"


class PostgresWorkflowStore(PostgresPart, WorkflowStore):
    """Mixed into PostgresStore, which provides the pool, the writer and the wake-ups."""

    # Woken in every process by the core's LISTEN; this part only sends the NOTIFYs.
    _events: CommitWakeup
    _notices: CommitWakeup

    # -- cases ------------------------------------------------------------------------

    async def case_record(self, complaint_id: str) -> CaseRecord | None:
        complaint_row = await self._row("SELECT * FROM complaints WHERE id = %s", (complaint_id,))
        case_row = await self._row("SELECT * FROM cases WHERE complaint_id = %s", (complaint_id,))
        if complaint_row is None or case_row is None:
            return None
        drafts = await self._rows(
            "SELECT * FROM nota_drafts WHERE complaint_id = %s ORDER BY version", (complaint_id,)
        )
        notas = await self._rows(
            "SELECT * FROM nota_dinas WHERE complaint_id = %s ORDER BY id", (complaint_id,)
        )
        stints = await self._rows(
            "SELECT * FROM case_agencies WHERE complaint_id = %s ORDER BY id", (complaint_id,)
        )
        return CaseRecord(
            complaint=complaint_from_row(complaint_row),
            case=case_from_row(case_row),
            drafts=tuple(from_row(Draft, r) for r in drafts),
            notas=tuple(from_row(NotaDinas, r) for r in notas),
            agencies=tuple(from_row(AgencyStint, r) for r in stints),
        )

    async def apply(self, transition: Transition) -> Case:
        case: Case = await self._one(lambda conn: self._apply(conn, transition))
        return case

    async def _apply(self, conn: Conn, t: Transition) -> Case:
        # First, before any row lock, and even by a step without an outbox event: a
        # transaction waiting for the outbox lock while holding a case or a count that
        # another process's step (holding the outbox lock) needs would deadlock with it.
        # Steps of all processes thus take their rows in turn, as on SQLite.
        await self._lock_outbox(conn)
        before = await _lock_case(conn, t)
        after = await _update_case(conn, t, before)
        await conn.execute(
            _INSERT_EVENT,
            (
                t.complaint_id, t.at, t.kind, t.to_state, t.actor, t.note, t.role, t.from_state,
                Jsonb(t.data) if t.data else None,
            ),
        )  # fmt: skip
        await _correct_complaint(conn, t)
        if t.agency != before.agency:
            await _move_agency(conn, t.complaint_id, t.agency, t.at)
        await _write_nota(conn, t)
        await self._tell(conn, t)
        return after

    async def _tell(self, conn: Conn, t: Transition) -> None:
        """The step's messages to the citizen and its outbox event, waking their waiters
        in every process once committed."""
        if t.notices:
            await _executemany(
                conn,
                _INSERT_MESSAGE,
                [
                    (uuid6.uuid7().hex, t.complaint_id, n.purpose, n.text, t.at, t.at)
                    for n in t.notices
                ],
            )
            await self._notify(conn, "notices")
        if t.outbox_kind is not None:
            event = {"event": t.kind, "from": t.from_state, "to": t.to_state}
            await conn.execute(_INSERT_OUTBOX, (t.outbox_kind, t.complaint_id, t.at, Jsonb(event)))
            await self._notify(conn, "events")

    async def case_counts(self, agency: str | None = None) -> dict[str, int]:
        where, params = ("WHERE agency = %s", (agency,)) if agency is not None else ("", ())
        rows = await self._rows(
            f"SELECT state, sum(n) AS n FROM case_counts {where} GROUP BY state", params
        )
        return {r["state"]: int(r["n"]) for r in rows if r["n"]}

    async def pejabat_of(self, agency: str) -> frozenset[str]:
        rows = await self._rows(
            "SELECT username FROM staff WHERE agency = %s AND role = 'pejabat_penghubung' "
            "AND disabled_at IS NULL",
            (agency,),
        )
        return frozenset(r["username"] for r in rows)

    # -- the citizen --------------------------------------------------------------------

    async def add_citizen_reply(self, reply: CitizenReply) -> bool:
        async def add(conn: Conn) -> bool:
            added = await insert_citizen_reply(conn, reply)
            if added:
                await self._notify(conn, "events")
            return added

        added: bool = await self._one(add)
        return added

    async def citizen_reply(self, followup_id: int) -> CitizenReply | None:
        row = await self._row("SELECT * FROM complaint_followups WHERE id = %s", (followup_id,))
        return from_row(CitizenReply, row) if row is not None else None

    async def claim_citizen_messages(
        self, now: datetime, limit: int, lease_seconds: float
    ) -> list[tuple[CitizenMessage, Complaint]]:
        until = now + timedelta(seconds=lease_seconds)

        async def claim(conn: Conn) -> list[tuple[CitizenMessage, Complaint]]:
            cur = await conn.execute(_CLAIM_MESSAGES, (now, limit, until))
            rows = sorted(await cur.fetchall(), key=lambda r: (r["created_at"], r["id"]))
            ids = sorted({r["complaint_id"] for r in rows})
            cur = await conn.execute("SELECT * FROM complaints WHERE id = ANY(%s)", (ids,))
            complaints = {c["id"]: complaint_from_row(c) for c in await cur.fetchall()}
            return [(from_row(CitizenMessage, r), complaints[r["complaint_id"]]) for r in rows]

        claimed: list[tuple[CitizenMessage, Complaint]] = await self._one(claim)
        return claimed

    async def finish_citizen_message(
        self,
        message_id: str,
        state: MessageState,
        now: datetime,
        channel: Channel | None = None,
        detail: str | None = None,
    ) -> None:
        await self._one(
            lambda conn: conn.execute(
                "UPDATE citizen_messages SET state = %s, channel = %s, detail = %s, "
                "updated_at = %s WHERE id = %s",
                (state.value, channel.value if channel else None, detail, now, message_id),
            ),
        )

    async def citizen_messages(self, complaint_id: str) -> list[CitizenMessage]:
        rows = await self._rows(
            "SELECT * FROM citizen_messages WHERE complaint_id = %s ORDER BY created_at, id",
            (complaint_id,),
        )
        return [from_row(CitizenMessage, r) for r in rows]

    async def add_notice(self, complaint_id: str, purpose: str, text: str, now: datetime) -> str:
        message_id = uuid6.uuid7().hex

        async def add(conn: Conn) -> None:
            await conn.execute(_INSERT_MESSAGE, (message_id, complaint_id, purpose, text, now, now))
            await self._notify(conn, "notices")

        await self._one(add)
        return message_id

    async def add_desk_items(self, message: CitizenMessage, kinds: tuple[str, ...]) -> None:
        await self._one(
            lambda conn: _executemany(
                conn,
                "INSERT INTO desk_items (message_id, kind, complaint_id, created_at) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT (message_id, kind) DO NOTHING",
                [(message.id, k, message.complaint_id, message.created_at) for k in kinds],
            ),
        )

    async def desk_items(
        self, *, open_only: bool = True, limit: int = 200, message_id: str | None = None
    ) -> list[DeskItem]:
        where, params = ["TRUE"], []
        if open_only:
            where.append("d.done_at IS NULL")
        if message_id is not None:
            where.append("d.message_id = %s")
            params.append(message_id)
        rows = await self._rows(
            "SELECT d.message_id, d.kind, d.created_at AS d_created_at, d.done_at, d.done_by, "
            "m.purpose, m.text AS m_text, c.* FROM desk_items d "
            "JOIN citizen_messages m ON m.id = d.message_id "
            f"JOIN complaints c ON c.id = d.complaint_id WHERE {' AND '.join(where)} "
            "ORDER BY d.created_at, d.message_id, d.kind LIMIT %s",
            (*params, limit),
        )
        return [
            DeskItem(
                message_id=r["message_id"],
                kind=r["kind"],
                complaint=complaint_from_row(r),
                purpose=r["purpose"],
                text=r["m_text"],
                created_at=parse_ts(r["d_created_at"]),
                done_at=parse_ts_or_none(r["done_at"]),
                done_by=r["done_by"],
            )
            for r in rows
        ]

    async def count_desk_items(self) -> int:
        row = await self._row("SELECT count(*) AS n FROM desk_items WHERE done_at IS NULL")
        return int(row["n"]) if row else 0

    async def finish_desk_item(
        self, message_id: str, kind: str, username: str, now: datetime
    ) -> bool:
        async def finish(conn: Conn) -> bool:
            cur = await conn.execute(
                "UPDATE desk_items SET done_at = %s, done_by = %s "
                "WHERE message_id = %s AND kind = %s AND done_at IS NULL",
                (now, username, message_id, kind),
            )
            return cur.rowcount == 1

        done: bool = await self._one(finish)
        return done

    async def set_citizen_code(self, code: CitizenCode) -> None:
        await self._one(
            lambda conn: conn.execute(
                "INSERT INTO citizen_codes (complaint_id, kind, code_hash, created_at, "
                "expires_at) VALUES (%s, %s, %s, %s, %s) ON CONFLICT (complaint_id, kind) "
                "DO UPDATE SET code_hash = excluded.code_hash, "
                "created_at = excluded.created_at, expires_at = excluded.expires_at, "
                "attempts = 0",
                (code.complaint_id, code.kind, code.code_hash, code.created_at, code.expires_at),
            ),
        )

    async def citizen_codes(self, complaint_id: str) -> list[CitizenCode]:
        rows = await self._rows(
            "SELECT * FROM citizen_codes WHERE complaint_id = %s ORDER BY kind", (complaint_id,)
        )
        return [from_row(CitizenCode, r) for r in rows]

    async def count_code_attempt(self, complaint_id: str, kind: str, success: bool) -> None:
        query = (
            "DELETE FROM citizen_codes WHERE complaint_id = %s AND kind = %s AND kind = 'sent'"
            if success
            else "UPDATE citizen_codes SET attempts = attempts + 1 "
            "WHERE complaint_id = %s AND kind = %s"
        )
        await self._one(lambda conn: conn.execute(query, (complaint_id, kind)))

    # -- sweep and recap ----------------------------------------------------------------

    async def sweep_candidates(self, now: datetime, limit: int) -> list[Case]:
        rows = await self._rows(
            "SELECT * FROM cases WHERE closed_at IS NULL AND ("
            "(due_at <= %(now)s AND state IN ('diterima', 'ditunda') "
            "AND NOT verification_late) "
            "OR (due_at <= %(now)s AND state NOT IN ('diterima', 'ditunda') "
            "AND NOT completion_late) "
            "OR state IN ('ditunda', 'dijawab')) ORDER BY updated_at LIMIT %(limit)s",
            {"now": now, "limit": limit},
        )
        return [case_from_row(r) for r in rows]

    async def recap_tally(
        self, received_from: datetime, received_before: datetime, zone: str
    ) -> RecapTally:
        ZoneInfo(zone)  # an unknown zone fails here, before the query
        rows = await self._rows(
            _RECAP_GROUPS, {"zone": zone, "from": received_from, "before": received_before}
        )
        tally = RecapTally()
        for r in rows:
            kind = RecapKind(
                r["state"], r["channel"], r["category"], r["classification"], r["agency"],
                r["verified"], r["answered"], r["verified_in_time"], r["answered_in_time"],
            )  # fmt: skip
            tally.add(kind, r["received_on"], r["verified_on"], r["answered_on"], r["n"])
        return tally


# Oldest first (a step's messages share their instant: then in the order written, as
# their ids are uuid7); SKIP LOCKED: several notifiers claim at once, each message is
# one's. The claimed rows come back in no order: the caller sorts them.
_CLAIM_MESSAGES = """
WITH due AS (
    SELECT id FROM citizen_messages
    WHERE state = 'pending' AND (claimed_until IS NULL OR claimed_until < %s)
    ORDER BY created_at, id LIMIT %s
    FOR UPDATE SKIP LOCKED
)
UPDATE citizen_messages m SET claimed_until = %s FROM due WHERE m.id = due.id
RETURNING m.*
"""

# The complaints received in the period, counted by what the recap counts them by (their
# case's agency else the last it had; whether each deadline was kept) and their local
# dates, grouped here: a month is tens of thousands of complaints and a few thousand
# groups. The bound is exclusive; the complaints' part is read from the index
# complaints_received alone.
_RECAP_GROUPS = """
SELECT k.state, c.channel, c.category, c.classification,
    COALESCE(k.agency, (SELECT a.agency FROM case_agencies a
                        WHERE a.complaint_id = c.id ORDER BY a.id DESC LIMIT 1)) AS agency,
    k.verified_at IS NOT NULL AS verified,
    k.answered_at IS NOT NULL AS answered,
    COALESCE(k.verified_at < k.verification_due_at, false) AS verified_in_time,
    COALESCE(k.answered_at < k.completion_due_at, false) AS answered_in_time,
    (c.received_at AT TIME ZONE %(zone)s)::date AS received_on,
    (k.verified_at AT TIME ZONE %(zone)s)::date AS verified_on,
    (k.answered_at AT TIME ZONE %(zone)s)::date AS answered_on,
    count(*) AS n
FROM complaints c LEFT JOIN cases k ON k.complaint_id = c.id
WHERE c.received_at >= %(from)s AND c.received_at < %(before)s
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12
"""


async def count_cases(conn: Conn, changes: Counter[tuple[str, str]]) -> None:
    """Keep `case_counts` by (agency, state) as cases open and move, in their transaction.

    Under the outbox lock, taken first if the transaction does not hold it yet: the counts
    are rows every step of every process updates, each after taking that lock (see
    `PostgresWorkflowStore._apply`); a transaction holding a count while it waits for the
    lock would deadlock with a step holding the lock and waiting for that count."""
    await _lock_outbox(conn)
    await _count(conn, changes)


async def _count(conn: Conn, changes: Counter[tuple[str, str]]) -> None:
    """`count_cases` in a transaction that holds the outbox lock. Sorted, so that
    transactions lock the counts they share in one order."""
    await _executemany(
        conn,
        "INSERT INTO case_counts (agency, state, n) VALUES (%s, %s, %s) "
        "ON CONFLICT (agency, state) DO UPDATE SET n = case_counts.n + excluded.n",
        [(agency, state, n) for (agency, state), n in sorted(changes.items()) if n],
    )


async def insert_citizen_reply(conn: Conn, reply: CitizenReply) -> bool:
    """Keep the citizen's reply and the outbox event that has the workflow take it in;
    False, and nothing written, if its (channel, external id) was kept before. Takes the
    outbox lock itself, first, as every step does; the caller wakes "events"
    (`PostgresPart._notify`) when True."""
    await _lock_outbox(conn)
    cur = await conn.execute(
        "INSERT INTO complaint_followups (complaint_id, channel, external_id, text, "
        "received_at, kind, rating) VALUES (%s, %s, %s, %s, %s, %s, %s) "
        "ON CONFLICT (channel, external_id) DO NOTHING RETURNING id",
        (
            reply.complaint_id, reply.channel.value, reply.external_id, reply.text,
            reply.received_at, reply.kind, reply.rating,
        ),
    )  # fmt: skip
    row = await cur.fetchone()
    if row is None:
        return False
    await conn.execute(
        _INSERT_OUTBOX,
        (
            EVENT_CITIZEN_REPLY,
            reply.complaint_id,
            reply.received_at,
            Jsonb({"followup": row["id"]}),
        ),
    )
    return True


async def _lock_case(conn: Conn, t: Transition) -> Case:
    """The case as the step finds it, locked to the end of the transaction: a step of
    another process on this case waits, then reads the version this one wrote and is
    refused as stale. StaleCase if it is not the version and state the step expects."""
    cur = await conn.execute(
        "SELECT * FROM cases WHERE complaint_id = %s FOR UPDATE", (t.complaint_id,)
    )
    row = await cur.fetchone()
    before = case_from_row(row) if row else None
    if before is None or (before.state, before.version) != (t.expect_state, t.expect_version):
        raise StaleCase(before)
    return before


async def _update_case(conn: Conn, t: Transition, before: Case) -> Case:
    """The case's values after the step, and its tab counts moved along with it (the
    step holds the outbox lock)."""
    cur = await conn.execute(
        _UPDATE_CASE,
        (
            t.to_state, t.at, t.agency, t.assignee, t.due_at, t.held_at, t.verified_at,
            t.answered_at, t.closed_at, t.rating, t.dissatisfied, t.verification_late,
            t.completion_late, t.complaint_id,
        ),
    )  # fmt: skip
    after = await cur.fetchone()
    assert after is not None  # the row is there, locked by _lock_case
    if (before.agency, before.state) != (t.agency, t.to_state):
        await _count(
            conn,
            Counter({(before.agency or "", before.state): -1, (t.agency or "", t.to_state): 1}),
        )
    return case_from_row(after)


async def _write_nota(conn: Conn, t: Transition) -> None:
    """The step's draft, approval or publication of the nota dinas, if any."""
    if t.draft is not None:
        await _insert_draft(conn, t.complaint_id, t.draft)
    if t.approval is not None:
        await _insert_nota(conn, t.complaint_id, t.approval)
    if t.publish is not None:
        await conn.execute(
            "UPDATE nota_dinas SET published_at = %s "
            "WHERE complaint_id = %s AND number = %s AND published_at IS NULL",
            (t.at, t.complaint_id, t.publish),
        )


async def _lock_outbox(conn: Conn) -> None:
    """`PostgresPart._lock_outbox`, for the helpers given only the connection (taking it
    again in the same transaction is free of effect)."""
    await conn.execute("SELECT pg_advisory_xact_lock(%s)", (OUTBOX_LOCK,))


async def _executemany(conn: Conn, query: Query, params: Sequence[Sequence[Any]]) -> None:
    if params:
        async with conn.cursor() as cur:
            await cur.executemany(query, params)


async def _correct_complaint(conn: Conn, t: Transition) -> None:
    c = t.complaint
    if c.category is not None or c.classification is not None or c.confidential:
        await conn.execute(
            "UPDATE complaints SET category = COALESCE(%s, category), "
            "classification = COALESCE(%s, classification), "
            "confidential = confidential OR %s WHERE id = %s",
            (
                c.category,
                c.classification.value if c.classification else None,
                bool(c.confidential),
                t.complaint_id,
            ),
        )
    if c.anonymous:
        await _hide_reporter(conn, t.complaint_id)


async def _hide_reporter(conn: Conn, complaint_id: str) -> None:
    """From now on the reporter is known only as the address the answer goes to."""
    await conn.execute(
        "UPDATE complaints SET anonymous = true, reporter_name = NULL, "
        "reporter_phone = NULL, reporter_email = NULL WHERE id = %s",
        (complaint_id,),
    )
    # Read then written without a lock of its own: the case's row, locked by the step,
    # keeps any other step on this complaint out until it commits.
    cur = await conn.execute(
        "SELECT content_type, body FROM inbound_payloads WHERE complaint_id = %s",
        (complaint_id,),
    )
    raw: DictRow | None = await cur.fetchone()
    if raw is not None:
        hidden = redact_payload(RawPayload(content_type=raw["content_type"], body=raw["body"]))
        await conn.execute(
            "UPDATE inbound_payloads SET content_type = %s, body = %s WHERE complaint_id = %s",
            (hidden.content_type, hidden.body, complaint_id),
        )


async def _move_agency(conn: Conn, complaint_id: str, agency: str | None, at: datetime) -> None:
    await conn.execute(
        "UPDATE case_agencies SET until = %s WHERE complaint_id = %s AND until IS NULL",
        (at, complaint_id),
    )
    if agency is not None:
        await conn.execute(
            "INSERT INTO case_agencies (complaint_id, agency, since) VALUES (%s, %s, %s)",
            (complaint_id, agency, at),
        )


async def _insert_draft(conn: Conn, complaint_id: str, d: Draft) -> None:
    await conn.execute(
        "INSERT INTO nota_drafts (complaint_id, version, agency, perihal, isi, author, "
        "created_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (complaint_id, d.version, d.agency, d.perihal, d.isi, d.author, d.created_at),
    )


async def _insert_nota(conn: Conn, complaint_id: str, a: Approval) -> None:
    # The upsert takes the sequence's row lock until commit: a concurrent approval for the
    # same agency and year waits, then counts on from this one's number.
    cur = await conn.execute(
        "INSERT INTO nota_sequences (agency, year, last) VALUES (%s, %s, 1) "
        "ON CONFLICT (agency, year) DO UPDATE SET last = nota_sequences.last + 1 "
        "RETURNING last",
        (a.agency, a.year),
    )
    row = await cur.fetchone()
    assert row is not None  # an upsert returns its row
    seq: int = row["last"]
    number = nota_number(a.number_format, seq=seq, year=a.year, month=a.month, agency=a.agency)
    await conn.execute(
        "INSERT INTO nota_dinas (complaint_id, draft_version, agency, year, month, seq, number, "
        "number_format, perihal, isi, sha256, signer, signer_name, signer_jabatan, signer_nip, "
        "approved_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            complaint_id, a.draft_version, a.agency, a.year, a.month, seq, number,
            a.number_format, a.perihal, a.isi, a.sha256, a.signer, a.signer_name,
            a.signer_jabatan, a.signer_nip, a.approved_at,
        ),
    )  # fmt: skip
