"""Reading Gammu SMSD's inbox: one row per SMS the modem received, or per part of a long one.

Gammu leaves the `Processed` column to applications. We read rows still 'false' and set them
'true' only after our own commit, so a crash in between files the SMS again (intake is
idempotent on the message id) instead of losing it.

A row that can never be filed (its sender is no phone number, say an operator's broadcast
from "TELKOMSEL") is marked at once and logged: it would otherwise come back on every poll
and crowd out the rows behind it. Gammu, and Kalkun, keep it for a person to read.

Kalkun's own daemon, when Gammu's RunOnReceive calls it, also sets `Processed`: the two must
not both consume one inbox.
"""

from __future__ import annotations

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

log = logging.getLogger(__name__)

# SELECT *: Kalkun adds columns to inbox, and schemas before version 17 lack `Status`.
# Class 127 rows are USSD answers from the network, not SMS from citizens.
_UNPROCESSED: Final = (
    "SELECT * FROM inbox WHERE Processed = 'false' AND Class <> 127"
    " ORDER BY ReceivingDateTime, ID LIMIT ?"
)
_MARK: Final = "UPDATE inbox SET Processed = 'true' WHERE Processed = 'false' AND ID IN ({})"

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


def _mark(tx: Transaction, ids: Sequence[int]) -> None:
    tx.execute(_MARK.format(", ".join(["?"] * len(ids))), ids)


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
        """Mark these rows processed; rows another reader marked already stay as they are."""
        ids = [int(message_id) for message_id in message_ids]
        if ids:
            await self._db.run(lambda tx: _mark(tx, ids))

    def _message(self, row: dict[str, Any]) -> SmsMessage:
        return SmsMessage(
            gateway="gammu",
            message_id=str(row["ID"]),
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
