"""`make bench`, third part: the SMS intake on PostgreSQL, in one process and in WORKERS.

The same Twilio deliveries as bench/run.py, driven by wrk the same way, against the bare
endpoint (the ceiling, measured again in this run) and the gateway on a fresh PostgreSQL
database of the machine's server (`BENCH_POSTGRESQL_URL`, default the local `test`
database's server): with one worker, then with WORKERS (`serve --workers`). Each run's store
is checked as bench/run.py checks SQLite's: every acknowledged tracking ID is there, and
each complaint gets its case. The figures go to bench/results/latest.json under
"postgresql".
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import random
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from bench.run import (
    REFERENCES,
    RESULTS,
    Reader,
    check_store,
    ensure_wrk,
    run_wrk,
    write_requests,
)
from tests.gateway.sms_support import PUBLIC, TWILIO_TOKEN
from tests.processes import Launcher

SERVER = os.environ.get("BENCH_POSTGRESQL_URL", "postgresql://postgres@127.0.0.1:5432/test")
WORKERS = 2  # the machine's cores


@contextmanager
def fresh_database() -> Iterator[str]:
    """A new empty database on the server, dropped afterwards; its URL."""
    name = f"lapor_bench_{secrets.token_hex(4)}"
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield urlunsplit(urlsplit(SERVER)._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(SERVER, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def postgresql_reader(url: str) -> Reader:
    def read(query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with psycopg.connect(url, autocommit=True) as conn:
            return list(conn.execute(query.replace("?", "%s").encode(), params).fetchall())

    return read


async def run_gateway(work: Path, workers: int, unique: Path) -> dict[str, Any]:
    """wrk against the gateway on a fresh database with `workers` processes."""
    with fresh_database() as url:
        launcher = Launcher(work)
        server = launcher.start(
            LAPOR_DATABASE_URL=url,
            LAPOR_WORKERS=str(workers),
            LAPOR_LOG_LEVEL="WARNING",
            LAPOR_PUBLIC_BASE_URL=PUBLIC,
            LAPOR_TWILIO_AUTH_TOKEN=TWILIO_TOKEN,
        )
        try:
            await server.wait_until_up()
            print(f"gateway on PostgreSQL, {workers} worker(s): wrk …", flush=True)
            answers = work / f"pg-{workers}-answers.txt"
            run = run_wrk(server, unique, answers)
            stored = check_store(postgresql_reader(url), answers, run)
        finally:
            launcher.stop_all()
    return {
        "rps": round(run["rps"], 1),
        "p50_ms": run["p50_us"] / 1000,
        "p99_ms": run["p99_us"] / 1000,
        "non_2xx": run["non_2xx_3xx"] + run["timeouts"],
        "stored": stored,
        "acknowledged": run["ok"],
    }


async def main() -> None:
    ensure_wrk()
    rng = random.Random(1708)
    with tempfile.TemporaryDirectory(prefix="lapor-bench-pg-") as tmp:
        work = Path(tmp)
        launcher = Launcher(work)
        bare = launcher.start(command=[*REFERENCES, "bare"])
        try:
            await bare.wait_until_up()
            write_requests(work / "bare.txt", 20_000, rng)
            print("bare endpoint: wrk …", flush=True)
            bare_run = run_wrk(bare, work / "bare.txt", work / "bare-answers.txt")
        finally:
            launcher.stop_all()
        seconds = int(os.environ.get("BENCH_SECONDS", "20"))
        write_requests(work / "unique.txt", math.ceil(bare_run["rps"] * seconds * 1.2), rng)
        runs = {str(n): await run_gateway(work, n, work / "unique.txt") for n in (1, WORKERS)}
    result = {"bare_rps": round(bare_run["rps"], 1), "workers": runs}
    for figures in runs.values():
        figures["ratio"] = round(figures["rps"] / bare_run["rps"], 3)
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results["postgresql"] = result
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nSMS intake on PostgreSQL (bare endpoint {result['bare_rps']:.0f} req/s):")
    for n, f in runs.items():
        print(
            f"  {n} worker(s): {f['rps']:.0f} req/s ({f['ratio']:.2f} of bare), "
            f"p50 {f['p50_ms']:.1f} ms, p99 {f['p99_ms']:.1f} ms, non-2xx {f['non_2xx']}, "
            f"stored {f['stored']} of {f['acknowledged']} acknowledged"
        )


if __name__ == "__main__":
    asyncio.run(main())
