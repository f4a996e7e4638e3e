"""What a short text message asks for: a new complaint, a status, help, or a follow-up.

Citizens on SMS (and later Telegram or X) have no form, only the first word: `LAPOR …`,
`CEK <ID>`, `INFO`, `TAMBAH <ID> …` or just `<ID> …`, and to rate an answer `PUAS <ID>`
or `TIDAK PUAS <ID> <alasan>`. The first word is read in any
case and with any punctuation around it (`cek: k7m2-xq9pd`, `#LAPOR`), and anything that
is not a command is a complaint in the citizen's own words.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict

from normalizer.casework import CitizenReply
from normalizer.models import Channel, Complaint, ComplaintDraft, Flag, RawPayload, Reporter
from normalizer.tracking import InvalidTrackingId, parse_tracking_id

# The first word and the rest: letters (and digits, for a bare tracking ID) after any
# leading punctuation such as '#' or '*', then any run of spaces or punctuation.
_FIRST_WORD = re.compile(r"^[\W_]*(?P<word>[^\W_]+(?:-[^\W_]+)*)(?:[\W_]+(?P<rest>.*))?$", re.S)
_NOT_ID = re.compile(r"[^0-9A-Za-z\- ]")

COMPLAINT_WORDS = frozenset({"LAPOR", "ADUAN", "ADU"})
STATUS_WORDS = frozenset({"CEK", "STATUS"})
HELP_WORDS = frozenset({"INFO", "BANTUAN", "HELP"})
FOLLOW_UP_WORDS = frozenset({"TAMBAH"})
SATISFIED_WORDS = frozenset({"PUAS"})
NOT_WORDS = frozenset({"TIDAK", "TDK", "GAK", "NGGAK", "KURANG"})


class Intent(StrEnum):
    COMPLAINT = "complaint"
    STATUS = "status"
    HELP = "help"
    FOLLOW_UP = "follow_up"
    RATING = "rating"


class Command(BaseModel):
    """A parsed message. `text` is the complaint or follow-up without its keyword;
    `tracking_id` is canonical when one was given and valid, else `id_problem` says why not
    (`missing`, or the tracking-ID parser's `format`/`checksum`)."""

    model_config = ConfigDict(frozen=True)

    intent: Intent
    text: str
    tracking_id: str | None = None
    id_problem: Literal["missing", "format", "checksum"] | None = None
    keyword: bool = True
    satisfied: bool | None = None
    """For a rating: PUAS (True) or TIDAK PUAS (False)."""


def parse_command(message: str, min_complaint_chars: int) -> Command:
    """Pure: the same message always means the same thing.

    `min_complaint_chars` keeps `INFO jalan di desa kami rusak parah` a complaint: a help
    word starts a help request only when little else follows it.
    """
    match = _FIRST_WORD.match(message.strip())
    if match is None:
        # Nothing but spaces, punctuation or emoji: a pocket send or a puzzled "?" gets
        # the formats, not a complaint number.
        return Command(intent=Intent.HELP, text=message.strip(), keyword=False)
    word, rest = match["word"], (match["rest"] or "").strip()
    keyword = word.upper()
    if keyword in COMPLAINT_WORDS:
        # "LAPOR" alone keeps its word, so there is still a text to store and ask about.
        return Command(intent=Intent.COMPLAINT, text=rest or message.strip())
    if keyword in STATUS_WORDS:
        return _with_id(Intent.STATUS, rest, allow_text=False)
    if keyword in FOLLOW_UP_WORDS:
        return _with_id(Intent.FOLLOW_UP, rest, allow_text=True)
    if keyword in SATISFIED_WORDS:
        return _with_id(Intent.RATING, rest, allow_text=True).model_copy(update={"satisfied": True})
    if keyword in NOT_WORDS:
        # "Tidak puas dengan pelayanan puskesmas …" is a complaint; only a tracking ID after
        # TIDAK PUAS makes it a rating.
        unhappy = _not_satisfied(rest)
        if unhappy is not None:
            return unhappy
    if keyword in HELP_WORDS and len(rest) < min_complaint_chars:
        return Command(intent=Intent.HELP, text=rest)
    bare = _tracking_id(word)
    if bare is not None and rest:
        return Command(intent=Intent.FOLLOW_UP, text=rest, tracking_id=bare, keyword=False)
    return Command(intent=Intent.COMPLAINT, text=message.strip(), keyword=False)


def _with_id(intent: Intent, rest: str, *, allow_text: bool) -> Command:
    """A command whose first argument is a tracking ID, written whole (`K7M2XQ9PD`) or in
    groups (`K7M2-XQ9PD`, `k7m2 xq9pd`); for a status query the whole rest may be the ID."""
    if not rest:
        return Command(intent=intent, text="", id_problem="missing")
    words = rest.split(maxsplit=2)
    candidates = [(1, words[0])]
    if len(words) > 1:
        candidates.insert(0, (2, f"{words[0]} {words[1]}"))
    problem: Literal["format", "checksum"] = "format"
    for used, candidate in candidates:
        try:
            tracking_id = parse_tracking_id(_NOT_ID.sub("", candidate))
        except InvalidTrackingId as exc:
            problem = "checksum" if exc.reason == "checksum" else problem
            continue
        text = " ".join(rest.split(maxsplit=used)[used:]) if allow_text else ""
        return Command(intent=intent, text=text.strip(), tracking_id=tracking_id)
    return Command(intent=intent, text=rest, id_problem=problem)


def _not_satisfied(rest: str) -> Command | None:
    word, _, after = rest.partition(" ")
    if word.strip(".,:;!").upper() not in SATISFIED_WORDS:
        return None
    rating = _with_id(Intent.RATING, after.strip(), allow_text=True)
    if rating.tracking_id is None:
        return None
    return rating.model_copy(update={"satisfied": False})


def _tracking_id(word: str) -> str | None:
    try:
        return parse_tracking_id(word)
    except InvalidTrackingId:
        return None


@dataclass(frozen=True)
class CitizenText:
    """One whole message from a citizen on a text channel."""

    channel: Channel
    sender: str
    """The address to answer: a phone number in E.164, a handle, a chat id."""
    text: str
    external_id: str
    """`<gateway>:<message id>`: the idempotency key of what it files."""
    received_at: datetime
    raw: RawPayload | None = None
    reporter: Reporter = field(default_factory=Reporter)
    flags: tuple[Flag, ...] = ()
    has_media: bool = False
    """A photo or video came with it: then a few words (or none) are not too short."""


@dataclass(frozen=True)
class CitizenPlan:
    """What a message asks for, worked out before the channel commits it."""

    intent: Intent
    answer: Callable[[Complaint | None], str | None]
    """The reply, given the complaint filed (None when it files none)."""
    complaint_id: str | None = None
    flags: tuple[Flag, ...] = ()
    draft: ComplaintDraft | None = None
    reply: CitizenReply | None = None
    """A follow-up or rating to keep and hand to the workflow."""
