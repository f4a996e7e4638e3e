"""Complaint text as it arrives from phones, e-mail clients and web browsers, made tidy."""

from __future__ import annotations

import re
import unicodedata

ZWJ = "\u200d"
_KEEP_CONTROLS = frozenset("\n\t")
_BLANK_RUN = re.compile(r"\n{3,}")
# In ASCII the only invisible characters are controls (Cc) other than \n and \t, and the
# line breaks splitlines() knows besides \n are \r\n, \r, \v, \f and \x1c-\x1e.
_ASCII_BREAKS = re.compile(r"\r\n|[\r\x0b\x0c\x1c-\x1e]")
_ASCII_INVISIBLE = re.compile(r"[\x00-\x08\x0e-\x1b\x1f\x7f]")


def clean_text(raw: str | bytes) -> str:
    """Readable, comparable text: same words, no invisible junk, tidy whitespace."""
    text = raw.decode("utf-8", errors="ignore") if isinstance(raw, bytes) else raw
    if text.isascii():
        # Most complaints: the same steps without a Python-level look at each character
        # (ASCII has no surrogates, no format characters, and is already NFC).
        text = _ASCII_INVISIBLE.sub("", _ASCII_BREAKS.sub("\n", text))
        return _tidy(text)
    text = _drop_lone_surrogates(text)
    # splitlines() knows every line break (CRLF, CR, form feed, NEL, U+2028...), so each
    # becomes \n here rather than vanishing as a control character and gluing words.
    text = "\n".join(text.splitlines())
    text = "".join(ch for ch in text if _visible(ch))
    # NFC after the invisible characters are gone: a zero-width space between a letter
    # and its combining accent would otherwise block composition.
    text = unicodedata.normalize("NFC", text)
    return _tidy(text)


def _tidy(text: str) -> str:
    """Runs of spaces as one, at most one blank line in a row, nothing around."""
    lines = (" ".join(line.split()) for line in text.split("\n"))
    return _BLANK_RUN.sub("\n\n", "\n".join(lines)).strip()


def _drop_lone_surrogates(text: str) -> str:
    # A UTF-16 round trip joins surrogate pairs that a sloppy decoder left split (so the
    # emoji survives) and drops the unpaired halves, which cannot be stored as UTF-8.
    return text.encode("utf-16-le", errors="surrogatepass").decode("utf-16-le", errors="ignore")


def _visible(ch: str) -> bool:
    category = unicodedata.category(ch)
    if category == "Cc":
        return ch in _KEEP_CONTROLS
    if category == "Cf":
        # ZWJ glues emoji sequences (👨‍👩‍👧); other format characters hide or reorder text.
        return ch == ZWJ
    return True
