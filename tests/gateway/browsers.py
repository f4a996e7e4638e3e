"""Debian's Chromium driven by Playwright, for the tests of a person at a real browser.

The browser is launched once per test module (the `browser` fixture of
tests/gateway/conftest.py); such a module's tests and fixtures run in the module's event
loop, so the gateway and the browser share one loop. Every wait is bounded: a page that does
not come fails the test in seconds.
"""

from __future__ import annotations

from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
WAIT_MS = 5_000


def chromium() -> str:
    """Debian's Chromium: Playwright's own browser download cannot reach this network."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    return str(CHROMIUM)
