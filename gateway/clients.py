"""Who is at the other end of a request: the peer, or behind a trusted reverse proxy the
client it names in X-Forwarded-For. Every per-address limit counts by this."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from aiohttp import web
from pydantic import IPvAnyNetwork


def client_address(request: web.Request, trusted: Sequence[IPvAnyNetwork]) -> str | None:
    """The peer's address; if the peer is one of `trusted` proxies, the right-most address
    of X-Forwarded-For that is not itself a trusted proxy (what a client puts further left
    is theirs to invent)."""
    peer = request.remote
    if not trusted or not _trusted(peer, trusted):
        return peer
    forwarded = [
        hop.strip()
        for header in request.headers.getall("X-Forwarded-For", [])
        for hop in header.split(",")
        if hop.strip()
    ]
    for hop in reversed(forwarded):
        if _address(hop) is None:
            return peer  # a mangled header: the proxy is the best we know
        if not _trusted(hop, trusted):
            return hop
    return forwarded[0] if forwarded else peer


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _trusted(text: str | None, trusted: Sequence[IPvAnyNetwork]) -> bool:
    address = _address(text) if text else None
    return address is not None and any(address in network for network in trusted)
