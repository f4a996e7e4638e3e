"""Indonesian phone numbers, as citizens write them, to E.164."""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers

REGION = "ID"
COUNTRY_PREFIX = "62"

# Checked before phonenumbers sees the text: it would otherwise read vanity letters
# ("0800-FLOWERS") as digits and skip over "ext." and other words.
_SHAPE = re.compile(r"\+?[0-9.\-]+")
# Indonesian service and SMS short codes (112, 1708, 14045) never start with the trunk
# 0; "08123" is a mobile number cut short, not a short code.
_SHORT_CODE = re.compile(r"[1-9][0-9]{2,4}")
_MIN_DIGITS = 6
_MAX_DIGITS = 15  # the E.164 limit, country code included


class InvalidPhone(ValueError):
    """Not a phone number; the message is a short English reason."""


@lru_cache(maxsize=4096)
def normalize_phone(raw: str) -> str:
    """E.164 (`+6281234567890`), or the digits of a 3–5 digit short code (`1708`).

    Cached: parsing with phonenumbers is slow, and one SMS reads its sender twice (the
    channel's check, then the normaliser), as a citizen's later messages do again."""
    # Parentheses go first so "(+62) 812…" keeps its plus at the front.
    compact = "".join(raw.split()).replace("(", "").replace(")", "")
    if not compact:
        raise InvalidPhone("empty")
    if not _SHAPE.fullmatch(compact):
        raise InvalidPhone("only digits, spaces, dots, hyphens, parentheses and a leading +")
    digits = re.sub(r"[^0-9]", "", compact)
    if not compact.startswith("+") and _SHORT_CODE.fullmatch(digits):
        return digits
    if len(digits) < _MIN_DIGITS:
        raise InvalidPhone("too short")
    if len(digits) > _MAX_DIGITS:
        raise InvalidPhone("too long")
    return _e164(compact, digits)


def _e164(compact: str, digits: str) -> str:
    for candidate in _readings(compact, digits):
        try:
            number = phonenumbers.parse(candidate, REGION)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    raise InvalidPhone("not a valid phone number")


def _readings(compact: str, digits: str) -> list[str]:
    if compact.startswith("+"):
        return ["+" + digits]
    # "62…" without the plus is read as the country code first: some such strings are
    # also valid national numbers (area code 0622), and citizens who drop the plus mean
    # the country code far more often than they drop the trunk 0 of a Sumatran landline.
    if digits.startswith(COUNTRY_PREFIX):
        return ["+" + digits, digits]
    return [digits]
