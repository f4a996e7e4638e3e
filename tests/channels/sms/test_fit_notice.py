"""Fitting a message to the citizen into one SMS of at most three segments."""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from channels.sms.segments import encoding_for, segment_count
from channels.sms.texts import MAX_NOTICE_SEGMENTS, fit_notice
from config.profile import Profile, load_profile

PROFILE: Profile = load_profile("ketapang")
STATUS_URL = "https://lapor.ketapangkab.go.id/status/K7M2XQ9PD"
MORE = PROFILE.message("sms.answer_more", status_url=STATUS_URL)

# Written out here rather than taken from the module: what each typographic character
# must become for the text to stay GSM 7-bit.
TYPOGRAPHY = {
    "\u2018": "'",  # left single quote
    "\u2019": "'",  # right single quote
    "\u201c": '"',  # left double quote
    "\u201d": '"',  # right double quote
    "\u2013": "-",  # en dash
    "\u2014": "-",  # em dash
    "\u2026": "...",  # ellipsis
}

SENTENCE = (
    "Jalan di Kecamatan Delta Pawan akan ditambal oleh tim Dinas Pekerjaan Umum dan "
    "Penataan Ruang pada pekan depan setelah survei lokasi selesai dilakukan. "
)
LONG_ANSWER = "LAPOR! K7M2XQ9PD, jawaban PUPR: Perihal: Jalan rusak " + SENTENCE * 8


def cleaned(text: str) -> str:
    """The text as fit_notice sends it before any cut: typography replaced, whitespace
    collapsed to single spaces."""
    for char, replacement in TYPOGRAPHY.items():
        text = text.replace(char, replacement)
    return " ".join(text.split())


def assert_cut_at_a_word(result: str, text: str) -> None:
    """The result is a whole-word prefix of the cleaned text followed by the link."""
    whole = cleaned(text)
    assert result.endswith(MORE)
    head = result[: -len(MORE)]
    assert head
    assert whole.startswith(head)
    assert len(head) < len(whole)
    assert whole[len(head)] == " "
    assert not head.endswith(" ")


def test_short_text_comes_back_whole() -> None:
    """A text that fits is sent as it is, with its whitespace collapsed."""
    text = "  LAPOR! K7M2XQ9PD:\n\nlaporan Anda\tsedang   ditindaklanjuti.  "
    assert fit_notice(text, STATUS_URL, PROFILE) == (
        "LAPOR! K7M2XQ9PD: laporan Anda sedang ditindaklanjuti."
    )


def test_text_of_exactly_three_segments_is_not_cut() -> None:
    text = "a" * 459
    assert fit_notice(text, STATUS_URL, PROFILE) == text


@pytest.mark.parametrize(("char", "replacement"), list(TYPOGRAPHY.items()))
def test_typography_becomes_gsm(char: str, replacement: str) -> None:
    """A word processor's quotes, dashes and ellipsis would make the SMS UCS-2."""
    text = f"Jalan {char}Merdeka{char} diperbaiki"
    result = fit_notice(text, STATUS_URL, PROFILE)
    assert result == f"Jalan {replacement}Merdeka{replacement} diperbaiki"
    assert encoding_for(result) == "gsm7"


def test_all_typography_together_is_gsm() -> None:
    text = "\u201cJalan\u201d \u2018rusak\u2019 \u2013 sudah \u2014 ditambal\u2026"
    result = fit_notice(text, STATUS_URL, PROFILE)
    assert result == "\"Jalan\" 'rusak' - sudah - ditambal..."
    assert encoding_for(result) == "gsm7"


def test_long_text_is_cut_at_a_word_and_links_to_the_status_page() -> None:
    """An answer of eight sentences is cut to three segments ending with the link."""
    assert segment_count(cleaned(LONG_ANSWER)) > MAX_NOTICE_SEGMENTS
    result = fit_notice(LONG_ANSWER, STATUS_URL, PROFILE)
    assert segment_count(result) <= MAX_NOTICE_SEGMENTS
    assert encoding_for(result) == "gsm7"
    assert_cut_at_a_word(result, LONG_ANSWER)
    # Not cut needlessly short: most of three segments is used.
    assert len(result) > 400


def test_long_text_with_typography_is_cleaned_before_cutting() -> None:
    text = ("\u201cJalan\u201d \u2013 " + SENTENCE + "\u2026 ") * 6
    result = fit_notice(text, STATUS_URL, PROFILE)
    assert segment_count(result) <= MAX_NOTICE_SEGMENTS
    assert encoding_for(result) == "gsm7"
    assert_cut_at_a_word(result, text)


def test_long_text_with_an_emoji_fits_three_ucs2_segments() -> None:
    """An emoji makes the whole SMS UCS-2 (67 units a part): still at most three."""
    text = "Terima kasih \U0001f600 " + SENTENCE * 3
    result = fit_notice(text, STATUS_URL, PROFILE)
    assert encoding_for(result) == "ucs2"
    assert segment_count(result) <= MAX_NOTICE_SEGMENTS
    assert_cut_at_a_word(result, text)
    assert "\U0001f600" in result


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(string.ascii_letters + " "), max_size=1200))
def test_letters_and_spaces_always_fit(text: str) -> None:
    """Whatever the letters and spaces, the result is at most three segments, and it is
    either the whole cleaned text or a prefix of it followed by the link."""
    result = fit_notice(text, STATUS_URL, PROFILE)
    assert segment_count(result) <= MAX_NOTICE_SEGMENTS
    whole = cleaned(text)
    if result != whole:
        assert result.endswith(MORE)
        assert whole.startswith(result[: -len(MORE)])
