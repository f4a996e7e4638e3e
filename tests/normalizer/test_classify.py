from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config.profile import Profile, load_profile
from normalizer.classify import _compile_all, guess_category
from tests.profiles import make_profile


@pytest.fixture(scope="module")
def profile() -> Profile:
    return small_profile()


def small_profile() -> Profile:
    return make_profile(
        [
            {
                "code": "jalan_rusak",
                "agency": "DPUPR",
                "keywords": ["jalan rusak", "jalan berlubang", "aspal", "jembatan"],
            },
            {"code": "kesehatan", "agency": "DINKES", "keywords": ["puskesmas", "bpjs", "obat"]},
            {"code": "pungli", "agency": "INSPEKTORAT", "keywords": ["pungli", "bos", "e-ktp"]},
            {"code": "penerangan", "agency": "DISHUB", "keywords": ["lampu jalan", "jalan"]},
            {"code": "sampah", "agency": "DLH", "keywords": []},
        ]
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Aspal di depan sekolah mengelupas", "jalan_rusak"),
        ("PUSKESMAS tutup sejak pagi", "kesehatan"),
        ("Obat habis, BPJS ditolak", "kesehatan"),
        ("Ada pungli di kantor desa", "pungli"),
        ("Dana BOS dipotong kepala sekolah", "pungli"),
        ("Pembuatan e-KTP dimintai uang", "pungli"),
        ("Lampu jalan mati sebulan", "penerangan"),
        # phrases may span line breaks and repeated spaces
        ("Lampu\njalan   mati", "penerangan"),
        # punctuation around a keyword is not part of the word
        ("(puskesmas), bpjs.", "kesehatan"),
    ],
)
def test_keywords_pick_their_category(profile: Profile, text: str, expected: str) -> None:
    assert guess_category(text, profile) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Saya bosan menunggu",  # "bos" is not a word of "bosan"
        "Obatnya manjur",  # nor "obat" of "obatnya"
        "Pemasangan KTP elektronik",  # "e-ktp" needs its "e-"
        "Kampung kami banjir",
        "aspalan",
    ],
)
def test_no_whole_word_hit_gives_none(profile: Profile, text: str) -> None:
    assert guess_category(text, profile) is None


def test_longer_phrases_weigh_more(profile: Profile) -> None:
    # "jalan rusak" (2) beats the single word "jalan" (1) in another category
    assert guess_category("Jalan rusak parah", profile) == "jalan_rusak"


def test_distinct_keywords_count_not_repetitions(profile: Profile) -> None:
    # pungli: "pungli" once (1); kesehatan: "puskesmas" and "obat" (2)
    text = "pungli pungli pungli di puskesmas, obat dijual"
    assert guess_category(text, profile) == "kesehatan"


def test_tie_goes_to_the_category_listed_first() -> None:
    first = {"code": "air_bersih", "agency": "PDAM", "keywords": ["air"]}
    second = {"code": "banjir", "agency": "BPBD", "keywords": ["genangan"]}
    text = "air dan genangan di mana-mana"
    assert guess_category(text, make_profile([first, second])) == "air_bersih"
    assert guess_category(text, make_profile([second, first])) == "banjir"


def test_duplicate_keywords_count_once() -> None:
    profile = make_profile(
        [
            {"code": "dobel", "agency": "A1", "keywords": ["sinyal", "Sinyal", "sinyal "]},
            {"code": "dua", "agency": "A2", "keywords": ["internet", "wifi"]},
        ]
    )
    assert guess_category("sinyal internet wifi", profile) == "dua"


def test_profiles_with_the_same_key_do_not_share_keywords() -> None:
    one = make_profile([{"code": "satu", "agency": "A1", "keywords": ["kata"]}], key="sama")
    two = make_profile([{"code": "dua", "agency": "A2", "keywords": ["kata"]}], key="sama")
    assert guess_category("kata", one) == "satu"
    assert guess_category("kata", two) == "dua"


def test_regex_characters_in_keywords_are_literal() -> None:
    profile = make_profile([{"code": "harga", "agency": "A1", "keywords": ["rp.", "(tarif)"]}])
    assert guess_category("bayar rp. 50.000", profile) == "harga"
    assert guess_category("bayar rpx 50.000", profile) is None
    assert guess_category("naik (tarif) lagi", profile) == "harga"


# Ketapang's real keywords, and the small profile whose keywords share probes ("jalan").
PROFILES = (load_profile("ketapang"), small_profile())
_WORDS = sorted({w for p in PROFILES for c in p.categories for k in c.keywords for w in k.split()})


def _every_pattern(text: str, profile: Profile) -> str | None:
    """The guess without the automaton: every keyword's pattern searched."""
    scores: dict[str, int] = {}
    for category in profile.categories:
        for pattern, weight, _ in _compile_all(category.keywords):
            if pattern.search(text) is not None:
                scores[category.code] = scores.get(category.code, 0) + weight
    return max(scores, key=scores.__getitem__) if scores else None


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(_WORDS),
            st.sampled_from(_WORDS).map(str.upper),
            st.sampled_from(_WORDS).map(lambda w: w[1:] + "x"),  # a keyword's word, mangled
            st.text(max_size=8),
        ),
        max_size=12,
    ),
    st.sampled_from([" ", "  ", "\n", ", ", "-", ""]),
)
def test_the_automaton_finds_what_searching_every_keyword_finds(
    parts: list[str], separator: str
) -> None:
    text = separator.join(parts)
    for profile in PROFILES:
        assert guess_category(text, profile) == _every_pattern(text, profile)
