"""The unified admin queue on the PostgreSQL store: the same filters, orders and pages as
the SQLite store's `list_complaints` (store/sqlite.py), on PostgreSQL's indexes.

A page's cursor holds the keyset of its last row as text (store/queue_common.py), the
instant as `ts()` gives it or `infinity` (a case without a deadline, last by urgency):
every cursor is checked here, so a forged one is InvalidCursor, never a database error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import sql
from psycopg.rows import DictRow

from store.base import ComplaintQuery, InvalidCursor, QueueItem, QueuePage, QueueSort
from store.postgres_part import PostgresPart
from store.queue_common import decode_cursor, encode_cursor, escape_like, tracking_id_in
from store.rows import CASE_COLUMNS, case_from_row, complaint_from_row, ts

_CASE_SELECT = sql.SQL(", ").join(
    sql.SQL("k.{} AS {}").format(sql.Identifier(c), sql.Identifier(f"k_{c}")) for c in CASE_COLUMNS
)
_INFINITY = "infinity"
# SQLite's LIKE folds the case of ASCII letters only; ILIKE under the "C" collation too
# (under any other it folds every letter it knows, É to é).
_TEXT_MATCHES = sql.SQL(
    "((c.text COLLATE \"C\") ILIKE %s ESCAPE '\\' "
    "OR (c.location COLLATE \"C\") ILIKE %s ESCAPE '\\')"
)


@dataclass(frozen=True)
class _Order:
    """A sort order: the rows it starts from, its ORDER BY, and its keyset (an instant and
    an id): the key's SQL, how the cursor compares to it, and the key of a row read."""

    source: sql.SQL
    order: sql.SQL
    key: sql.SQL
    after: sql.SQL
    key_of: Callable[[DictRow], list[str]]
    endless: bool
    """Whether the key's instant may be `infinity`."""


def _urgency_key(row: DictRow) -> list[str]:
    due = row["k_due_at"]
    return [ts(due) if due is not None else _INFINITY, row["k_complaint_id"]]


# Newest: every complaint, on their time index. Urgent: cases by their current deadline,
# those without one (answered, closed) last, on the cases' urgency indexes (the expression
# is the indexes' own); a complaint not yet dispatched (a moment's state) is not among them.
_ORDERS: dict[QueueSort, _Order] = {
    QueueSort.NEWEST: _Order(
        source=sql.SQL("complaints c LEFT JOIN cases k ON k.complaint_id = c.id"),
        order=sql.SQL("c.received_at DESC, c.id DESC"),
        key=sql.SQL("(c.received_at, c.id)"),
        after=sql.SQL("<"),
        key_of=lambda row: [ts(row["received_at"]), row["id"]],
        endless=False,
    ),
    QueueSort.URGENT: _Order(
        source=sql.SQL("cases k JOIN complaints c ON c.id = k.complaint_id"),
        order=sql.SQL("COALESCE(k.due_at, 'infinity') ASC, k.complaint_id ASC"),
        key=sql.SQL("(COALESCE(k.due_at, 'infinity'), k.complaint_id)"),
        after=sql.SQL(">"),
        key_of=_urgency_key,
        endless=True,
    ),
}


async def list_complaints(part: PostgresPart, query: ComplaintQuery, now: datetime) -> QueuePage:
    """The admin queue's page for `query`: its items in the sort's order, and the cursor
    of the next page if there is one; InvalidCursor for a cursor not issued for this sort."""
    order = _ORDERS[query.sort]
    where, params = _filters(query, now)
    if query.cursor:
        where.append(sql.SQL("{} {} (%s::timestamptz, %s)").format(order.key, order.after))
        params.extend(_cursor_key(query.cursor, query.sort, order))
    statement = sql.SQL("SELECT c.*, {} FROM {} {} ORDER BY {} LIMIT %s").format(
        _CASE_SELECT,
        order.source,
        sql.SQL("WHERE {}").format(sql.SQL(" AND ").join(where)) if where else sql.SQL(""),
        order.order,
    )
    params.append(query.limit + 1)
    rows = await part._rows(statement, params)
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    items = [
        QueueItem(
            complaint=complaint_from_row(r),
            case=case_from_row(r, prefix="k_") if r["k_complaint_id"] else None,
        )
        for r in rows
    ]
    cursor = encode_cursor(order.key_of(rows[-1]), query.sort) if more else None
    return QueuePage(items=items, next_cursor=cursor)


def _cursor_key(cursor: str, sort: QueueSort, order: _Order) -> list[str]:
    """The cursor's instant (normalized) and id, checked for what PostgreSQL would refuse."""
    instant, key_id = decode_cursor(cursor, sort, 2)
    if "\x00" in key_id:  # no text of PostgreSQL's holds one
        raise InvalidCursor("cursor is not valid for this sort order")
    if instant == _INFINITY and order.endless:
        return [instant, key_id]
    try:
        parsed = datetime.fromisoformat(instant)
        if parsed.tzinfo is None:
            raise ValueError(instant)
        return [ts(parsed), key_id]
    except (ValueError, OverflowError):
        raise InvalidCursor("cursor is not valid for this sort order") from None


def _filters(query: ComplaintQuery, now: datetime) -> tuple[list[sql.Composable], list[Any]]:
    where: list[sql.Composable] = []
    params: list[Any] = []

    def add(clause: sql.Composable, *values: Any) -> None:
        where.append(clause)
        params.extend(values)

    if query.state:
        add(sql.SQL("k.state = %s"), query.state)
    if query.states:
        add(sql.SQL("k.state = ANY(%s)"), list(query.states))
    if query.channel:
        add(sql.SQL("c.channel = %s"), query.channel.value)
    if query.category:
        add(sql.SQL("c.category = %s"), query.category)
    if query.classification:
        add(sql.SQL("c.classification = %s"), query.classification.value)
    if query.agency:
        add(sql.SQL("COALESCE(k.agency, k.suggested_agency) = %s"), query.agency)
    if query.seen_by_agency:
        add(
            sql.SQL("c.id IN (SELECT a.complaint_id FROM case_agencies a WHERE a.agency = %s)"),
            query.seen_by_agency,
        )
        # Of a case that moved away, the agency knows only that it moved: a filter on what
        # became of it (its state, agency, deadline) never singles it out.
        if (
            query.state
            or query.states
            or query.agency
            or query.overdue is not None
            or query.due_soon_until
        ):
            add(sql.SQL("k.agency = %s"), query.seen_by_agency)
    # One definition of overdue everywhere: the current deadline (k.due_at, none once
    # answered or closed) has passed.
    if query.overdue is True:
        add(sql.SQL("k.due_at <= %s"), now)
    elif query.overdue is False:
        add(sql.SQL("(k.due_at IS NULL OR k.due_at > %s)"), now)
    if query.due_soon_until:
        add(sql.SQL("k.due_at > %s AND k.due_at <= %s"), now, query.due_soon_until)
    if query.flag:
        # flags is a space-separated list of words without '%' or '_' (Flag values).
        add(sql.SQL("(' ' || c.flags || ' ') LIKE %s"), f"% {query.flag.value} %")
    if query.text:
        _search(query, add)
    if query.received_from:
        add(sql.SQL("c.received_at >= %s"), query.received_from)
    if query.received_before:
        add(sql.SQL("c.received_at < %s"), query.received_before)
    return where, params


def _search(query: ComplaintQuery, add: Callable[..., None]) -> None:
    text = query.text or ""
    tracking_id = tracking_id_in(text)
    if tracking_id is not None:
        # A tracking ID names one complaint: found on its index, not by reading every text.
        add(sql.SQL("c.tracking_id = %s"), tracking_id)
    elif "\x00" in text:
        # No text PostgreSQL holds has one, and it would refuse the pattern.
        add(sql.SQL("false"))
    else:
        pattern = "%" + escape_like(text) + "%"
        # A confidential complaint's words are searched only for those who may read them.
        if query.seen_by_agency:
            add(
                sql.SQL("(NOT c.confidential OR k.agency = %s) AND {}").format(_TEXT_MATCHES),
                query.seen_by_agency,
                pattern,
                pattern,
            )
        else:
            add(_TEXT_MATCHES, pattern, pattern)
