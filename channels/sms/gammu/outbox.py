"""Sending SMS through Gammu SMSD: queue the reply in its outbox for the modem to send.

A reply longer than one SMS is queued as Gammu documents it: the first part in `outbox`
with MultiPart='true' and its concatenation UDH, the others in `outbox_multipart` under the
same ID with SequencePosition 2..n. Gammu's MySQL tables are MyISAM, which cannot roll back,
so the first row is queued held (its SendingDateTime far ahead, which Gammu will not send yet)
and released only after all parts are in; a failure takes the held row back out.

Our times are written as Gammu writes its own, in its local time: Gammu sends a row once
`SendingDateTime` and `SendingTimeOut` are before its `now`, which in SQLite is local time,
while the schema's defaults for those columns are UTC. West of UTC a row left to them would
wait hours.
"""

from __future__ import annotations

import logging
import zlib
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from channels.sms.gammu.database import GammuDatabase, GammuDatabaseError, Transaction
from channels.sms.models import OutgoingSms, SendError, SendResult
from channels.sms.segments import encoding_for, split_segments
from channels.sms.udh import concat_udh

log = logging.getLogger(__name__)

# Tells Gammu, Kalkun and an operator who queued the row, and which reply of ours it is;
# Gammu copies it into sentitems.
CREATOR_PREFIX: Final = "lapor-gateway:"
# Gammu copies CreatorID through a 200-byte buffer on its way to sentitems.
_CREATOR_MAX: Final = 199
_MAX_PARTS: Final = 255
# Gammu sends a row once its SendingDateTime has passed; MySQL TIMESTAMPs end in Jan 2038.
_HELD_UNTIL: Final = "2038-01-01 00:00:00"
# A row due this late is one of ours still held, whatever zone the reader sees it in.
_HELD_FROM: Final = "2037-01-01 00:00:00"
_CODINGS: Final = {"gsm7": "Default_No_Compression", "ucs2": "Unicode_No_Compression"}

_FIND_QUEUED: Final = "SELECT ID FROM outbox WHERE CreatorID = ? AND SendingDateTime < ?"
_FIND_SENT: Final = "SELECT ID FROM sentitems WHERE CreatorID = ?"
_INSERT_FIRST: Final = (
    "INSERT INTO outbox (DestinationNumber, Coding, TextDecoded, UDH, MultiPart, CreatorID,"
    " SendingDateTime, InsertIntoDB) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_NEXT: Final = (
    "INSERT INTO outbox_multipart (ID, SequencePosition, Coding, TextDecoded, UDH)"
    " VALUES (?, ?, ?, ?, ?)"
)
_RELEASE: Final = "UPDATE outbox SET SendingDateTime = ?, SendingTimeOut = ? WHERE ID = ?"
_WITHDRAW: Final = (
    "DELETE FROM outbox WHERE ID = ?",
    "DELETE FROM outbox_multipart WHERE ID = ?",
)


@dataclass(frozen=True)
class _Part:
    text: str
    udh: str | None


def _parts(message: OutgoingSms) -> list[_Part]:
    segments = split_segments(message.text)
    total = len(segments)
    if total == 1:
        return [_Part(message.text, None)]
    if total > _MAX_PARTS:
        raise SendError(f"text needs {total} SMS; one message has at most 255", transient=False)
    # From our id, so a retry of the same reply carries the same reference.
    reference = zlib.crc32(message.id.encode()) & 0xFF
    return [
        _Part(text, concat_udh(reference, total, seq).hex().upper())
        for seq, text in enumerate(segments, start=1)
    ]


def _already_queued(tx: Transaction, creator: str) -> int | None:
    """The ID an earlier try of this reply got, whether Gammu still has it queued or sent it
    already; a held row left by an interrupted try does not count."""
    for table, sql, params in (
        ("outbox", _FIND_QUEUED, (creator, _HELD_FROM)),
        ("sentitems", _FIND_SENT, (creator,)),
    ):
        rows = tx.rows(sql, params)
        if rows:
            # Loud: were our ids ever given again, a citizen's reply would stop here.
            log.warning(
                "Gammu %s holds %r already as ID %s: not queued again",
                table, creator, rows[0]["ID"],
            )  # fmt: skip
            return int(rows[0]["ID"])
    return None


def _queue(tx: Transaction, message: OutgoingSms, parts: list[_Part], now: str) -> int:
    """Queue the reply's parts, `now` being the present as Gammu writes times."""
    creator = CREATOR_PREFIX + message.id
    earlier = _already_queued(tx, creator)
    if earlier is not None:
        return earlier
    coding = _CODINGS[encoding_for(message.text)]
    first, *rest = parts
    multipart = "true" if rest else "false"
    outbox_id = tx.insert(
        _INSERT_FIRST,
        (message.to, coding, first.text, first.udh, multipart, creator, _HELD_UNTIL, now),
    )
    try:
        for seq, part in enumerate(rest, start=2):
            tx.execute(_INSERT_NEXT, (outbox_id, seq, coding, part.text, part.udh))
        tx.execute(_RELEASE, (now, now, outbox_id))
    except Exception:
        with suppress(Exception):  # the connection may be gone; the row stays held then
            for sql in _WITHDRAW:
                tx.execute(sql, (outbox_id,))
        raise
    return outbox_id


class GammuSender:
    """An SmsSender that queues replies in Gammu's outbox; provider_id is the outbox ID."""

    name = "gammu"

    def __init__(self, db: GammuDatabase) -> None:
        self._db = db

    async def send(self, message: OutgoingSms) -> SendResult:
        if len(CREATOR_PREFIX + message.id) > _CREATOR_MAX:
            raise SendError("message id too long for Gammu's CreatorID", transient=False)
        parts = _parts(message)

        def queue(tx: Transaction) -> int:
            return _queue(tx, message, parts, self._db.to_gammu(datetime.now(UTC)))

        try:
            outbox_id = await self._db.run(queue)
        except GammuDatabaseError as error:
            raise SendError(f"Gammu outbox: {error.detail}", transient=error.transient) from error
        return SendResult(provider_id=str(outbox_id))

    async def close(self) -> None:
        await self._db.close()
