from __future__ import annotations

import random
import secrets

import pytest
from hypothesis import given
from hypothesis import strategies as st

from normalizer.tracking import (
    ALPHABET,
    TRACKING_ID_LENGTH,
    InvalidTrackingId,
    generate_tracking_id,
    is_valid_tracking_id,
    parse_tracking_id,
)

rngs = st.randoms(use_true_random=False)
data_symbols = st.text(alphabet=ALPHABET, min_size=8, max_size=8)


def _reason(text: str) -> str:
    with pytest.raises(InvalidTrackingId) as caught:
        parse_tracking_id(text)
    return caught.value.reason


def test_alphabet_is_31_unambiguous_symbols() -> None:
    assert len(ALPHABET) == len(set(ALPHABET)) == 31
    assert not set("01OIU") & set(ALPHABET)


@given(rngs)
def test_generated_ids_are_valid(rng: random.Random) -> None:
    tracking_id = generate_tracking_id(rng)
    assert len(tracking_id) == TRACKING_ID_LENGTH == 9
    assert set(tracking_id) <= set(ALPHABET)
    assert parse_tracking_id(tracking_id) == tracking_id
    assert is_valid_tracking_id(tracking_id)


@given(rngs)
def test_every_single_substitution_is_rejected(rng: random.Random) -> None:
    tracking_id = generate_tracking_id(rng)
    for position, original in enumerate(tracking_id):
        for symbol in ALPHABET.replace(original, ""):
            typo = tracking_id[:position] + symbol + tracking_id[position + 1 :]
            assert _reason(typo) == "checksum", typo


@given(rngs)
def test_every_adjacent_swap_of_different_symbols_is_rejected(rng: random.Random) -> None:
    tracking_id = generate_tracking_id(rng)
    for i in range(TRACKING_ID_LENGTH - 1):
        left, right = tracking_id[i], tracking_id[i + 1]
        if left == right:
            continue
        swapped = tracking_id[:i] + right + left + tracking_id[i + 2 :]
        assert _reason(swapped) == "checksum", swapped


@given(data_symbols)
def test_exactly_one_check_symbol_completes_any_data(data: str) -> None:
    valid = [c for c in ALPHABET if is_valid_tracking_id(data + c)]
    assert len(valid) == 1


@given(rngs, st.sampled_from(["-", " ", " - ", "  "]))
def test_lower_case_and_separators_are_tolerated(rng: random.Random, separator: str) -> None:
    tracking_id = generate_tracking_id(rng)
    typed = separator.join([tracking_id[:3], tracking_id[3:6], tracking_id[6:]]).lower()
    assert parse_tracking_id(f"  {typed}\n") == tracking_id


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "ABCDEFGH",  # too short
        "ABCDEFGHJK",  # too long
        "0BCDEFGHJ",  # zero is not in the alphabet
        "OBCDEFGHJ",  # nor is the letter O
        "1BCDEFGHJ",
        "IBCDEFGHJ",
        "UBCDEFGHJ",
        "ABCD_EFGH",
        "ABCDEFGH\u017f",  # long s upper-cases to S; look-alikes are not accepted
        "ABCDEFGHJ\u200b",
    ],
)
def test_wrong_length_or_symbols_is_a_format_error(text: str) -> None:
    assert _reason(text) == "format"
    assert not is_valid_tracking_id(text)


def test_corrupted_check_symbol_is_a_checksum_error() -> None:
    tracking_id = generate_tracking_id(random.Random(7))
    wrong = ALPHABET[(ALPHABET.index(tracking_id[-1]) + 1) % len(ALPHABET)]
    assert _reason(tracking_id[:-1] + wrong) == "checksum"


def test_invalid_tracking_id_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="format"):
        parse_tracking_id("nope")


def test_generation_draws_from_the_rng_it_is_given() -> None:
    first = [generate_tracking_id(random.Random(2024)) for _ in range(3)]
    assert len(set(first)) == 1
    rng = random.Random(2024)
    assert generate_tracking_id(rng) == first[0]
    assert generate_tracking_id(rng) != first[0]  # the rng moved on
    assert generate_tracking_id(random.Random(2025)) != first[0]


def test_system_random_is_accepted() -> None:
    assert is_valid_tracking_id(generate_tracking_id(secrets.SystemRandom()))
