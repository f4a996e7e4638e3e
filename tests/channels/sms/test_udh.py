"""The concatenation information elements of a User Data Header."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from channels.sms.models import ConcatPart
from channels.sms.udh import InvalidUdh, concat_udh, parse_concat, parse_concat_hex, split_udh


@pytest.mark.parametrize(
    ("udh_hex", "part"),
    [
        pytest.param("050003CC0301", ConcatPart(reference=0xCC, total=3, seq=1), id="8bit-ref"),
        pytest.param(
            "0608041234 0302", ConcatPart(reference=0x1234, total=3, seq=2), id="16bit-ref"
        ),
        pytest.param(
            "0B0504 0B8423F0 0003CC0201",
            ConcatPart(reference=0xCC, total=2, seq=1),
            id="after-port-addressing",
        ),
        pytest.param(
            "0B000301 0201 0804 12340302",
            ConcatPart(reference=0x1234, total=3, seq=2),
            id="last-concat-element-wins",
        ),
        pytest.param("050003CC0202", ConcatPart(reference=0xCC, total=2, seq=2), id="last-part"),
        pytest.param("060504 0B8423F0", None, id="port-addressing-only"),
        pytest.param("00", None, id="no-elements"),
        pytest.param("050003CC0001", None, id="total-zero"),
        pytest.param("050003CC0101", None, id="total-one"),
        pytest.param("050003CC0300", None, id="seq-zero"),
        pytest.param("050003CC0304", None, id="seq-past-total"),
        pytest.param("04 0002CC03", None, id="concat-element-wrong-length"),
        pytest.param("0A 0003CC0301 0003CC0000", None, id="last-concat-is-nonsense"),
    ],
)
def test_parse_concat(udh_hex: str, part: ConcatPart | None) -> None:
    assert parse_concat(bytes.fromhex(udh_hex)) == part


@pytest.mark.parametrize(
    "udh_hex",
    [
        pytest.param("", id="empty"),
        pytest.param("050003CC03", id="shorter-than-udhl"),
        pytest.param("050003CC030101", id="longer-than-udhl"),
        pytest.param("0100", id="element-without-length"),
        pytest.param("030005CC", id="element-past-end"),
        pytest.param("0B0504 0B8423F0 0003CC02", id="concat-after-port-truncated"),
    ],
)
def test_parse_concat_rejects_broken_structure(udh_hex: str) -> None:
    with pytest.raises(InvalidUdh):
        parse_concat(bytes.fromhex(udh_hex))


@pytest.mark.parametrize(
    ("udh_hex", "part"),
    [
        pytest.param("", None, id="gammu-no-udh"),
        pytest.param("050003cc0301", ConcatPart(reference=0xCC, total=3, seq=1), id="lowercase"),
        pytest.param("0608041234 0302", ConcatPart(reference=0x1234, total=3, seq=2), id="16bit"),
    ],
)
def test_parse_concat_hex(udh_hex: str, part: ConcatPart | None) -> None:
    assert parse_concat_hex(udh_hex) == part


@pytest.mark.parametrize("udh_hex", ["05000", "zz0003CC0301", "050003CC03"])
def test_parse_concat_hex_rejects_garbage(udh_hex: str) -> None:
    with pytest.raises(InvalidUdh):
        parse_concat_hex(udh_hex)


@pytest.mark.parametrize(
    ("user_data_hex", "udh_hex", "rest_hex"),
    [
        pytest.param("050003CC03010041", "050003CC0301", "0041", id="ucs2-part"),
        pytest.param("060804123403020a", "0608041234 0302", "0a", id="16bit"),
        pytest.param("050003CC0301", "050003CC0301", "", id="nothing-after"),
    ],
)
def test_split_udh(user_data_hex: str, udh_hex: str, rest_hex: str) -> None:
    assert split_udh(bytes.fromhex(user_data_hex)) == (
        bytes.fromhex(udh_hex),
        bytes.fromhex(rest_hex),
    )


@pytest.mark.parametrize("user_data_hex", ["", "050003CC03"])
def test_split_udh_rejects_short_user_data(user_data_hex: str) -> None:
    with pytest.raises(InvalidUdh):
        split_udh(bytes.fromhex(user_data_hex))


@pytest.mark.parametrize(
    ("reference", "total", "seq", "udh_hex"),
    [
        pytest.param(0xCC, 3, 1, "050003CC0301", id="8bit"),
        pytest.param(0, 2, 2, "050003000202", id="ref-zero"),
        pytest.param(255, 2, 1, "050003FF0201", id="largest-8bit"),
        pytest.param(256, 2, 1, "06080401000201", id="smallest-16bit"),
        pytest.param(0x1234, 3, 2, "06080412340302", id="16bit"),
    ],
)
def test_concat_udh(reference: int, total: int, seq: int, udh_hex: str) -> None:
    assert concat_udh(reference, total, seq) == bytes.fromhex(udh_hex)


@pytest.mark.parametrize(
    ("reference", "total", "seq"),
    [(-1, 2, 1), (0x10000, 2, 1), (1, 1, 1), (1, 256, 1), (1, 2, 0), (1, 2, 3)],
)
def test_concat_udh_rejects_impossible_parts(reference: int, total: int, seq: int) -> None:
    with pytest.raises(ValueError):
        concat_udh(reference, total, seq)


@given(
    reference=st.integers(0, 0xFFFF),
    total_and_seq=st.integers(2, 255).flatmap(lambda t: st.tuples(st.just(t), st.integers(1, t))),
)
def test_concat_udh_round_trips(reference: int, total_and_seq: tuple[int, int]) -> None:
    total, seq = total_and_seq
    udh = concat_udh(reference, total, seq)
    assert parse_concat(udh) == ConcatPart(reference=reference, total=total, seq=seq)
    assert parse_concat_hex(udh.hex().upper()) == parse_concat(udh)
