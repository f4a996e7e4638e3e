"""A first guess at a complaint's category from the keywords in the regency's profile."""

from __future__ import annotations

import re
import weakref
from collections.abc import Iterable
from dataclasses import dataclass

import ahocorasick

from config.profile import Profile


@dataclass(frozen=True)
class Matcher:
    """Every keyword of every category, in profile order, as (category code, pattern,
    weight); and an automaton that finds, in one pass over a casefolded text, each keyword
    whose longest word (casefolded: its probe) appears there, as indices into `keywords`."""

    keywords: tuple[tuple[str, re.Pattern[str], int], ...]
    probes: ahocorasick.Automaton | None  # None: the profile lists no keyword


def guess_category(text: str, profile: Profile) -> str | None:
    """The category whose keywords the text mentions most, or None when none is mentioned.

    Each distinct keyword counts once, weighted by its number of words, so "jalan rusak"
    outweighs a lone "jalan". Ties go to the category listed first in the profile.
    """
    # Most keywords are absent from a given text. The probe must appear in the casefolded
    # text for the pattern to match (casefold equates at least what IGNORECASE does), so
    # only the keywords whose probe the automaton finds are searched for.
    matcher = _matcher_of(profile)
    if matcher.probes is None:
        return None
    found = sorted({i for _, indices in matcher.probes.iter(text.casefold()) for i in indices})
    scores: dict[str, int] = {}  # in profile order, so max() breaks ties by it
    for code, pattern, weight in (matcher.keywords[i] for i in found):
        if pattern.search(text) is not None:
            scores[code] = scores.get(code, 0) + weight
    return max(scores, key=scores.__getitem__) if scores else None


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
    keywords: list[tuple[str, re.Pattern[str], int]] = []
    by_probe: dict[str, list[int]] = {}
    for category in profile.categories:
        for pattern, weight, probe in _compile_all(category.keywords):
            by_probe.setdefault(probe, []).append(len(keywords))
            keywords.append((category.code, pattern, weight))
    if not by_probe:
        return Matcher(tuple(keywords), None)
    probes = ahocorasick.Automaton()
    for probe, indices in by_probe.items():
        probes.add_word(probe, tuple(indices))
    probes.make_automaton()
    return Matcher(tuple(keywords), probes)


def _compile_all(keywords: Iterable[str]) -> list[tuple[re.Pattern[str], int, str]]:
    # The same phrase listed twice (or in two spellings of case or spacing) is one keyword.
    phrases: dict[tuple[str, ...], tuple[str, ...]] = {}
    for keyword in keywords:
        words = tuple(keyword.split())
        if words:
            phrases.setdefault(tuple(w.casefold() for w in words), words)
    return [
        (_compile(words), len(words), max((w.casefold() for w in words), key=len))
        for words in phrases.values()
    ]


def _compile(words: tuple[str, ...]) -> re.Pattern[str]:
    # Look-arounds rather than \b, so keywords that begin or end with punctuation
    # ("e-ktp", "bpjs.") still need a whole word, and "bos" never matches "bosan".
    body = r"\s+".join(re.escape(w) for w in words)
    return re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE)
