"""Tracking IDs that citizens read aloud over the phone and type on keypads.

An ID is eight random symbols and one check symbol from a 31-symbol alphabet. Because
31 is prime and the position weights 1..9 are distinct and non-zero modulo 31, the
weighted sum changes under any single substitution (weight * difference is never a
multiple of a prime when both factors are smaller than it) and under any swap of two
different neighbours (the change is (w_i - w_{i+1}) * difference = -difference).
"""

from __future__ import annotations

import random
import secrets
from typing import Literal

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTVWXYZ"
_BASE = len(ALPHABET)
_VALUE = {symbol: value for value, symbol in enumerate(ALPHABET)}
DATA_LENGTH = 8
TRACKING_ID_LENGTH = DATA_LENGTH + 1

# The check symbol sits at the last position, weight 9; multiplying by the inverse of 9
# solves for it directly instead of trying all 31 candidates.
_CHECK_WEIGHT = TRACKING_ID_LENGTH
_CHECK_WEIGHT_INVERSE = pow(_CHECK_WEIGHT, -1, _BASE)

Reason = Literal["format", "checksum"]

assert _BASE == 31, "the error-detection argument needs a prime alphabet size"


class InvalidTrackingId(ValueError):
    """Not a tracking ID: `reason` tells a typo in the symbols ("checksum") from junk ("format")."""

    def __init__(self, reason: Reason, text: str) -> None:
        self.reason: Reason = reason
        super().__init__(f"invalid tracking ID ({reason}): {text!r}")


def _weighted_sum(symbols: str) -> int:
    return sum((i + 1) * _VALUE[symbol] for i, symbol in enumerate(symbols)) % _BASE


def _check_symbol(data: str) -> str:
    value = (-_weighted_sum(data) * _CHECK_WEIGHT_INVERSE) % _BASE
    return ALPHABET[value]


def generate_tracking_id(rng: random.Random | secrets.SystemRandom) -> str:
    """A fresh ID; pass `secrets.SystemRandom()` so IDs cannot be predicted from one another."""
    # One draw for all eight symbols (its base-31 digits): with SystemRandom every draw
    # is a system call, and this runs for every complaint.
    number = rng.randrange(_BASE**DATA_LENGTH)
    symbols = []
    for _ in range(DATA_LENGTH):
        number, value = divmod(number, _BASE)
        symbols.append(ALPHABET[value])
    data = "".join(symbols)
    return data + _check_symbol(data)


def _canonical(text: str) -> str:
    compact = "".join(text.split()).replace("-", "")
    # Only ASCII is upper-cased: some non-ASCII letters (long s "ſ") upper-case to ASCII
    # ones and would otherwise slip through as look-alikes.
    return compact.upper() if compact.isascii() else compact


def parse_tracking_id(text: str) -> str:
    """The canonical ID from what a person typed: any case, spaces and hyphens allowed."""
    candidate = _canonical(text)
    if len(candidate) != TRACKING_ID_LENGTH or not all(c in _VALUE for c in candidate):
        raise InvalidTrackingId("format", text)
    if _weighted_sum(candidate) != 0:
        raise InvalidTrackingId("checksum", text)
    return candidate


def is_valid_tracking_id(text: str) -> bool:
    try:
        parse_tracking_id(text)
    except InvalidTrackingId:
        return False
    return True
