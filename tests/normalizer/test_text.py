from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from normalizer.text import clean_text

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # man ZWJ woman ZWJ girl


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # bytes: UTF-8, invalid sequences dropped
        (b"Jalan rusak", "Jalan rusak"),
        (b"caf\xc3\xa9", "caf\u00e9"),
        (b"abc\xff\xfedef", "abcdef"),
        (b"\xef\xbb\xbfBOM di depan", "BOM di depan"),
        (b"setengah \xe2\x82", "setengah"),
        # lone surrogates dropped, split pairs joined
        ("a\ud800b", "ab"),
        ("senyum \ud83d\ude00", "senyum \U0001f600"),
        # control characters
        ("a\x00b", "ab"),
        ("a\x07b\x1bc\x7fd", "abcd"),
        ("halo\x08\x08", "halo"),
        # format characters: invisible or reordering, except ZWJ
        ("a\u200bb", "ab"),
        ("\ufeffhalo", "halo"),
        ("rp\u00ad10.000", "rp10.000"),
        ("abc\u202edef", "abcdef"),
        (FAMILY, FAMILY),
        ("keluarga " + FAMILY + " 👍🏽", "keluarga " + FAMILY + " 👍🏽"),
        # NFC
        ("caf\u0065\u0301", "caf\u00e9"),
        ("e\u200b\u0301", "\u00e9"),
        # line breaks
        ("a\r\nb", "a\nb"),
        ("a\rb", "a\nb"),
        ("a\x0cb", "a\nb"),
        ("a\u2028b", "a\nb"),
        # horizontal whitespace
        ("a\tb", "a b"),
        ("a  \t \u00a0  b", "a b"),
        ("a\u3000\u2003b", "a b"),
        ("  baris satu  \n\t baris dua\t", "baris satu\nbaris dua"),
        # blank lines
        ("a\n\nb", "a\n\nb"),
        ("a\n\n\n\nb", "a\n\nb"),
        ("a\n \n\t\n\u00a0\nb", "a\n\nb"),
        ("a\r\n\r\n\r\n\r\nb", "a\n\nb"),
        ("\n\n  a  \n\n", "a"),
        # nothing left
        ("", ""),
        (" \t\n\u200b\x00 ", ""),
        (b"\xff\xfe", ""),
        # kept as is
        (
            "Sudah 3 bulan lampu jalan di Desa Sukamaju padam.",
            "Sudah 3 bulan lampu jalan di Desa Sukamaju padam.",
        ),
        ('Pak Andé bilang: "tolong" 🙏', 'Pak Andé bilang: "tolong" 🙏'),
    ],
)
def test_clean_text(raw: str | bytes, expected: str) -> None:
    assert clean_text(raw) == expected


@given(st.text())
def test_clean_text_is_idempotent(raw: str) -> None:
    once = clean_text(raw)
    assert clean_text(once) == once


@given(st.binary())
def test_any_bytes_give_storable_tidy_text(raw: bytes) -> None:
    text = clean_text(raw)
    text.encode("utf-8")  # no surrogates left
    assert text == text.strip()
    assert "\n\n\n" not in text
    assert unicodedata.is_normalized("NFC", text)
    assert all(unicodedata.category(c) not in ("Cc", "Cf") or c in "\n\u200d" for c in text)
