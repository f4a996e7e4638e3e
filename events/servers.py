"""The NATS servers of LAPOR_NATS_URL, and what of them a log or message may say: host and
port, never a user's password or a token."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit


def split_servers(url: str) -> list[str]:
    """`nats://a:4222,nats://b:4222`: one or more servers of one cluster."""
    return [part.strip() for part in url.split(",") if part.strip()]


def where(servers: Sequence[str]) -> str:
    """The servers as a log may name them: host and port, no credentials."""
    return ", ".join(urlsplit(s).netloc.rpartition("@")[2] or "?" for s in servers)


def redact(text: str, servers: Sequence[str]) -> str:
    """`text` (an error's message) without the servers' secrets in it."""
    for server in servers:
        parts = urlsplit(server)
        # user:password, or a token alone where the user would be.
        secret = parts.password if parts.password is not None else parts.username
        if secret:
            text = text.replace(secret, "***")
    return text
