"""The one shape of every background loop: work while there is work, else wait."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


async def keep_running(
    round_: Callable[[], Awaitable[int]], idle: Callable[[], Awaitable[object]], name: str
) -> None:
    """Run `round_` (which returns how much it handled) until cancelled: again at once while
    it finds work, after `idle` when it finds none or fails. A failed round is logged and
    retried, so one bad moment (a locked database, a provider down) never ends the loop."""
    while True:
        try:
            handled = await round_()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s failed; retrying", name)
            handled = 0
        if handled == 0:
            await idle()
