"""Turning the bytes an SMS gateway delivers into text.

SMS text arrives in three shapes: GSM 03.38 septets (one per byte from Kannel, SMPP and
HTTP gateways, or packed 7-bit in a raw PDU), UCS-2/UTF-16BE, or bytes some gateway has
already converted to a charset it names. The `gsm0338` package holds the GSM tables; it
does not implement the fallbacks of 3GPP TS 23.038 for escapes it does not know (it
raises or gives U+FFFD, and silently drops a trailing ESC), so those are added here.
"""

from __future__ import annotations

import codecs
from typing import Final

from gsm0338 import Codec

_ESC: Final = 0x1B
_GSM: Final = Codec()
_REPLACEMENT: Final = "\ufffd"
_FALLBACK_ERRORS: Final = "lapor-sms-gsm7-fallback"

# Kannel's %c: DC_7BIT 0, DC_8BIT 1, DC_UCS2 2 (DC_UNDEF -1). 8-bit and undefined are
# decoded alike: by the charset if one is named, else by guessing.
CODING_7BIT: Final = 0
CODING_UCS2: Final = 2

_GSM7: Final = "gsm7"  # our pseudo codec name for the unpacked GSM default alphabet
_GSM_LABELS: Final = frozenset({"gsm", "gsm0338", "gsm03.38", "gsm-7", "gsm7"})
# Labels that describe binary data rather than a text charset: old Kannel sends "binary"
# for 8-bit messages, newer Kannel "8-BIT".
_NO_CHARSET_LABELS: Final = frozenset({"", "binary", "8-bit"})
# UCS-2 is read as UTF-16BE so that surrogate pairs (emoji) sent by modern phones survive.
_UCS2_LABELS: Final = frozenset({"ucs-2", "ucs2", "ucs-2be", "iso-10646-ucs-2"})
_UNICODE_CODECS: Final = frozenset(
    {"utf-8", "utf-8-sig", "utf-16", "utf-16-be", "utf-16-le", "utf-32", "utf-32-be", "utf-32-le"}
)
# Python text codecs that no gateway means by a charset (idna and undefined even raise
# with errors="replace").
_NOT_CHARSETS: Final = frozenset(
    {"idna", "punycode", "unicode-escape", "raw-unicode-escape", "undefined"}
)


class UnknownCharset(ValueError):
    """The gateway named a charset we cannot decode (the web route answers 422)."""

    def __init__(self, charset: str) -> None:
        self.charset = charset
        super().__init__(f"unknown charset {charset!r}")


def _gsm_decode(data: bytes, errors: str) -> str:
    text: str = _GSM.decode(data, errors)[0]
    return text


def _escaped(code: int) -> str | None:
    try:
        return _gsm_decode(bytes((_ESC, code)), "strict")
    except UnicodeDecodeError:
        return None


_DEFAULT_ALPHABET: Final[dict[int, str]] = {  # septet -> character
    code: _gsm_decode(bytes((code,)), "strict") for code in range(0x80) if code != _ESC
}
GSM7_BASIC: Final = frozenset(_DEFAULT_ALPHABET.values())
"""Characters of the GSM 7-bit default alphabet: one septet each."""
GSM7_EXTENSION: Final = frozenset(
    char for code in range(0x80) if (char := _escaped(code)) is not None
)
"""Characters of the default extension table: ESC plus one septet each."""


def _gsm7_fallback(error: UnicodeError) -> tuple[str, int]:
    """TS 23.038: an escaped code missing from the extension table shows as its
    default-alphabet character; ESC ESC (reserved for another extension table) as a
    space; a byte that is no septet at all becomes U+FFFD."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    bad = error.object[error.start : error.end]
    if len(bad) == 2 and bad[0] == _ESC:
        return (" " if bad[1] == _ESC else _DEFAULT_ALPHABET.get(bad[1], _REPLACEMENT)), error.end
    return _REPLACEMENT, error.end


codecs.register_error(_FALLBACK_ERRORS, _gsm7_fallback)


def _ends_with_lone_escape(data: bytes) -> bool:
    # A run of ESCs pairs up from its start (ESC ESC is one code), so an odd run ends alone.
    run = len(data) - len(data.rstrip(bytes((_ESC,))))
    return run % 2 == 1


def decode_gsm7(data: bytes) -> str:
    """Unpacked GSM 03.38 septets, one per byte, default alphabet plus extension table."""
    if _ends_with_lone_escape(data):
        # TS 23.038: an ESC that escapes nothing is displayed as a space.
        return _gsm_decode(data[:-1], _FALLBACK_ERRORS) + " "
    return _gsm_decode(data, _FALLBACK_ERRORS)


def decode_gsm7_packed(data: bytes, septets: int, fill_bits: int = 0) -> str:
    """Packed 7-bit user data as in a PDU. `data` starts right after the UDH (if any) and
    `fill_bits` (0-6) is the padding that aligns the first septet to a septet boundary
    of the whole user data; `septets` is how many septets the text has."""
    if not 0 <= fill_bits <= 6:
        raise ValueError(f"fill_bits must be 0-6, got {fill_bits}")
    if septets < 0 or fill_bits + 7 * septets > 8 * len(data):
        raise ValueError(
            f"{len(data)} octets cannot hold {septets} septets after {fill_bits} fill bits"
        )
    bits = int.from_bytes(data, "little") >> fill_bits
    return decode_gsm7(bytes((bits >> (7 * index)) & 0x7F for index in range(septets)))


def _codec_for(charset: str | None) -> str | None:
    """The Python codec (or `_GSM7`) a gateway's charset label means; None: no charset."""
    label = (charset or "").strip().lower()
    if label in _NO_CHARSET_LABELS:
        return None
    if label in _GSM_LABELS:
        return _GSM7
    if label in _UCS2_LABELS:
        return "utf-16-be"
    try:
        name = codecs.lookup(label).name
        if name in _NOT_CHARSETS:
            raise LookupError(name)
        b"\0".decode(name, "replace")  # bytes-to-bytes codecs (base64, rot13) refuse this
    except LookupError:
        raise UnknownCharset(charset or "") from None
    # Labelled Latin-1 is nearly always Windows-1252 in practice (WHATWG decodes it so
    # too): its 0x80-0x9F are the curly quotes and the euro, never C1 controls in an SMS.
    return "cp1252" if name == "iso8859-1" else name


def _decode(data: bytes, codec: str) -> str:
    if codec == _GSM7:
        return decode_gsm7(data)
    return data.decode(codec, "replace")


def _decode_unlabelled(data: bytes) -> str:
    # cp1252 rather than Latin-1 so that curly quotes 0x93/0x94 come out as “ ”.
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


def decode_sms_payload(data: bytes, coding: int | None, charset: str | None) -> str:
    """Text from what an HTTP gateway delivers: Kannel's %b with its %c coding and %C
    charset. Undecodable bytes become U+FFFD; an unknown charset raises UnknownCharset."""
    codec = _codec_for(charset)
    if coding == CODING_UCS2:
        return _decode(data, codec if codec in _UNICODE_CODECS else "utf-16-be")
    if coding == CODING_7BIT:
        return _decode(data, codec or _GSM7)
    if codec is not None:
        return _decode(data, codec)
    return _decode_unlabelled(data)
