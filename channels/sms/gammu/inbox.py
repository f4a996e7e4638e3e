"""Reading Gammu SMSD's inbox: one row per SMS the modem received, or per part of a long one.

Gammu leaves the `Processed` column to applications. We read rows still 'false' and set them
'true' only after our own commit, so a crash in between files the SMS again (intake is
idempotent on the message id) instead of losing it.

The message id is the row's ID with a fingerprint of what Gammu received: Gammu numbers its
rows from 1 again whenever its tables are rebuilt (a new database, a restored backup,
TRUNCATE, a new SQLite file) while our store remembers the old numbers, so the ID alone
would take a new citizen's SMS for one filed long ago. A row read again keeps its key.

A row that can never be filed (its sender is no phone number, say an operator's broadcast
from "TELKOMSEL") is marked at once and logged: it would otherwise come back on every poll
and crowd out the rows behind it. Gammu, and Kalkun, keep it for a person to read.

Kalkun's own daemon, when Gammu's RunOnReceive calls it, also sets `Processed`: the two must
not both consume one inbox.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from channels.sms import inbound_fields
from channels.sms.encoding import decode_sms_payload
from channels.sms.gammu.database import GammuDatabase, Transaction
from channels.sms.models import ConcatPart, InvalidSms, SmsMessage
from channels.sms.udh import InvalidUdh, parse_concat_hex
from normalizer.models import RawPayload
from store.sms import fingerprinted, gateway_id

log = logging.getLogger(__name__)

# SELECT *: Kalkun adds columns to inbox, and schemas before version 17 lack `Status`.
# Class 127 rows are USSD answers from the network, not SMS from citizens.
_UNPROCESSED: Final = (
    "SELECT * FROM inbox WHERE Processed = 'false' AND Class <> 127"
    " ORDER BY ReceivingDateTime, ID LIMIT ?"
)
_MARK: Final = "UPDATE inbox SET Processed = 'true' WHERE Processed = 'false' AND ID IN ({})"
_UNPROCESSED_BY_ID: Final = "SELECT * FROM inbox WHERE Processed = 'false' AND ID IN ({})"

# What tells one received SMS from another that got the same ID. The values as stored, not
# our reading of them: a row read again must give the same key even if the host's zone or
# our decoding changed in between. (MySQL's are read in a UTC session, whatever the zones.)
_FINGERPRINTED: Final = ("ReceivingDateTime", "SenderNumber", "UDH", "Text", "TextDecoded")

# Codings whose `Text` Gammu writes as UTF-16BE (UCS-2) hex, whatever the SMS carried.
_UTF16_HEX_CODINGS: Final = frozenset({"Default_No_Compression", "Unicode_No_Compression"})


def _hex(value: object) -> bytes:
    try:
        return bytes.fromhex(str(value or ""))
    except ValueError:
        return b""


def _text(row: dict[str, Any]) -> str:
    """This row's own text. Gammu writes the part's payload as hex into `Text`, while
    `TextDecoded` of a long SMS holds the whole message on the first part and nothing on
    the others; reading it per part would double the text. `TextDecoded` serves when `Text`
    is missing (a row another program wrote)."""
    data = _hex(row["Text"])
    if data and row["Coding"] == "8bit":
        # Bytes with no charset named: decoded as Kannel's 8-bit data is, by guessing.
        return decode_sms_payload(data, None, None)
    if data and row["Coding"] in _UTF16_HEX_CODINGS:
        return data.decode("utf-16-be", "replace")
    return str(row["TextDecoded"] or "")


def message_key(row: dict[str, Any]) -> str:
    """The row's message id: its ID and a fingerprint of the SMS it holds."""
    values = "\x1f".join(
        "" if row[column] is None else str(row[column]) for column in _FINGERPRINTED
    )
    return fingerprinted(str(row["ID"]), hashlib.sha256(values.encode()).hexdigest()[:16])


def _in(sql: str, ids: Sequence[int]) -> str:
    return sql.format(", ".join(["?"] * len(ids)))


def _mark(tx: Transaction, ids: Sequence[int]) -> None:
    tx.execute(_in(_MARK, ids), ids)


def _mark_same(tx: Transaction, keys: dict[int, str]) -> list[int]:
    """Mark the rows that still hold the SMS of these keys; the IDs of those that do not."""
    ids = sorted(keys)
    rows = tx.rows(_in(_UNPROCESSED_BY_ID, ids), ids)
    same = [int(row["ID"]) for row in rows if message_key(row) == keys[int(row["ID"])]]
    if same:
        _mark(tx, same)
    return [i for i in ids if i not in same]


def _part(row: dict[str, Any]) -> ConcatPart | None:
    try:
        return parse_concat_hex(str(row["UDH"] or ""))
    except InvalidUdh as error:
        # Still worth filing: as a standalone SMS rather than never.
        log.warning(
            "Gammu inbox row %s: unreadable UDH (%s), taken as a single SMS", row["ID"], error
        )
        return None


class GammuInbox:
    """The SMS Gammu received, for the poller to file and then mark processed."""

    def __init__(self, db: GammuDatabase) -> None:
        self._db = db

    async def fetch_unprocessed(self, limit: int) -> list[SmsMessage]:
        """Up to `limit` unprocessed SMS, oldest first."""
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")

        def fetch(tx: Transaction) -> list[SmsMessage]:
            messages: list[SmsMessage] = []
            unfileable: list[int] = []
            for row in tx.rows(_UNPROCESSED, (limit,)):
                try:
                    messages.append(self._message(row))
                except InvalidSms as error:
                    log.warning("Gammu inbox row %s set aside: %s", row["ID"], error)
                    unfileable.append(int(row["ID"]))
            if unfileable:
                _mark(tx, unfileable)
            return messages

        return await self._db.run(fetch)

    async def mark_processed(self, message_ids: Sequence[str]) -> None:
        """Mark the rows of these SMS processed. A row another reader marked already, or
        that holds another SMS now (Gammu's tables rebuilt meanwhile), is left as it is."""
        keys = {int(gateway_id(message_id)): message_id for message_id in message_ids}
        if not keys:
            return
        for row_id in await self._db.run(lambda tx: _mark_same(tx, keys)):
            log.warning(
                "Gammu inbox row %s was not marked processed: it no longer holds unprocessed"
                " SMS %r (marked by another reader, such as Kalkun's daemon, or Gammu's"
                " tables rebuilt)",
                row_id,
                keys[row_id],
            )

    def _message(self, row: dict[str, Any]) -> SmsMessage:
        return SmsMessage(
            gateway="gammu",
            message_id=message_key(row),
            sender=inbound_fields.sender("SenderNumber", row["SenderNumber"]),
            recipient=str(row["RecipientID"] or "") or None,
            text=_text(row),
            received_at=self._db.to_utc(row["ReceivingDateTime"]),
            part=_part(row),
            raw=RawPayload(content_type="application/json", body=self._json(row)),
        )

    def _json(self, row: dict[str, Any]) -> bytes:
        def value(item: object) -> str:
            return self._db.to_utc(item).isoformat() if isinstance(item, datetime) else str(item)

        return json.dumps(row, ensure_ascii=False, default=value).encode()
