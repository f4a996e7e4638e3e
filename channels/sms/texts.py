"""What the SMS channel itself says: the marker of a long SMS that came in part, the check
that the acknowledgement fits two SMS, and a message to the citizen fitted to three."""

from __future__ import annotations

from channels.sms.segments import segment_count
from config.profile import Profile
from normalizer.tracking import TRACKING_ID_LENGTH

MAX_ACK_SEGMENTS = 2
MAX_NOTICE_SEGMENTS = 3
ACK_KEYS = ("sms.ack", "sms.ack_too_short")

# Characters an office's word processor puts in an answer that GSM 7-bit lacks: each
# would make the whole SMS UCS-2, and three segments hold 201 characters instead of 459.
_TO_GSM = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201c": '"', "\u201d": '"',
        "\u201e": '"', "\u2013": "-", "\u2014": "-", "\u2026": "...", "\u00a0": " ",
        "\u2022": "*", "\t": " ",
    }
)  # fmt: skip


def incomplete_marker(profile: Profile, missing: list[int], total: int) -> str:
    return profile.message(
        "sms.incomplete_marker", missing=", ".join(map(str, missing)), total=total
    )


def check_reply_lengths(profile: Profile) -> None:
    """The acknowledgement must fit in two SMS, with the longest tracking ID: a profile that
    rewords it past that is refused at start-up, before it costs a third SMS per complaint."""
    for key in ACK_KEYS:
        text = profile.message(
            key,
            regency=profile.regency,
            short_code=profile.sms.short_code,
            tracking_id="W" * TRACKING_ID_LENGTH,
        )
        if (n := segment_count(text)) > MAX_ACK_SEGMENTS:
            raise ValueError(
                f"profile {profile.key}: messages.{key} takes {n} SMS segments "
                f"(at most {MAX_ACK_SEGMENTS}; GSM-7 text of up to 306 characters)"
            )


def fit_notice(text: str, status_url: str, profile: Profile) -> str:
    """The message as one SMS of at most three segments: whole if it fits, else cut at a
    word so that it and " ... Selengkapnya: <status URL>" (sms.answer_more) fit."""
    text = " ".join(text.translate(_TO_GSM).split())
    if segment_count(text) <= MAX_NOTICE_SEGMENTS:
        return text
    more = profile.message("sms.answer_more", status_url=status_url)
    low, high = 0, len(text)  # the longest prefix that fits, by bisection
    while low < high:
        mid = (low + high + 1) // 2
        if segment_count(text[:mid] + more) <= MAX_NOTICE_SEGMENTS:
            low = mid
        else:
            high = mid - 1
    head = text[:low]
    if low < len(text) and not text[low].isspace() and " " in head:
        head = head.rsplit(" ", 1)[0]  # never end on half a word
    return head.rstrip() + more
