from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.conftest import Running
from tests.gateway.console.support import People, people


@pytest.fixture
async def staff(gateway: Running) -> AsyncIterator[People]:
    """The four roles signed in to the console of `gateway`, each in a browser of their own."""
    signed = await people(gateway)
    yield signed
    await signed.close()
