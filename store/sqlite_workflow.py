"""The workflow's tables in the embedded SQLite store (migration 0004)."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import uuid6

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
from store.rows import case_from_row, complaint_from_row, from_row, parse_ts, parse_ts_or_none, ts
from store.sqlite_part import SqlitePart
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
    "UPDATE cases SET state = ?, version = version + 1, updated_at = ?, agency = ?, "
    "assignee = ?, due_at = ?, held_at = ?, verified_at = ?, answered_at = ?, closed_at = ?, "
    "rating = ?, dissatisfied = ?, verification_late = ?, completion_late = ? "
    "WHERE complaint_id = ?"
)
_INSERT_EVENT = (
    "INSERT INTO case_events (complaint_id, at, kind, state, actor, note, role, from_state, "
    "data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_MESSAGE = (
    "INSERT INTO citizen_messages (id, complaint_id, purpose, text, state, created_at, "
    "updated_at) VALUES (?, ?, ?, ?, 'pending', ?, ?)"
)
_INSERT_OUTBOX = "INSERT INTO outbox (kind, complaint_id, created_at, data) VALUES (?, ?, ?, ?)"


class SqliteWorkflowStore(SqlitePart, WorkflowStore):
    """Mixed into SqliteStore, which provides the connections and the writer."""

    _events: CommitWakeup
    _notices: CommitWakeup

    # -- cases ------------------------------------------------------------------------

    async def case_record(self, complaint_id: str) -> CaseRecord | None:
        complaint_row = await self._row("SELECT * FROM complaints WHERE id = ?", (complaint_id,))
        case_row = await self._row("SELECT * FROM cases WHERE complaint_id = ?", (complaint_id,))
        if complaint_row is None or case_row is None:
            return None
        drafts = await self._rows(
            "SELECT * FROM nota_drafts WHERE complaint_id = ? ORDER BY version", (complaint_id,)
        )
        notas = await self._rows(
            "SELECT * FROM nota_dinas WHERE complaint_id = ? ORDER BY id", (complaint_id,)
        )
        stints = await self._rows(
            "SELECT * FROM case_agencies WHERE complaint_id = ? ORDER BY id", (complaint_id,)
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

    def _apply(self, conn: sqlite3.Connection, t: Transition) -> Case:
        row = conn.execute(
            "SELECT * FROM cases WHERE complaint_id = ?", (t.complaint_id,)
        ).fetchone()
        before = case_from_row(row) if row else None
        if before is None or (before.state, before.version) != (t.expect_state, t.expect_version):
            raise StaleCase(before)
        at = ts(t.at)
        conn.execute(
            _UPDATE_CASE,
            (
                t.to_state, at, t.agency, t.assignee, _ts(t.due_at), _ts(t.held_at),
                _ts(t.verified_at), _ts(t.answered_at), _ts(t.closed_at), t.rating,
                t.dissatisfied, int(t.verification_late), int(t.completion_late), t.complaint_id,
            ),
        )  # fmt: skip
        if (before.agency, before.state) != (t.agency, t.to_state):
            count_cases(
                conn,
                Counter({(before.agency or "", before.state): -1, (t.agency or "", t.to_state): 1}),
            )
        data = json.dumps(t.data) if t.data else None
        conn.execute(
            _INSERT_EVENT,
            (t.complaint_id, at, t.kind, t.to_state, t.actor, t.note, t.role, t.from_state, data),
        )
        self._correct_complaint(conn, t)
        if t.agency != before.agency:
            _move_agency(conn, t.complaint_id, t.agency, at)
        if t.draft is not None:
            _insert_draft(conn, t.complaint_id, t.draft)
        if t.approval is not None:
            _insert_nota(conn, t.complaint_id, t.approval)
        if t.publish is not None:
            conn.execute(
                "UPDATE nota_dinas SET published_at = ? "
                "WHERE complaint_id = ? AND number = ? AND published_at IS NULL",
                (at, t.complaint_id, t.publish),
            )
        if t.notices:
            conn.executemany(
                _INSERT_MESSAGE,
                [(uuid6.uuid7().hex, t.complaint_id, n.purpose, n.text, at, at) for n in t.notices],
            )
            self._notices.wrote()
        if t.outbox_kind is not None:
            event = json.dumps({"event": t.kind, "from": t.from_state, "to": t.to_state})
            conn.execute(_INSERT_OUTBOX, (t.outbox_kind, t.complaint_id, at, event))
            self._events.wrote()
        after = conn.execute("SELECT * FROM cases WHERE complaint_id = ?", (t.complaint_id,))
        return case_from_row(after.fetchone())

    def _correct_complaint(self, conn: sqlite3.Connection, t: Transition) -> None:
        c = t.complaint
        if c.category is not None or c.classification is not None or c.confidential:
            conn.execute(
                "UPDATE complaints SET category = COALESCE(?, category), "
                "classification = COALESCE(?, classification), "
                "confidential = MAX(confidential, ?) WHERE id = ?",
                (
                    c.category,
                    c.classification.value if c.classification else None,
                    int(bool(c.confidential)),
                    t.complaint_id,
                ),
            )
        if c.anonymous:
            # From now on the reporter is known only as the address the answer goes to.
            conn.execute(
                "UPDATE complaints SET anonymous = 1, reporter_name = NULL, "
                "reporter_phone = NULL, reporter_email = NULL WHERE id = ?",
                (t.complaint_id,),
            )
            raw = conn.execute(
                "SELECT content_type, body FROM inbound_payloads WHERE complaint_id = ?",
                (t.complaint_id,),
            ).fetchone()
            if raw is not None:
                hidden = redact_payload(RawPayload(content_type=raw[0], body=raw[1]))
                conn.execute(
                    "UPDATE inbound_payloads SET content_type = ?, body = ? WHERE complaint_id = ?",
                    (hidden.content_type, hidden.body, t.complaint_id),
                )

    async def case_counts(self, agency: str | None = None) -> dict[str, int]:
        where, params = ("WHERE agency = ?", (agency,)) if agency is not None else ("", ())
        rows = await self._rows(
            f"SELECT state, sum(n) AS n FROM case_counts {where} GROUP BY state", params
        )
        return {r["state"]: int(r["n"]) for r in rows if r["n"]}

    async def pejabat_of(self, agency: str) -> frozenset[str]:
        rows = await self._rows(
            "SELECT username FROM staff WHERE agency = ? AND role = 'pejabat_penghubung' "
            "AND disabled_at IS NULL",
            (agency,),
        )
        return frozenset(r["username"] for r in rows)

    # -- the citizen --------------------------------------------------------------------

    async def add_citizen_reply(self, reply: CitizenReply) -> bool:
        def add(conn: sqlite3.Connection) -> bool:
            added = insert_citizen_reply(conn, reply)
            if added:
                self._events.wrote()
            return added

        added: bool = await self._one(add)
        return added

    async def citizen_reply(self, followup_id: int) -> CitizenReply | None:
        row = await self._row("SELECT * FROM complaint_followups WHERE id = ?", (followup_id,))
        return from_row(CitizenReply, row) if row is not None else None

    async def claim_citizen_messages(
        self, now: datetime, limit: int, lease_seconds: float
    ) -> list[tuple[CitizenMessage, Complaint]]:
        until = ts(datetime.fromtimestamp(now.timestamp() + lease_seconds, now.tzinfo))

        def claim(conn: sqlite3.Connection, _: Sequence[None]) -> list[Any]:
            rows = conn.execute(
                "SELECT * FROM citizen_messages WHERE state = 'pending' "
                "AND (claimed_until IS NULL OR claimed_until < ?) ORDER BY created_at LIMIT ?",
                (ts(now), limit),
            ).fetchall()
            conn.executemany(
                "UPDATE citizen_messages SET claimed_until = ? WHERE id = ?",
                [(until, r["id"]) for r in rows],
            )
            ids = sorted({r["complaint_id"] for r in rows})
            complaints = {
                c["id"]: complaint_from_row(c)
                for c in conn.execute(
                    f"SELECT * FROM complaints WHERE id IN ({', '.join('?' * len(ids))})", ids
                )
            }
            return [[(from_row(CitizenMessage, r), complaints[r["complaint_id"]]) for r in rows]]

        claimed: list[tuple[CitizenMessage, Complaint]] = await self._write.submit(claim, None)
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
                "UPDATE citizen_messages SET state = ?, channel = ?, detail = ?, updated_at = ? "
                "WHERE id = ?",
                (state.value, channel.value if channel else None, detail, ts(now), message_id),
            ),
        )

    async def citizen_messages(self, complaint_id: str) -> list[CitizenMessage]:
        rows = await self._rows(
            "SELECT * FROM citizen_messages WHERE complaint_id = ? ORDER BY created_at, id",
            (complaint_id,),
        )
        return [from_row(CitizenMessage, r) for r in rows]

    async def add_notice(self, complaint_id: str, purpose: str, text: str, now: datetime) -> str:
        message_id = uuid6.uuid7().hex

        def add(conn: sqlite3.Connection) -> None:
            conn.execute(
                _INSERT_MESSAGE, (message_id, complaint_id, purpose, text, ts(now), ts(now))
            )
            self._notices.wrote()

        await self._one(add)
        return message_id

    async def add_desk_items(self, message: CitizenMessage, kinds: tuple[str, ...]) -> None:
        await self._one(
            lambda conn: conn.executemany(
                "INSERT INTO desk_items (message_id, kind, complaint_id, created_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (message_id, kind) DO NOTHING",
                [(message.id, k, message.complaint_id, ts(message.created_at)) for k in kinds],
            ),
        )

    async def desk_items(
        self, *, open_only: bool = True, limit: int = 200, message_id: str | None = None
    ) -> list[DeskItem]:
        where, params = ["1"], []
        if open_only:
            where.append("d.done_at IS NULL")
        if message_id is not None:
            where.append("d.message_id = ?")
            params.append(message_id)
        rows = await self._rows(
            "SELECT d.message_id, d.kind, d.created_at AS d_created_at, d.done_at, d.done_by, "
            "m.purpose, m.text AS m_text, c.* FROM desk_items d "
            "JOIN citizen_messages m ON m.id = d.message_id "
            f"JOIN complaints c ON c.id = d.complaint_id WHERE {' AND '.join(where)} "
            "ORDER BY d.created_at, d.message_id, d.kind LIMIT ?",
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
        row = await self._row("SELECT count(*) FROM desk_items WHERE done_at IS NULL")
        return int(row[0]) if row else 0

    async def finish_desk_item(
        self, message_id: str, kind: str, username: str, now: datetime
    ) -> bool:
        def finish(conn: sqlite3.Connection) -> bool:
            cur = conn.execute(
                "UPDATE desk_items SET done_at = ?, done_by = ? "
                "WHERE message_id = ? AND kind = ? AND done_at IS NULL",
                (ts(now), username, message_id, kind),
            )
            return cur.rowcount == 1

        done: bool = await self._one(finish)
        return done

    async def set_citizen_code(self, code: CitizenCode) -> None:
        await self._one(
            lambda conn: conn.execute(
                "INSERT INTO citizen_codes (complaint_id, kind, code_hash, created_at, "
                "expires_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (complaint_id, kind) DO UPDATE "
                "SET code_hash = excluded.code_hash, created_at = excluded.created_at, "
                "expires_at = excluded.expires_at, attempts = 0",
                (
                    code.complaint_id,
                    code.kind,
                    code.code_hash,
                    ts(code.created_at),
                    _ts(code.expires_at),
                ),
            ),
        )

    async def citizen_codes(self, complaint_id: str) -> list[CitizenCode]:
        rows = await self._rows(
            "SELECT * FROM citizen_codes WHERE complaint_id = ? ORDER BY kind", (complaint_id,)
        )
        return [from_row(CitizenCode, r) for r in rows]

    async def count_code_attempt(self, complaint_id: str, kind: str, success: bool) -> None:
        sql = (
            "DELETE FROM citizen_codes WHERE complaint_id = ? AND kind = ? AND kind = 'sent'"
            if success
            else "UPDATE citizen_codes SET attempts = attempts + 1 "
            "WHERE complaint_id = ? AND kind = ?"
        )
        await self._one(lambda conn: conn.execute(sql, (complaint_id, kind)))

    # -- sweep and recap ----------------------------------------------------------------

    async def sweep_candidates(self, now: datetime, limit: int) -> list[Case]:
        rows = await self._rows(
            "SELECT * FROM cases WHERE closed_at IS NULL AND ("
            "(due_at <= ? AND state IN ('diterima', 'ditunda') AND verification_late = 0) "
            "OR (due_at <= ? AND state NOT IN ('diterima', 'ditunda') AND completion_late = 0) "
            "OR state IN ('ditunda', 'dijawab')) ORDER BY updated_at LIMIT ?",
            (ts(now), ts(now), limit),
        )
        return [case_from_row(r) for r in rows]

    async def recap_tally(
        self, received_from: datetime, received_before: datetime, zone: str
    ) -> RecapTally:
        local = _LocalDates(ZoneInfo(zone))  # an unknown zone fails here
        rows = await self._rows(_RECAP_ROWS, (ts(received_from), ts(received_before)))
        # A month's complaints are thousands of kinds and differ almost all in their dates:
        # SQLite hands over each kind as one JSON text (cheaper than its five to nine
        # values) and the times as seconds, and each is decoded once.
        kinds: dict[str, RecapKind] = {}
        tally = RecapTally()
        for kind_text, received, verified, answered in rows:
            kind = kinds.get(kind_text)
            if kind is None:
                kind = kinds[kind_text] = _recap_kind(kind_text)
            tally.add(
                kind,
                local(received),
                None if verified is None else local(verified),
                None if answered is None else local(answered),
            )
        return tally


# Every complaint received in the period: what the recap counts it by (its case's agency
# else the last it had; whether each deadline was kept, compared as the stored text,
# fixed-width UTC, so text order is time order), and its times in whole seconds (a local
# date never changes within a second). The seconds are cut from the text before SQLite
# reads it: it reads fractions to the millisecond, rounding 23:59:59.9999 to the next
# day. The bound is exclusive; the complaints' part is read from the index
# complaints_received alone.
_RECAP_ROWS = """
SELECT json_array(
        k.state, c.channel, c.category, c.classification,
        COALESCE(k.agency, (SELECT a.agency FROM case_agencies a
                            WHERE a.complaint_id = c.id ORDER BY a.id DESC LIMIT 1)),
        k.verified_at IS NOT NULL, k.answered_at IS NOT NULL,
        COALESCE(k.verified_at < k.verification_due_at, 0),
        COALESCE(k.answered_at < k.completion_due_at, 0)),
    unixepoch(substr(c.received_at, 1, 19)), unixepoch(substr(k.verified_at, 1, 19)),
    unixepoch(substr(k.answered_at, 1, 19))
FROM complaints c LEFT JOIN cases k ON k.complaint_id = c.id
WHERE c.received_at >= ? AND c.received_at < ?
"""


def _recap_kind(text: str) -> RecapKind:
    state, channel, category, classification, agency, *steps = json.loads(text)
    return RecapKind(state, channel, category, classification, agency, *map(bool, steps))


class _LocalDates:
    """The local dates of instants given in seconds since the epoch, in one zone. Exact
    in any zone, daylight saving time and offsets of part of an hour included.

    A recap asks this tens of thousands of times, for a few hundred distinct hours. Most
    hours of UTC fall on one local date whole, known once for the hour; the others (a
    local midnight or a change of the zone's offset in them) are converted value by value.
    """

    def __init__(self, zone: ZoneInfo) -> None:
        self._zone = zone
        self._hours: dict[int, date | None] = {}

    def __call__(self, seconds: int) -> date:
        hour = seconds // 3600
        try:
            day = self._hours[hour]
        except KeyError:
            day = self._hours[hour] = self._date_of_hour(hour)
        return day or datetime.fromtimestamp(seconds, self._zone).date()

    def _date_of_hour(self, hour: int) -> date | None:
        """The local date of every instant of a UTC hour, or None when they differ.

        Its first and last instants with one offset have it throughout: no zone of the tz
        database changes its offset twice within an hour (the two closest changes of any
        zone, Africa/Freetown's in 1939, are four days apart). Local time then runs on with
        UTC, and a date the same at both ends is the date of every instant between."""
        start = datetime.fromtimestamp(hour * 3600, UTC)
        first, last = start.astimezone(self._zone), (start + _HOUR_LAST).astimezone(self._zone)
        if first.utcoffset() == last.utcoffset() and first.date() == last.date():
            return first.date()
        return None


_HOUR_LAST = timedelta(hours=1, microseconds=-1)


def count_cases(conn: sqlite3.Connection, changes: Counter[tuple[str, str]]) -> None:
    """Keep `case_counts` by (agency, state) as cases open and move, in their transaction."""
    conn.executemany(
        "INSERT INTO case_counts (agency, state, n) VALUES (?, ?, ?) "
        "ON CONFLICT (agency, state) DO UPDATE SET n = n + excluded.n",
        [(agency, state, n) for (agency, state), n in changes.items() if n],
    )


def insert_citizen_reply(conn: sqlite3.Connection, reply: CitizenReply) -> bool:
    """Keep the citizen's reply and the outbox event that has the workflow take it in;
    False, and nothing written, if its (channel, external id) was kept before."""
    cur = conn.execute(
        "INSERT INTO complaint_followups (complaint_id, channel, external_id, text, "
        "received_at, kind, rating) VALUES (?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (channel, external_id) DO NOTHING",
        (
            reply.complaint_id, reply.channel.value, reply.external_id, reply.text,
            ts(reply.received_at), reply.kind, reply.rating,
        ),
    )  # fmt: skip
    if cur.rowcount != 1:
        return False
    event = json.dumps({"followup": cur.lastrowid})
    conn.execute(
        _INSERT_OUTBOX, (EVENT_CITIZEN_REPLY, reply.complaint_id, ts(reply.received_at), event)
    )
    return True


def _ts(value: datetime | None) -> str | None:
    return ts(value) if value is not None else None


def _move_agency(conn: sqlite3.Connection, complaint_id: str, agency: str | None, at: str) -> None:
    conn.execute(
        "UPDATE case_agencies SET until = ? WHERE complaint_id = ? AND until IS NULL",
        (at, complaint_id),
    )
    if agency is not None:
        conn.execute(
            "INSERT INTO case_agencies (complaint_id, agency, since) VALUES (?, ?, ?)",
            (complaint_id, agency, at),
        )


def _insert_draft(conn: sqlite3.Connection, complaint_id: str, d: Draft) -> None:
    conn.execute(
        "INSERT INTO nota_drafts VALUES (?, ?, ?, ?, ?, ?, ?)",
        (complaint_id, d.version, d.agency, d.perihal, d.isi, d.author, ts(d.created_at)),
    )


def _insert_nota(conn: sqlite3.Connection, complaint_id: str, a: Approval) -> None:
    (seq,) = conn.execute(
        "INSERT INTO nota_sequences (agency, year, last) VALUES (?, ?, 1) "
        "ON CONFLICT (agency, year) DO UPDATE SET last = last + 1 RETURNING last",
        (a.agency, a.year),
    ).fetchone()
    number = nota_number(a.number_format, seq=seq, year=a.year, month=a.month, agency=a.agency)
    conn.execute(
        "INSERT INTO nota_dinas (complaint_id, draft_version, agency, year, month, seq, number, "
        "number_format, perihal, isi, sha256, signer, signer_name, signer_jabatan, signer_nip, "
        "approved_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            complaint_id, a.draft_version, a.agency, a.year, a.month, seq, number,
            a.number_format, a.perihal, a.isi, a.sha256, a.signer, a.signer_name,
            a.signer_jabatan, a.signer_nip, ts(a.approved_at),
        ),
    )  # fmt: skip
