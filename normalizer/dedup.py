"""Duplicate keys: the same words from the same person on the same channel.

Citizens resend when no answer comes at once, gateways retry with new message ids, and a
browser's Back button re-sends a form: all of these carry the same text from the same
reply address. The key is what the store compares, within a time window, to answer such
a message with the complaint it already has instead of filing a second one.
"""

from __future__ import annotations

import hashlib

from normalizer.models import Channel, ReplyAddress


def duplicate_key(channel: Channel, reply_to: ReplyAddress | None, text: str) -> str | None:
    """A key equal for the same cleaned text (any case, any spacing) from the same reply
    address on the same channel; None when there is no one to tell apart (anonymous)."""
    if reply_to is None:
        return None
    words = " ".join(text.casefold().split())
    material = "\x1f".join((channel.value, reply_to.channel.value, reply_to.address, words))
    return hashlib.sha256(material.encode()).hexdigest()
