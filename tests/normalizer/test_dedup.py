"""Duplicate keys: equal exactly for the same words from the same reply address."""

from __future__ import annotations

import pytest

from normalizer.dedup import duplicate_key
from normalizer.models import Channel, ReplyAddress

SMS = ReplyAddress(channel=Channel.SMS, address="+6281234567890")
TEXT = "Jalan rusak di Desa Sukabangun, banyak lubang."


def test_case_and_spacing_do_not_matter() -> None:
    messy = "  JALAN rusak di\tDesa   Sukabangun,\nbanyak lubang. "
    assert duplicate_key(Channel.WEB, SMS, messy) == duplicate_key(Channel.WEB, SMS, TEXT)


@pytest.mark.parametrize(
    ("channel", "reply_to", "text"),
    [
        (Channel.APP, SMS, TEXT),  # another channel
        (Channel.WEB, ReplyAddress(channel=Channel.SMS, address="+6281300000000"), TEXT),
        (Channel.WEB, ReplyAddress(channel=Channel.EMAIL, address="+6281234567890"), TEXT),
        (Channel.WEB, SMS, TEXT + " Mohon segera."),  # other words
        (Channel.WEB, SMS, TEXT.replace("lubang", "lubang-lubang")),
    ],
)
def test_anything_else_gives_another_key(
    channel: Channel, reply_to: ReplyAddress, text: str
) -> None:
    assert duplicate_key(channel, reply_to, text) != duplicate_key(Channel.WEB, SMS, TEXT)


def test_no_reply_address_no_key() -> None:
    # Two anonymous people may well write the same short sentence.
    assert duplicate_key(Channel.WEB, None, TEXT) is None
