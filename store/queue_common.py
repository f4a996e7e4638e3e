"""What the SQL backends' admin queue queries share, free of any database: the page
cursor's encoding, and how a search's words are read (a tracking ID, or words to match)."""

from __future__ import annotations

import base64
import binascii
import json

from normalizer.tracking import InvalidTrackingId, parse_tracking_id
from store.base import InvalidCursor, QueueSort


def tracking_id_in(text: str) -> str | None:
    """The canonical ID if the text is one as a person writes it (any case, spaced or
    hyphenated into groups)."""
    try:
        return parse_tracking_id(text)
    except InvalidTrackingId:
        return None


def escape_like(text: str) -> str:
    """The text as a LIKE pattern matching it literally, with `\\` as the escape."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def encode_cursor(key: list[str], sort: QueueSort) -> str:
    """The keyset of a page's last row, as text, for this sort order."""
    raw = json.dumps({"s": sort.value, "k": key}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: QueueSort, parts: int) -> list[str]:
    """The `parts` texts of an `encode_cursor` key for this sort order; InvalidCursor for
    anything else. What each text means is the backend's to check."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        key = data["k"]
        valid = (
            data["s"] == sort.value
            and isinstance(key, list)
            and len(key) == parts
            and all(isinstance(part, str) for part in key)
        )
    except (binascii.Error, ValueError, KeyError, TypeError):
        valid = False
    if not valid:
        raise InvalidCursor("cursor is not valid for this sort order")
    return list(key)
