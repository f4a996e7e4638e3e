"""A first guess at a complaint's category from the keywords in the regency's profile.

The rule. Text and keywords are cut into words: letters and digits, with inner hyphens
("e-ktp"). Snowball's Indonesian stemmer (PyStemmer) reduces each word to its stem
("diperbaiki" and "perbaikan" to "baik", "berlubang" to "lubang", "airnya" to "air"); a
reduplication, written out or with a 2, is its first half ("anak2" and "anak-anak" as
"anak", "mabuk2an" as "mabuk"). Keywords
are stemmed the same way, so a keyword and the text meet on the same stem even where the
stemmer cuts a nasalised word short ("menumpuk" to "umpuk", in both). A word keeps its
stem only if it shows it: the stem itself, or with its first letter turned nasal by
meN-/peN- ("menumpuk" shows "tumpuk" as "numpuk"), or with an infix after that letter;
otherwise the word is its own stem, which lets the fast path below look only for those
forms.

A keyword is mentioned when all its stems occur in one sentence within WINDOW consecutive
words, in any order: "Jalan di Desa Sungai Kinjil rusak" mentions "jalan rusak". Sentences
end at ! ? ; a line break, or a full stop followed by a space, except after an
abbreviation such as "Jl." or "Kec.".

The category whose keywords weigh most wins, ties going to the category listed first in
the profile. Each distinct keyword counts once, by its number of stems, so "jalan rusak"
outweighs a lone "jalan"; a keyword whose words are spread out, or out of order, counts
half a word less than the same keyword written as a phrase.
"""

from __future__ import annotations

import re
import weakref
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import ahocorasick
import Stemmer

from config.profile import Profile

# How many consecutive words a keyword's stems may spread over. The smallest window that
# gets the most of the labelled complaints (tests/normalizer/data/) right: 6 words lose 4
# of them ("jalan desa kami yg sdh bertahun2 tdk pernah diperbaiki" needs 8), and any
# window from 10 up to the whole sentence gets the same ones right.
WINDOW = 10

# Distinct words whose stem is kept, by the stemmer and by each profile's matcher: each
# word is stemmed once; at about 150 bytes a word, each cache stays under 10 MB.
STEM_CACHE_SIZE = 65536

# A word, or a sentence end (a full stop only when a space or the end follows it, so
# "50.000" and "3.5" stay inside a sentence). The text is casefolded first.
_TOKEN = re.compile(r"[^\W_]++(?:-[^\W_]++)*+|[!?;\n]|\.(?!\S)")  # possessive: faster
_ENDS = frozenset("!?;\n.")
# A full stop after one of these ends the abbreviation, not the sentence.
_ABBREVIATIONS = frozenset(
    {
        *("jl", "jln", "gg", "kp", "komp", "perum", "no", "rt", "rw"),  # addresses
        *("ds", "dsn", "kel", "kec", "kab"),  # desa, dusun, kelurahan, kecamatan, kabupaten
        *("yth", "bp", "bpk", "ibu", "sdr", "dr", "drs", "ir", "h", "hj"),  # titles
        *("pt", "cv", "rp", "tlp", "telp", "hp"),
    }
)
# "anak2" is read "anak-anak", "mabuk2an" "mabuk-mabukan".
_REDUPLICATED = re.compile(r"([^\W\d_]{2,})2([^\W\d_]*)")
# The stemmer's rules are for letters with inner hyphens; any other word is its own stem.
_STEMMABLE = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
_LONGEST_STEMMED = 40  # a longer "word" is junk, not worth the stemmer's time


@dataclass(frozen=True)
class Keyword:
    code: str  # its category's code
    stems: tuple[str, ...]  # distinct, in the keyword's order


@dataclass(frozen=True)
class Matcher:
    """A profile's keywords, stemmed once, and what a complaint's words are to them.

    `seen` holds each word met (as `words_of` gives it) with its stem when that is a
    keyword's stem, else "": most words of a complaint cost one look-up. A word not met
    yet is stemmed only if it shows a form of some keyword's stem (`_forms`), which
    `probes` finds in one pass over the word; by the rule, a word that shows none has no
    keyword's stem, so names, numbers and typos never reach the stemmer."""

    keywords: tuple[Keyword, ...]
    # Each keyword stem -> the categories with it as a one-word keyword, and the longer
    # keywords anchored on it: the stem of theirs that the fewest keywords have. A keyword
    # is not mentioned without its anchor, so a text with "air" weighs only the keywords
    # whose other stems are rarer still, not all fifteen that hold "air".
    single: dict[str, tuple[str, ...]]
    anchored: dict[str, tuple[Keyword, ...]]
    rank: dict[str, int]  # category code -> its place in the profile, for ties
    known: dict[str, str]  # the keywords' own words -> their stems
    seen: dict[str, str]  # bounded: back to `known` when it reaches STEM_CACHE_SIZE
    probes: ahocorasick.Automaton | None  # the forms of the stems; None: no keyword


def guess_category(text: str, profile: Profile) -> str | None:
    """The category whose keywords the text mentions most, or None when it mentions none.

    The rule is in the module's docstring. Stemming every word (`stem_word`) and weighing
    every keyword (`mention_weight`) gives the same answer, more slowly."""
    matcher = _matcher_of(profile)
    if matcher.probes is None:
        return None
    seen = matcher.seen
    at: dict[str, list[int]] = {}  # keyword stem -> its positions in the text
    # _positions() inline: a generator costs a fifth of the whole guess.
    position = 0
    previous = ""
    for token in _TOKEN.findall(text.casefold()):
        if token in _ENDS:
            if token != "." or previous not in _ABBREVIATIONS:
                position += WINDOW
        else:
            stem = seen.get(token)
            if stem is None:
                stem = _meet(matcher, token)
            if stem:
                if stem in at:
                    at[stem].append(position)
                else:
                    at[stem] = [position]
            position += 1
        previous = token
    if not at:
        return None
    scores: dict[str, int] = {}
    for stem in at:
        for code in matcher.single[stem]:
            scores[code] = scores.get(code, 0) + 2
        for keyword in matcher.anchored[stem]:
            weight = mention_weight(keyword, at)
            if weight:
                scores[keyword.code] = scores.get(keyword.code, 0) + weight
    if not scores:
        return None
    rank = matcher.rank
    return max(scores, key=lambda code: (scores[code], -rank[code]))


def _meet(matcher: Matcher, word: str) -> str:
    """The word's stem if it is a keyword's, else "", remembered."""
    stem = ""
    assert matcher.probes is not None
    if next(matcher.probes.iter(word), None) is not None:
        stem = _stem(word)
        if stem not in matcher.single:
            stem = ""
    if len(matcher.seen) >= STEM_CACHE_SIZE:
        matcher.seen.clear()
        matcher.seen.update(matcher.known)
    matcher.seen[word] = stem
    return stem


def prepare(profile: Profile) -> None:
    """Load the stemmer and stem the profile's keywords now (about 50 ms) rather than on
    the first complaint, and before start-up objects are frozen."""
    _matcher_of(profile)


def words_of(text: str) -> Iterator[tuple[int, str]]:
    """The text's words, casefolded, each with its position: consecutive within a sentence
    and more than WINDOW apart across a sentence end."""
    return _positions(text.casefold())


def stem_word(word: str) -> str:
    """The stem of a word as `words_of` gives it (remembered for the next time)."""
    return _stem(word)


def stemmed_keywords(profile: Profile) -> tuple[Keyword, ...]:
    """The profile's keywords as the rule sees them: stemmed, in profile order, a set of
    stems listed twice in one category kept once."""
    return _matcher_of(profile).keywords


def mention_weight(keyword: Keyword, at: Mapping[str, Sequence[int]]) -> int:
    """What the keyword weighs, in half words, given each stem's positions in the text
    (ascending): 0 when it is not mentioned; 2 per stem when its stems stand next to each
    other in its order; one less when they are only within WINDOW words."""
    for stem in keyword.stems:
        if not at.get(stem):
            return 0
    lists = [at[stem] for stem in keyword.stems]
    full = 2 * len(lists)
    first, *rest = lists
    if not rest or any(all(p + j in ps for j, ps in enumerate(rest, 1)) for p in first):
        return full
    # The narrowest span with a position of each stem: walk all positions in order,
    # keeping each stem's latest (texts are short, and keywords have 2 to 4 stems).
    events = sorted((p, j) for j, positions in enumerate(lists) for p in positions)
    latest: dict[int, int] = {}
    for p, j in events:
        latest[j] = p
        if len(latest) == len(lists) and p - min(latest.values()) < WINDOW:
            return full - 1
    return 0


def _positions(folded: str) -> Iterator[tuple[int, str]]:
    position = 0
    previous = ""
    for token in _TOKEN.findall(folded):  # as guess_category() does it inline
        if token in _ENDS:
            if token != "." or previous not in _ABBREVIATIONS:
                position += WINDOW
        else:
            yield position, token
            position += 1
        previous = token


# -- stems ---------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    # Snowball's, not Sastrawi's: Sastrawi's root-word dictionary is licensed CC BY-NC-SA,
    # which an open-source service deployed by paid vendors cannot carry.
    return Stemmer.Stemmer("indonesian")


@lru_cache(maxsize=STEM_CACHE_SIZE)
def _stem(word: str) -> str:
    twice = _REDUPLICATED.fullmatch(word) if "2" in word else None
    read = f"{twice[1]}-{twice[1]}{twice[2]}" if twice else word  # "anak2": "anak-anak"
    if len(read) > _LONGEST_STEMMED or _STEMMABLE.fullmatch(read) is None:
        return word
    first, _, rest = read.partition("-")
    if rest.startswith(first):  # a plural or repetition ("anak-anak", "mabuk-mabukan")
        read = first
    stem: str = _stemmer().stemWord(read) or read
    if any(form in word for form in _forms(stem)):
        return stem
    # The stem is not one of the forms the fast path looks for in a word: by the rule,
    # the word is its own stem, so both paths agree.
    return word


# The first letter that meN- and peN- turn into a nasal: tulis/menulis, sapu/menyapu,
# pukul/memukul, kirim/mengirim.
_NASAL = {"t": "n", "s": "ny", "p": "m", "k": "ng"}
# Infixes after the first letter: telunjuk/tunjuk, gemetar/getar, sinambung/sambung.
_INFIXES = ("", "el", "em", "er", "in")


def _forms(stem: str) -> tuple[str, ...]:
    """What a word whose stem this is shows: the stem, perhaps with its first letter turned
    nasal by meN- or peN- ("menumpuk" shows "numpuk") and an infix after that letter."""
    heads = [stem[:1]]
    if stem[:1] in _NASAL:
        heads.append(_NASAL[stem[0]])
    forms = [head + infix + stem[1:] for head in heads for infix in _INFIXES]
    return tuple(dict.fromkeys(forms))


# -- the profile's matcher -----------------------------------------------------------------

# Per profile object, by identity: a Profile holds lists, so it cannot be hashed, and a
# key built from its content would cost more to hash than the scan, on every complaint.
# The profile is frozen, so its matcher is too.
_BY_PROFILE: dict[int, tuple[weakref.ref[Profile], Matcher]] = {}


def _matcher_of(profile: Profile) -> Matcher:
    known = _BY_PROFILE.get(id(profile))
    if known is not None and known[0]() is profile:
        return known[1]
    matcher = _matcher(profile)
    _BY_PROFILE[id(profile)] = (weakref.ref(profile), matcher)
    weakref.finalize(profile, _BY_PROFILE.pop, id(profile), None)
    return matcher


def _matcher(profile: Profile) -> Matcher:
    keywords: list[Keyword] = []
    known: dict[str, str] = {}
    for category in profile.categories:
        seen: set[frozenset[str]] = set()
        for phrase in category.keywords:
            words = [word for _, word in _positions(phrase.casefold())]
            for word in words:
                known.setdefault(word, _stem(word))
            stems = tuple(dict.fromkeys(known[word] for word in words))
            if stems and frozenset(stems) not in seen:
                seen.add(frozenset(stems))
                keywords.append(Keyword(category.code, stems))
    if not keywords:
        return Matcher((), {}, {}, {}, {}, {}, None)
    keywords_with = Counter(stem for keyword in keywords for stem in keyword.stems)
    single: dict[str, list[str]] = {stem: [] for stem in keywords_with}
    anchored: dict[str, list[Keyword]] = {stem: [] for stem in keywords_with}
    for keyword in keywords:
        if len(keyword.stems) == 1:
            single[keyword.stems[0]].append(keyword.code)
        else:
            anchored[min(keyword.stems, key=keywords_with.__getitem__)].append(keyword)
    probes = ahocorasick.Automaton()
    for form in {form for stem in keywords_with for form in _forms(stem)}:
        probes.add_word(form, form)
    probes.make_automaton()
    return Matcher(
        keywords=tuple(keywords),
        single={stem: tuple(codes) for stem, codes in single.items()},
        anchored={stem: tuple(anchors) for stem, anchors in anchored.items()},
        rank={category.code: i for i, category in enumerate(profile.categories)},
        known=known,
        seen=dict(known),
        probes=probes,
    )
