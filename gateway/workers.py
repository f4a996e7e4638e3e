"""`lapor-gateway serve --workers N`: N gateway processes on one port.

Each worker is a whole `lapor-gateway serve` of its own, listening with SO_REUSEPORT, so the
kernel spreads the connections among them; this process only starts them, brings back one
that dies, and on SIGTERM or SIGINT passes the signal on and waits for each to finish its
requests. Several hosts need no such parent: each runs its own workers against the same
PostgreSQL. The embedded SQLite store belongs to one process, so more than one worker on it
is refused.
"""

from __future__ import annotations

import ctypes
import logging
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from types import FrameType

from store.factory import POSTGRESQL_SCHEMES

log = logging.getLogger(__name__)

RESTART_AFTER_SECONDS = 1.0
"""A worker that died is started again after this long (not in a tight loop)."""
POLL_SECONDS = 0.2
PR_SET_PDEATHSIG = 1  # Linux prctl(2)
STOP_WITHIN_SECONDS = 60.0
"""A stopping worker finishes its requests (30 s at most) and closes its store."""


def refusal(workers: int, database_url: str) -> str | None:
    """Why `workers` processes cannot run on this store, or None if they can."""
    if workers > 1 and not database_url.startswith(POSTGRESQL_SCHEMES):
        return (
            f"--workers {workers} needs a store shared by processes: set LAPOR_DATABASE_URL "
            "to postgresql://…; the embedded SQLite store serves one process (LAPOR_WORKERS=1)"
        )
    return None


def run_workers(count: int, worker_argv: Sequence[str]) -> int:
    """Run `count` workers (each `worker_argv`) until told to stop; their worst exit code."""
    stopping = False

    def stop(signum: int, _: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    children = [_start(worker_argv) for _ in range(count)]
    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        while not stopping:
            for i, child in enumerate(children):
                if child.poll() is not None and not stopping:
                    log.warning(
                        "worker %d exited with %s; starting it again", child.pid, child.returncode
                    )
                    time.sleep(RESTART_AFTER_SECONDS)
                    children[i] = _start(worker_argv)
            time.sleep(POLL_SECONDS)
        return max(_wait(child) for child in children)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _start(argv: Sequence[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, *argv], preexec_fn=_die_with_parent)


def _die_with_parent() -> None:
    """In the worker, before it runs: SIGTERM when this process dies, however it dies (a
    SIGKILL gives it no chance to pass the signal on), so no worker outlives it."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _wait(child: subprocess.Popen[bytes]) -> int:
    try:
        return child.wait(timeout=STOP_WITHIN_SECONDS)
    except subprocess.TimeoutExpired:
        child.kill()
        return child.wait()
