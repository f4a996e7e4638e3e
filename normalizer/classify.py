"""A first guess at a complaint's category from the keywords in the regency's profile."""

from __future__ import annotations

import re
from functools import lru_cache

from config.profile import Profile

# (category code, its keywords) in profile order; a plain tuple because Profile holds
# lists and is therefore not hashable, and keying on content never serves a stale cache.
CategoryKeywords = tuple[tuple[str, tuple[str, ...]], ...]
Matcher = tuple[tuple[str, tuple[tuple[re.Pattern[str], int], ...]], ...]


def guess_category(text: str, profile: Profile) -> str | None:
    """The category whose keywords the text mentions most, or None when none is mentioned.

    Each distinct keyword counts once, weighted by its number of words, so "jalan rusak"
    outweighs a lone "jalan". Ties go to the category listed first in the profile.
    """
    best: str | None = None
    best_score = 0
    for code, patterns in _matcher(_keywords(profile)):
        score = sum(weight for pattern, weight in patterns if pattern.search(text))
        if score > best_score:
            best, best_score = code, score
    return best


def _keywords(profile: Profile) -> CategoryKeywords:
    return tuple((c.code, tuple(c.keywords)) for c in profile.categories)


@lru_cache(maxsize=16)
def _matcher(categories: CategoryKeywords) -> Matcher:
    return tuple((code, _compile_all(keywords)) for code, keywords in categories)


def _compile_all(keywords: tuple[str, ...]) -> tuple[tuple[re.Pattern[str], int], ...]:
    # The same phrase listed twice (or in two spellings of case or spacing) is one keyword.
    phrases: dict[tuple[str, ...], tuple[str, ...]] = {}
    for keyword in keywords:
        words = tuple(keyword.split())
        if words:
            phrases.setdefault(tuple(w.casefold() for w in words), words)
    return tuple((_compile(words), len(words)) for words in phrases.values())


def _compile(words: tuple[str, ...]) -> re.Pattern[str]:
    # Look-arounds rather than \b, so keywords that begin or end with punctuation
    # ("e-ktp", "bpjs.") still need a whole word, and "bos" never matches "bosan".
    body = r"\s+".join(re.escape(w) for w in words)
    return re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE)
