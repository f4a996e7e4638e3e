from __future__ import annotations

import pytest

from normalizer.phone import InvalidPhone, normalize_phone


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # mobile, every way citizens write it
        ("08123456789", "+628123456789"),
        ("628123456789", "+628123456789"),
        ("+628123456789", "+628123456789"),
        ("8123456789", "+628123456789"),
        ("+62 812-3456-7890", "+6281234567890"),
        ("0812 3456 7890", "+6281234567890"),
        ("0812-3456-7890", "+6281234567890"),
        ("0812.3456.7890", "+6281234567890"),
        ("(0812) 3456 7890", "+6281234567890"),
        ("(+62) 812 3456 7890", "+6281234567890"),
        ("+62 (0)812-3456-7890", "+6281234567890"),
        ("62 0812 3456 7890", "+6281234567890"),
        ("  0857\u00a01234\t5678 ", "+6285712345678"),
        ("6281234567890", "+6281234567890"),
        # landlines
        ("(0534) 3069638", "+625343069638"),
        ("0534-3069638", "+625343069638"),
        ("021 555 1234", "+62215551234"),
        ("+62 21 5551234", "+62215551234"),
        ("62215551234", "+62215551234"),
        # already E.164: normalising twice changes nothing
        ("+625343069638", "+625343069638"),
        # foreign numbers in full international form
        ("+44 20 7946 0958", "+442079460958"),
        ("+60 12-345 6789", "+60123456789"),
        ("+1 650 253 0000", "+16502530000"),
        # short codes stay as digits
        ("1708", "1708"),
        ("112", "112"),
        ("110", "110"),
        ("14045", "14045"),
        (" 1-7-0-8 ", "1708"),
    ],
)
def test_normalize_phone(raw: str, expected: str) -> None:
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("()", "empty"),
        ("abc", "only digits"),
        ("0812-FLOWERS", "only digits"),
        ("0812 3456 7890 ext. 12", "only digits"),
        ("+", "only digits"),
        ("++628123456789", "only digits"),
        ("0812+3456789", "only digits"),
        ("0812/3456789", "only digits"),
        ("12", "too short"),
        ("0811", "too short"),
        ("08123", "too short"),
        ("+112", "too short"),
        ("0812345678901234", "too long"),
        ("+62812345678901234", "too long"),
        ("812345", "not a valid"),
        ("+999 1234 5678", "not a valid"),
        ("0000000000", "not a valid"),
        ("0062812345678", "not a valid"),
    ],
)
def test_garbage_is_rejected(raw: str, reason: str) -> None:
    with pytest.raises(InvalidPhone, match=reason):
        normalize_phone(raw)


def test_invalid_phone_is_a_value_error() -> None:
    assert issubclass(InvalidPhone, ValueError)
