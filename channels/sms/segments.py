"""How an outgoing text is cut into SMS segments.

One SMS carries 140 octets: 160 GSM septets or 70 UTF-16 code units. A part of a long
SMS loses 6 octets to its concatenation UDH, leaving 153 septets or 67 units. We cut at
code points, which can neither split an escape pair (an extension-table character is one
code point costing two septets) nor a surrogate pair (one code point costing two units).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, Literal

from channels.sms.encoding import GSM7_BASIC, GSM7_EXTENSION

Encoding = Literal["gsm7", "ucs2"]

GSM7_SINGLE, GSM7_PART, UCS2_SINGLE, UCS2_PART = 160, 153, 70, 67

# How far back from a full part we look for a space to cut after, so words stay whole
# on phones that show each part on its own.
_SPACE_WINDOW: Final = 15

_LIMITS: Final[dict[Encoding, tuple[int, int]]] = {
    "gsm7": (GSM7_SINGLE, GSM7_PART),
    "ucs2": (UCS2_SINGLE, UCS2_PART),
}


def encoding_for(text: str) -> Encoding:
    """gsm7 iff every character is in the GSM default alphabet or its extension table."""
    if all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in text):
        return "gsm7"
    return "ucs2"


def _septets(char: str) -> int:
    if char in GSM7_BASIC:
        return 1
    if char in GSM7_EXTENSION:
        return 2
    raise ValueError(f"U+{ord(char):04X} is not in the GSM 7-bit alphabet")


def _utf16_units(char: str) -> int:
    return 2 if ord(char) > 0xFFFF else 1


def septet_length(text: str) -> int:
    """Septets `text` takes in GSM 7-bit; ValueError if it cannot be sent so."""
    return sum(map(_septets, text))


def _fill(text: str, start: int, limit: int, cost: Callable[[str], int]) -> int:
    """End of the longest run of whole characters from `start` that fits in `limit`."""
    used, end = 0, start
    while end < len(text) and used + cost(text[end]) <= limit:
        used += cost(text[end])
        end += 1
    return end


def _soften_cut(text: str, start: int, end: int) -> int:
    """Move a hard cut back to just after a nearby space; keep it if none is near."""
    if text[end].isspace():
        return end
    for cut in range(end, max(start + 1, end - _SPACE_WINDOW) - 1, -1):
        if text[cut - 1].isspace():
            return cut
    return end


def split_segments(text: str) -> list[str]:
    """The parts `text` is sent as; joined they give back `text` exactly."""
    encoding = encoding_for(text)
    cost = _septets if encoding == "gsm7" else _utf16_units
    single, part = _LIMITS[encoding]
    if sum(map(cost, text)) <= single:
        return [text]
    parts: list[str] = []
    start = 0
    while start < len(text):
        end = _fill(text, start, part, cost)
        if end < len(text):
            end = _soften_cut(text, start, end)
        parts.append(text[start:end])
        start = end
    return parts


def segment_count(text: str) -> int:
    """How many SMS `text` costs to send."""
    return len(split_segments(text))
