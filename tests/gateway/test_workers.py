"""`lapor-gateway serve --workers 3` on PostgreSQL: three real gateway processes on one port.

Complaints filed through the app API while one worker is SIGKILLed are all acknowledged
(an app sends again what got no answer) and all there once, each with one case however
many dispatchers claim events; the dead worker is started again. A loop that runs once
per installation (the sweep) runs in exactly one worker, and another takes it over within
10 seconds of that worker's death.
"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import psycopg
from aiohttp import ClientError, ClientSession, ClientTimeout

from store.postgres_singleton import lock_key
from tests.conftest import eventually
from tests.processes import Launcher, ServerProcess
from tests.servers import Server

WORKERS = 3
COMPLAINTS = 90
TAKEOVER_WITHIN = 10.0
RESTART_WITHIN = 20.0


def url(server: Server) -> str:
    return server.url("postgresql", server.database or "")


def workers_of(supervisor: ServerProcess) -> list[int]:
    pid = supervisor.process.pid
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in children]


def query(server: Server, sql: str, *params: object) -> list[tuple[object, ...]]:
    with psycopg.connect(url(server), autocommit=True) as conn:
        return list(conn.execute(sql.encode(), params).fetchall())


def sweep_holder(server: Server) -> list[int]:
    """The server sessions holding the sweep's advisory lock (one per holder)."""
    key = lock_key("sweep") & 0xFFFFFFFFFFFFFFFF
    return [
        int(str(pid))
        for (pid,) in query(
            server,
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND classid::bigint = %s AND objid::bigint = %s AND objsubid = 1",
            key >> 32,
            key & 0xFFFFFFFF,
        )
    ]


def holder_process(server: Server) -> int | None:
    """The gateway process (by its PID) whose session holds the sweep's lock."""
    sessions = sweep_holder(server)
    if len(sessions) != 1:
        return None
    found = query(server, "SELECT client_port FROM pg_stat_activity WHERE pid = %s", sessions[0])
    if not found:  # the session ended meanwhile
        return None
    [(client_port,)] = found
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == client_port:
            inode = fields[9]
            return _process_with_socket(inode)
    return None


def _process_with_socket(inode: str) -> int | None:
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            links = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
        except OSError:
            continue
        if f"socket:[{inode}]" in links:
            return int(pid)
    return None


async def file(http: ClientSession, base: str, i: int) -> str:
    """One complaint through the app API, sent again as an app does until acknowledged
    (a worker that dies takes its connections with it); the same Idempotency-Key each
    time, so a complaint committed before its answer was lost is not filed twice."""
    body = {"text": f"Lampu jalan nomor {i} di Jalan Merdeka mati sejak seminggu.",
            "phone": f"0812345{i:05d}", "name": "Warga"}  # fmt: skip
    headers = {"Idempotency-Key": f"keluhan-{i}"}
    for _ in range(20):
        try:
            async with http.post(
                f"{base}/api/v1/complaints", json=body, headers=headers
            ) as response:
                if response.status in (200, 201):
                    tracking_id: str = (await response.json())["tracking_id"]
                    return tracking_id
        except (ClientError, TimeoutError):
            pass
        await asyncio.sleep(0.2)
    raise AssertionError(f"complaint {i} was never acknowledged")


async def test_three_workers_take_complaints_while_one_dies_and_each_gets_one_case(
    launcher: Launcher, postgresql_database: Server
) -> None:
    supervisor = launcher.start(
        LAPOR_DATABASE_URL=url(postgresql_database),
        LAPOR_WORKERS=str(WORKERS),
        LAPOR_DISPATCH_POLL_SECONDS="0.05",
    )
    await supervisor.wait_until_up()
    first = await eventually(
        lambda: asyncio.sleep(0, workers_of(supervisor)), lambda w: len(w) == WORKERS, 30.0
    )

    async with ClientSession(timeout=ClientTimeout(total=30)) as http:
        filing = [asyncio.create_task(file(http, supervisor.base, i)) for i in range(COMPLAINTS)]
        await eventually(
            lambda: asyncio.sleep(0, sum(t.done() for t in filing)), lambda n: n >= 10, 30.0
        )
        os.kill(first[0], signal.SIGKILL)
        acknowledged = await asyncio.gather(*filing)

    # The supervisor starts the dead worker again.
    again = await eventually(
        lambda: asyncio.sleep(0, workers_of(supervisor)),
        lambda w: len(w) == WORKERS and first[0] not in w,
        RESTART_WITHIN,
    )
    assert len(set(again) & set(first)) == WORKERS - 1

    # Every acknowledged complaint is there once, and the dispatchers of the live workers
    # open one case for each complaint, whoever claimed its event.
    stored = [str(t) for (t,) in query(postgresql_database, "SELECT tracking_id FROM complaints")]
    assert sorted(stored) == sorted(acknowledged)
    assert len(set(acknowledged)) == COMPLAINTS

    def cases() -> tuple[int, int, int]:
        [(complaints, opened, events)] = query(
            postgresql_database,
            "SELECT (SELECT count(*) FROM complaints), "
            "(SELECT count(*) FROM case_events WHERE kind = 'case.opened'), "
            "(SELECT count(*) FROM outbox WHERE done_at IS NULL)",
        )
        return int(str(complaints)), int(str(opened)), int(str(events))

    # An event the dead worker had claimed waits out its lease (30 s) before another
    # dispatcher takes it: the bound covers that.
    await eventually(lambda: asyncio.sleep(0, cases()), lambda c: c[0] == c[1] and c[2] == 0, 60.0)
    [(duplicated,)] = query(
        postgresql_database,
        "SELECT count(*) FROM (SELECT complaint_id FROM case_events WHERE kind = 'case.opened' "
        "GROUP BY complaint_id HAVING count(*) > 1) twice",
    )
    assert duplicated == 0


async def test_the_sweep_runs_in_one_worker_and_moves_when_it_dies(
    launcher: Launcher, postgresql_database: Server
) -> None:
    supervisor = launcher.start(
        LAPOR_DATABASE_URL=url(postgresql_database), LAPOR_WORKERS=str(WORKERS)
    )
    await supervisor.wait_until_up()
    workers = await eventually(
        lambda: asyncio.sleep(0, workers_of(supervisor)), lambda w: len(w) == WORKERS, 30.0
    )
    holder = await eventually(
        lambda: asyncio.sleep(0, holder_process(postgresql_database)),
        lambda pid: pid in workers,
        TAKEOVER_WITHIN,
    )
    assert holder is not None
    os.kill(holder, signal.SIGKILL)
    await eventually(
        lambda: asyncio.sleep(0, holder_process(postgresql_database)),
        lambda pid: pid is not None and pid != holder,
        TAKEOVER_WITHIN,
    )
    assert len(sweep_holder(postgresql_database)) == 1
