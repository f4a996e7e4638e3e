"""The User Data Header of an SMS (3GPP TS 23.040 9.2.3.24), as far as concatenation goes.

A UDH is its length octet (UDHL) followed by information elements, each an identifier
(IEI), a length and that many octets. Kannel hands the UDH over as raw bytes, Gammu's
SMSD stores it as a hex string; both begin with the UDHL.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from channels.sms.models import ConcatPart

IEI_CONCAT_8BIT: Final = 0x00
IEI_CONCAT_16BIT: Final = 0x08


class InvalidUdh(ValueError):
    """The UDH's own structure is broken: lengths that do not add up, or not hex."""


def _elements(udh: bytes) -> Iterator[tuple[int, bytes]]:
    if not udh:
        raise InvalidUdh("empty UDH: no length octet")
    if udh[0] != len(udh) - 1:
        raise InvalidUdh(f"UDHL says {udh[0]} octets but {len(udh) - 1} follow")
    pos = 1
    while pos < len(udh):
        if pos + 2 > len(udh):
            raise InvalidUdh(f"information element at octet {pos} has no length")
        iei, length = udh[pos], udh[pos + 1]
        end = pos + 2 + length
        if end > len(udh):
            raise InvalidUdh(f"information element 0x{iei:02X} runs past the end of the UDH")
        yield iei, udh[pos + 2 : end]
        pos = end


def _concat_part(iei: int, data: bytes) -> ConcatPart | None:
    if iei == IEI_CONCAT_8BIT and len(data) == 3:
        reference, total, seq = data
    elif iei == IEI_CONCAT_16BIT and len(data) == 4:
        reference, total, seq = int.from_bytes(data[:2], "big"), data[2], data[3]
    else:
        return None
    # TS 23.040 tells the receiver to ignore the element for these values.
    if total < 2 or not 1 <= seq <= total:
        return None
    return ConcatPart(reference=reference, total=total, seq=seq)


def parse_concat(udh: bytes) -> ConcatPart | None:
    """Where this part sits in a long SMS; None when the UDH carries no usable concat IE."""
    part = None
    for iei, data in _elements(udh):
        if iei in (IEI_CONCAT_8BIT, IEI_CONCAT_16BIT):
            # The two are mutually exclusive; TS 23.040 says the last occurrence counts.
            part = _concat_part(iei, data)
    return part


def parse_concat_hex(udh_hex: str) -> ConcatPart | None:
    """`parse_concat` for a UDH stored as hex (Gammu); empty means no UDH."""
    if not udh_hex.strip():
        return None
    try:
        udh = bytes.fromhex(udh_hex)
    except ValueError:
        raise InvalidUdh("UDH is not a hex string") from None
    return parse_concat(udh)


def split_udh(user_data: bytes) -> tuple[bytes, bytes]:
    """(udh, rest) of user data whose UDHI flag says it begins with a UDH."""
    if not user_data or user_data[0] + 1 > len(user_data):
        raise InvalidUdh("user data is shorter than its UDH length octet says")
    end = user_data[0] + 1
    return user_data[:end], user_data[end:]


def concat_udh(reference: int, total: int, seq: int) -> bytes:
    """The UDH of part `seq` of `total`. A reference below 256 gives the usual 6-octet
    header that `segments.GSM7_PART`/`UCS2_PART` assume; a larger one needs 7 octets,
    which leaves one septet (or one UTF-16 unit) less room per part."""
    if not (0 <= reference <= 0xFFFF and 2 <= total <= 255 and 1 <= seq <= total):
        raise ValueError(f"no concatenated part {seq}/{total} with reference {reference}")
    if reference < 0x100:
        return bytes((5, IEI_CONCAT_8BIT, 3, reference, total, seq))
    return bytes((6, IEI_CONCAT_16BIT, 4)) + reference.to_bytes(2, "big") + bytes((total, seq))
