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
        stop_if_cancelled()
        if handled == 0:
            await idle()


def stop_if_cancelled() -> None:
    """Raise the cancellation this task was given, if a library lost it on the way.

    In Python 3.11, `asyncio.wait_for` drops a cancellation that comes in the turn its
    inner future completes (the PostgreSQL driver's pool waits for a connection so): the
    round then returns as if nothing happened, and the loop would go to sleep for its whole
    idle time while the gateway waits for it to stop."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
