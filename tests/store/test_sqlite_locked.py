"""A database locked by another process, or a full disk: writes are refused as busy, never
as a crash, and intake resumes by itself once the store can write again."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Sequence
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


async def post(
    running: Running, key: str, complaint: dict[str, str] = COMPLAINT
) -> tuple[int, dict[str, str], dict[str, object]]:
    headers = {"Idempotency-Key": key}
    async with running.http.post("/api/v1/complaints", json=complaint, headers=headers) as r:
        return r.status, dict(r.headers), await r.json()


async def test_a_lock_held_past_the_busy_timeout_is_503_and_nothing_is_written(
    gateway: Running,
) -> None:
    with write_locked(gateway.sqlite_store.path):
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
    with write_locked(gateway.sqlite_store.path):
        status, _, _ = await post(gateway, "retried-delivery")
        assert status == 503
    status, _, body = await post(gateway, "retried-delivery")  # the client's retry
    assert status == 201, body
    assert gateway.count("complaints") == 1


async def cap_pages(running: Running, extra: int | None) -> None:
    """Let the file grow by at most `extra` pages (None: no cap), as a disk that is full
    leaves it: SQLite answers SQLITE_FULL past the cap."""

    def cap(conn: sqlite3.Connection, items: Sequence[None]) -> list[None]:
        (pages,) = conn.execute("PRAGMA page_count").fetchone()
        conn.execute(f"PRAGMA max_page_count = {pages + extra if extra is not None else 2**31}")
        return [None] * len(items)

    await running.sqlite_store._write.submit(cap, None)


# Long enough that its row cannot fit in the pages the file has: it needs new ones.
LONG = COMPLAINT | {"text": "Jalan berlubang di depan pasar, belum diperbaiki. " * 120}


async def test_a_full_disk_is_503_until_there_is_room_again(gateway: Running) -> None:
    await post(gateway, "before")
    await cap_pages(gateway, 0)
    answers = await asyncio.gather(*(post(gateway, f"full-{i}", LONG) for i in range(5)))
    for status, headers, body in answers:
        assert (status, body["error"]) == (503, "busy")
        assert headers["Retry-After"].isdigit()
    assert gateway.count("complaints") == 1  # nothing half-written
    await cap_pages(gateway, None)
    status, _, body = await post(gateway, "full-0", LONG)  # the client's retry
    assert status == 201, body
    assert gateway.count("complaints") == 2
