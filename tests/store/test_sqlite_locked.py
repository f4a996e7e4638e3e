"""A database locked by another process: writes are refused as busy, never as a crash."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import Running, start_gateway, write_locked

COMPLAINT = {
    "text": "Lampu jalan di depan Pasar Ketapang mati sejak seminggu yang lalu.",
    "phone": "0812 3456 7890",
}


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[Running]:
    running = await start_gateway(tmp_path, db_busy_timeout_ms=50, dispatch_enabled=False)
    yield running
    await running.stop()


async def post(running: Running, key: str) -> tuple[int, dict[str, str], dict[str, object]]:
    headers = {"Idempotency-Key": key}
    async with running.http.post("/api/v1/complaints", json=COMPLAINT, headers=headers) as r:
        return r.status, dict(r.headers), await r.json()


async def test_a_lock_held_past_the_busy_timeout_is_503_and_nothing_is_written(
    gateway: Running,
) -> None:
    with write_locked(gateway.store.path):
        # The lock is held by this thread's connection; the requests run on the loop
        # while it is held, so they must give up on their own, within the busy timeout.
        answers = await asyncio.gather(*(post(gateway, f"stalled-{i}") for i in range(5)))
    for status, headers, body in answers:
        assert status == 503
        assert headers["Retry-After"].isdigit()
        assert body["error"] == "busy"
    assert gateway.count("complaints") == 0
    assert gateway.count("outbox") == 0


async def test_intake_resumes_by_itself_once_the_lock_is_released(gateway: Running) -> None:
    with write_locked(gateway.store.path):
        status, _, _ = await post(gateway, "retried-delivery")
        assert status == 503
    status, _, body = await post(gateway, "retried-delivery")  # the client's retry
    assert status == 201, body
    assert gateway.count("complaints") == 1
