"""Decoding SMS payloads: GSM 03.38 septets (unpacked and packed) and gateway charsets."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from channels.sms.encoding import (
    UnknownCharset,
    decode_gsm7,
    decode_gsm7_packed,
    decode_sms_payload,
)
from channels.sms.udh import split_udh

TERIMA_KASIH_UTF16BE = "0054006500720069006d00610020006b00610073006900680020d83dde00"
CURLY_CP1252 = "934a616c616e942091727573616b92"  # “Jalan” ‘rusak’


@pytest.mark.parametrize(
    ("septets_hex", "text"),
    [
        pytest.param("4a616c616e20727573616b", "Jalan rusak", id="ascii-subset"),
        pytest.param("00", "@", id="at-is-0x00"),
        pytest.param("63616605", "café", id="e-acute-is-0x05"),
        pytest.param("011f10", "£ÉΔ", id="default-alphabet-non-ascii"),
        pytest.param("1b651b3c1b3e1b281b291b141b3d1b2f1b40", "€[]{}^~\\|", id="extension"),
        pytest.param("1b0a", "\x0c", id="page-break"),
        pytest.param("", "", id="empty"),
        pytest.param("1b41", "A", id="unknown-escape-shows-default-char"),
        pytest.param("41421b", "AB ", id="trailing-lone-escape-is-space"),
        pytest.param("1b1b41", " A", id="escape-escape-is-space"),
        pytest.param("411b1b1b", "A  ", id="escape-pair-then-lone-escape"),
        pytest.param("41ff42", "A\ufffdB", id="octet-above-0x7f"),
        pytest.param("1bff", "\ufffd", id="escaped-octet-above-0x7f"),
    ],
)
def test_decode_gsm7(septets_hex: str, text: str) -> None:
    assert decode_gsm7(bytes.fromhex(septets_hex)) == text


@pytest.mark.parametrize(
    ("packed_hex", "septets", "fill_bits", "text"),
    [
        pytest.param("e8329bfd4697d9ec37", 10, 0, "hellohello", id="textbook-pdu"),
        pytest.param("ca303bec06c9ebf3f01a", 11, 0, "Jalan rusak", id="jalan-rusak"),
        pytest.param("e8329bfd469701", 7, 0, "hellohe", id="seven-septets-no-phantom-at"),
        pytest.param("e8329bfd469701", 8, 0, "hellohe@", id="septet-count-decides"),
        pytest.param("c8b0fc1c066d509b726d9302", 13, 0, "Harga {€5}", id="extension"),
        pytest.param("", 0, 0, "", id="empty"),
    ],
)
def test_decode_gsm7_packed(packed_hex: str, septets: int, fill_bits: int, text: str) -> None:
    assert decode_gsm7_packed(bytes.fromhex(packed_hex), septets, fill_bits) == text


def test_packed_part_after_udh_uses_fill_bits() -> None:
    # User data of part 1/3: UDH (6 octets = 48 bits) then 1 fill bit to reach septet 7.
    user_data = bytes.fromhex("050003cc0301" + "946176d80d92d7e7e135")
    udh, rest = split_udh(user_data)
    assert udh == bytes.fromhex("050003cc0301")
    assert decode_gsm7_packed(rest, 11, fill_bits=1) == "Jalan rusak"


@pytest.mark.parametrize(
    ("packed_hex", "septets", "fill_bits"),
    [
        pytest.param("e8329bfd469701", 9, 0, id="more-septets-than-octets"),
        pytest.param("e8329bfd4697d9ec37", 10, 3, id="fill-bits-push-past-end"),
        pytest.param("e8", 1, 7, id="fill-bits-out-of-range"),
        pytest.param("e8", -1, 0, id="negative-septets"),
    ],
)
def test_decode_gsm7_packed_rejects_impossible_lengths(
    packed_hex: str, septets: int, fill_bits: int
) -> None:
    with pytest.raises(ValueError):
        decode_gsm7_packed(bytes.fromhex(packed_hex), septets, fill_bits)


@pytest.mark.parametrize(
    ("data_hex", "coding", "charset", "text"),
    [
        # coding 0: GSM septets, or whatever charset Kannel converted them to.
        pytest.param("4a616c616e20727573616b", 0, None, "Jalan rusak", id="7bit-no-charset"),
        pytest.param("63616605", 0, "GSM", "café", id="7bit-gsm-label"),
        pytest.param("1b65", 0, "gsm0338", "€", id="7bit-gsm0338-label"),
        pytest.param("636166c3a9", 0, "UTF-8", "café", id="7bit-kannel-utf8"),
        pytest.param(CURLY_CP1252, 0, "WINDOWS-1252", "“Jalan” ‘rusak’", id="7bit-cp1252"),
        # coding 1: 8-bit, by charset, else UTF-8 if it is, else cp1252.
        pytest.param("636166e9", 1, "ISO-8859-1", "café", id="8bit-latin1"),
        pytest.param(CURLY_CP1252, 1, "ISO-8859-1", "“Jalan” ‘rusak’", id="8bit-latin1-as-cp1252"),
        pytest.param("636166c3a920f09f9880", 1, None, "café 😀", id="8bit-guess-utf8"),
        pytest.param(CURLY_CP1252, 1, None, "“Jalan” ‘rusak’", id="8bit-guess-cp1252"),
        pytest.param("636166e9", 1, "binary", "café", id="8bit-old-kannel-binary-label"),
        pytest.param("636166c3a9", 1, "8-BIT", "café", id="8bit-kannel-8bit-label"),
        # coding 2: UCS-2 read as UTF-16BE, unless another Unicode encoding is named.
        pytest.param(TERIMA_KASIH_UTF16BE, 2, None, "Terima kasih 😀", id="ucs2-no-charset"),
        pytest.param(TERIMA_KASIH_UTF16BE, 2, "UTF-16BE", "Terima kasih 😀", id="ucs2-kannel"),
        pytest.param(TERIMA_KASIH_UTF16BE, 2, "UCS-2", "Terima kasih 😀", id="ucs2-label"),
        pytest.param(TERIMA_KASIH_UTF16BE, 2, "ucs2", "Terima kasih 😀", id="ucs2-lowercase"),
        pytest.param(
            TERIMA_KASIH_UTF16BE, 2, "WINDOWS-1252", "Terima kasih 😀", id="ucs2-not-8bit"
        ),
        pytest.param("d83ddc4dd83cdffd", 2, None, "👍🏽", id="ucs2-skin-tone"),
        pytest.param(
            "d83ddc68200dd83ddc69200dd83ddc67", 2, None, "👨\u200d👩\u200d👧", id="ucs2-zwj-family"
        ),
        pytest.param("201c0041201d", 2, None, "“A”", id="ucs2-curly-quotes"),
        pytest.param("636166c3a9", 2, "UTF-8", "café", id="ucs2-but-utf8-named"),
        pytest.param("fffe41004200", 2, "UTF-16", "AB", id="ucs2-utf16-with-bom"),
        # coding unknown: Kannel's DC_UNDEF (-1) or no %c at all.
        pytest.param(
            "f09f91a8e2808df09f91a9e2808df09f91a7",
            None,
            None,
            "👨\u200d👩\u200d👧",
            id="none-guess-utf8-zwj",
        ),
        pytest.param(CURLY_CP1252, None, None, "“Jalan” ‘rusak’", id="none-guess-cp1252"),
        pytest.param(CURLY_CP1252, -1, None, "“Jalan” ‘rusak’", id="undef-guess-cp1252"),
        pytest.param(TERIMA_KASIH_UTF16BE, None, "UTF-16BE", "Terima kasih 😀", id="none-utf16"),
        pytest.param("63616605", None, "GSM", "café", id="none-gsm"),
        # Undecodable bytes become U+FFFD, never an exception.
        pytest.param("004100", 2, None, "A\ufffd", id="ucs2-odd-length"),
        pytest.param("d83d0041", 2, None, "\ufffdA", id="ucs2-lone-surrogate"),
        pytest.param("41ff", 0, "UTF-8", "A\ufffd", id="utf8-invalid-byte"),
        pytest.param("4181", 1, "WINDOWS-1252", "A\ufffd", id="cp1252-undefined-byte"),
        pytest.param("41ff", 0, None, "A\ufffd", id="gsm-octet-above-0x7f"),
    ],
)
def test_decode_sms_payload(
    data_hex: str, coding: int | None, charset: str | None, text: str
) -> None:
    assert decode_sms_payload(bytes.fromhex(data_hex), coding, charset) == text


@pytest.mark.parametrize(
    "charset",
    [
        pytest.param("KOI9-X", id="made-up"),
        pytest.param("base64", id="bytes-to-bytes-codec"),
        pytest.param("idna", id="not-a-charset"),
        pytest.param("unicode_escape", id="python-escape-codec"),
    ],
)
@pytest.mark.parametrize("coding", [0, 1, 2, None])
def test_unknown_charset_names_it(charset: str, coding: int | None) -> None:
    with pytest.raises(UnknownCharset) as raised:
        decode_sms_payload(b"abc", coding, charset)
    assert raised.value.charset == charset
    assert charset in str(raised.value)


@given(
    data=st.binary(max_size=200),
    coding=st.sampled_from([None, -1, 0, 1, 2]),
    charset=st.sampled_from(
        [None, "", "GSM", "UTF-8", "ISO-8859-1", "WINDOWS-1252", "UTF-16BE", "UCS-2", "binary"]
    ),
)
def test_any_bytes_decode_to_text(data: bytes, coding: int | None, charset: str | None) -> None:
    assert isinstance(decode_sms_payload(data, coding, charset), str)
