"""What the SMS replies cost: every shipped profile's texts in GSM-7, the acknowledgement
in at most two segments, and a profile that rewords it longer refused at start-up."""

from __future__ import annotations

import pytest

from channels.sms.segments import encoding_for, segment_count
from channels.sms.texts import ACK_KEYS, MAX_ACK_SEGMENTS, check_reply_lengths
from config.profile import load_profile, shipped_profiles
from workflow.commands import CommandReplies

WORST = {
    "tracking_id": "WWWWWWWWW",
    "state": "Diterima, menunggu verifikasi Admin Penghubung",
    "completion_due": "Rabu, 30 September 2026",
    "given": "WWWWWWWWWWW",
    "example": "TAMBAH K7M2XQ9PD",
    "missing": "2, 3, 4",
    "total": "5",
}
SMS_KEYS = [*ACK_KEYS, "sms.status", "sms.status_pending", "sms.not_found", "sms.mistyped",
            "sms.id_missing", "sms.followup_added", "sms.help", "sms.rated", "sms.reopened",
            "sms.not_rateable"]  # fmt: skip


@pytest.mark.parametrize("profile_name", shipped_profiles())
@pytest.mark.parametrize("key", SMS_KEYS)
def test_replies_are_plain_gsm7_and_short(profile_name: str, key: str) -> None:
    text = CommandReplies(load_profile(profile_name)).render(key, **WORST)
    assert encoding_for(text) == "gsm7", text  # a curly quote would make it UCS-2: 70 a part
    limit = MAX_ACK_SEGMENTS if key in ACK_KEYS else 1
    assert segment_count(text) <= limit, (len(text), text)


def test_a_profile_whose_acknowledgement_takes_three_sms_is_refused() -> None:
    profile = load_profile("soppeng")
    wordy = "Terima kasih atas laporan Anda yang sangat berharga bagi kami semua. " * 5
    longer = profile.model_copy(update={"messages": {"sms.ack": wordy + "{tracking_id}"}})
    with pytest.raises(ValueError, match=r"messages\.sms\.ack takes 3 SMS segments"):
        check_reply_lengths(longer)
    check_reply_lengths(profile)  # the shipped wording passes
