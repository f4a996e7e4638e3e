"""Cutting an outgoing text into SMS segments."""

from __future__ import annotations

import pytest
from gsm0338 import Codec
from hypothesis import given
from hypothesis import strategies as st

from channels.sms.encoding import decode_gsm7
from channels.sms.segments import (
    GSM7_PART,
    GSM7_SINGLE,
    UCS2_PART,
    UCS2_SINGLE,
    Encoding,
    encoding_for,
    segment_count,
    septet_length,
    split_segments,
)

# The gsm0338 encoder is the independent yardstick: what it produces is what goes on air.
GSM = Codec()


def gsm_septets(part: str) -> bytes:
    encoded: bytes = GSM.encode(part)[0]
    return encoded


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        pytest.param("Jalan rusak", "gsm7", id="plain"),
        pytest.param("café @ Jl. Merdeka", "gsm7", id="e-acute-and-at"),
        pytest.param("Harga €5 [lunas] {ok} ^~\\|", "gsm7", id="extension-table"),
        pytest.param("baris\nbaru\x0c", "gsm7", id="line-feed-and-page-break"),
        pytest.param("", "gsm7", id="empty"),
        pytest.param("Terima kasih 😀", "ucs2", id="emoji"),
        pytest.param("“Jalan rusak”", "ucs2", id="curly-quotes"),
        pytest.param("ç", "ucs2", id="small-c-cedilla-not-in-gsm"),
        pytest.param("\x1b", "ucs2", id="raw-escape-is-no-character"),
    ],
)
def test_encoding_for(text: str, encoding: Encoding) -> None:
    assert encoding_for(text) == encoding


@pytest.mark.parametrize(
    ("text", "septets"),
    [("Jalan", 5), ("€", 2), ("{}", 4), ("\x0c", 2), ("café", 4), ("", 0)],
)
def test_septet_length(text: str, septets: int) -> None:
    assert septet_length(text) == septets


def test_septet_length_refuses_non_gsm_text() -> None:
    with pytest.raises(ValueError, match="U\\+1F600"):
        septet_length("Terima kasih 😀")


@pytest.mark.parametrize(
    ("text", "part_lengths"),
    [
        pytest.param("a" * 160, [160], id="gsm-160-fits"),
        pytest.param("a" * 161, [153, 8], id="gsm-161-splits"),
        pytest.param("a" * 158 + "€", [159], id="gsm-160-septets-with-euro"),
        pytest.param("a" * 159 + "€", [153, 7], id="gsm-161-septets-with-euro"),
        pytest.param("a" * 152 + "€" + "a" * 10, [152, 11], id="escape-pair-not-split"),
        pytest.param("a" * 306 + "b", [153, 153, 1], id="gsm-three-parts"),
        pytest.param("ç" * 70, [70], id="ucs2-70-fits"),
        pytest.param("ç" * 71, [67, 4], id="ucs2-71-splits"),
        pytest.param("😀" * 35, [35], id="ucs2-35-emoji-are-70-units"),
        pytest.param("😀" * 36, [33, 3], id="surrogate-pair-not-split"),
        pytest.param("ç" * 66 + "😀" + "ç" * 3, [66, 4], id="emoji-at-the-cut"),
    ],
)
def test_split_segments_lengths(text: str, part_lengths: list[int]) -> None:
    parts = split_segments(text)
    assert [len(part) for part in parts] == part_lengths
    assert "".join(parts) == text


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        pytest.param(
            "a" * 150 + " " + "b" * 20, ["a" * 150 + " ", "b" * 20], id="cut-after-near-space"
        ),
        pytest.param(
            "a" * 130 + " " + "b" * 40,
            ["a" * 130 + " " + "b" * 22, "b" * 18],
            id="space-too-far-back-cut-hard",
        ),
        pytest.param(
            "a" * 153 + " " + "b" * 10, ["a" * 153, " " + "b" * 10], id="hard-cut-on-boundary"
        ),
        pytest.param("😀" * 30 + " " + "ç" * 40, ["😀" * 30 + " ", "ç" * 40], id="ucs2-near-space"),
    ],
)
def test_split_segments_prefers_a_space(text: str, parts: list[str]) -> None:
    assert split_segments(text) == parts


def test_long_indonesian_reply_splits_between_words() -> None:
    text = (
        "Terima kasih, laporan Anda tentang jalan rusak di Jl. Merdeka sudah kami terima "
        "dengan nomor LPR-2024-000123. Petugas Dinas PUPR akan memeriksa lokasi dalam tiga "
        "hari kerja. Balas STATUS LPR-2024-000123 untuk melihat perkembangan laporan Anda."
    )
    parts = split_segments(text)
    assert len(parts) == 2
    assert parts[0].endswith(" ")
    assert not parts[1].startswith(" ")
    assert "".join(parts) == text


@pytest.mark.parametrize(
    ("text", "count"),
    [("", 1), ("Jalan rusak", 1), ("a" * 161, 2), ("a" * 459, 3), ("a" * 460, 4), ("😀" * 36, 2)],
)
def test_segment_count(text: str, count: int) -> None:
    assert segment_count(text) == count


GSM_TEXT = st.text(alphabet=st.sampled_from("abc XYZ 019.,\n@éΔ€[]{}^~\\|"), max_size=800)
ANY_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from("abc XYZ €{}"),
        st.sampled_from("😀👍🏽👨\u200d👩\u200d👧ç“”"),
        st.characters(exclude_categories=["Cs"]),
    ),
    max_size=400,
)


@given(GSM_TEXT)
def test_gsm_parts_fit_and_stand_alone(text: str) -> None:
    parts = split_segments(text)
    limit = GSM7_SINGLE if len(parts) == 1 else GSM7_PART
    assert "".join(parts) == text
    for part in parts:
        septets = gsm_septets(part)
        assert len(septets) <= limit
        # A part that ended inside an escape pair would not decode back to itself.
        assert decode_gsm7(septets) == part
        assert len(parts) == 1 or part


@given(ANY_TEXT)
def test_ucs2_parts_fit_and_stand_alone(text: str) -> None:
    parts = split_segments(text)
    assert "".join(parts) == text
    if encoding_for(text) == "gsm7":
        return
    limit = UCS2_SINGLE if len(parts) == 1 else UCS2_PART
    for part in parts:
        utf16 = part.encode("utf-16-be", "surrogatepass")
        assert len(utf16) // 2 <= limit
        # A part cut inside a surrogate pair would hold a lone surrogate.
        assert utf16.decode("utf-16-be") == part
        assert len(parts) == 1 or part


def size(text: str) -> int:
    if encoding_for(text) == "gsm7":
        return len(gsm_septets(text))
    return len(text.encode("utf-16-le")) // 2


@given(st.one_of(GSM_TEXT, ANY_TEXT))
def test_one_segment_iff_it_fits_and_parts_are_nearly_full(text: str) -> None:
    parts = split_segments(text)
    single, part_limit = (
        (GSM7_SINGLE, GSM7_PART) if encoding_for(text) == "gsm7" else (UCS2_SINGLE, UCS2_PART)
    )
    assert (len(parts) == 1) == (size(text) <= single)
    assert segment_count(text) == len(parts)
    # A cut moves back at most ~15 characters (2 septets or units each) to find a space,
    # and a hard cut wastes at most 1 when the next character costs 2.
    for part in parts[:-1]:
        assert size(part) >= part_limit - 1 - 2 * 15
