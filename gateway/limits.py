"""Per-address allowances, counted in this process: how many of something one client may
do within a window (files uploaded an hour). A client past it is told when to come back."""

from __future__ import annotations

import math
from collections import deque
from datetime import datetime, timedelta


class Allowance:
    def __init__(self, limit: int, window: timedelta, max_clients: int = 100_000) -> None:
        self._limit = limit
        self._window = window
        self._max_clients = max_clients
        self._seen: dict[str, deque[datetime]] = {}

    def take(self, client: str | None, now: datetime) -> int | None:
        """Count one for `client`; None if allowed, else the seconds until it would be.
        A limit of 0 allows everything."""
        if not self._limit:
            return None
        key = client or "-"
        times = self._seen.setdefault(key, deque())
        while times and times[0] <= now - self._window:
            times.popleft()
        if len(times) >= self._limit:
            return max(1, math.ceil((times[0] + self._window - now).total_seconds()))
        times.append(now)
        if len(self._seen) > self._max_clients:
            self._forget_idle(now)
        return None

    def _forget_idle(self, now: datetime) -> None:
        # Memory stays bounded however many addresses pass by: forget those with nothing
        # left in the window (and, if that is not enough, the oldest).
        for key in [k for k, t in self._seen.items() if not t or t[-1] <= now - self._window]:
            del self._seen[key]
        while len(self._seen) > self._max_clients:
            del self._seen[next(iter(self._seen))]
