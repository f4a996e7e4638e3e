"""`make bench`: SMS intake through the gateway against the aiohttp ceiling, in one run.

1. Start the gateway (`lapor-gateway serve`, a fresh SQLite file, WAL, synchronous=FULL),
   the floor (the signature check and one durable row, nothing else) and the bare
   endpoint (both in bench/references.py) as processes of their own.
2. Drive the bare endpoint with wrk (32 connections), then the floor and the gateway with
   as many unique, correctly signed Twilio deliveries as the bare endpoint could take, so
   none repeats.
3. Check the store: every acknowledged tracking ID is there, and nothing else but the
   deliveries wrk left unanswered when its time ran out.
4. Send deliveries at a steady half of the gateway's measured rate and read, from the
   store, how long each complaint waited for its case (the dispatcher lag).
5. Print the figures and write them to bench/results/latest.json.

BENCH_SECONDS (default 20) sets each wrk run's length.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, TCPConnector

from config.settings import Settings
from store.rows import parse_ts
from tests.gateway.sms_support import PUBLIC, TWILIO_TOKEN, deliver, signed_deliveries
from tests.processes import Launcher, ServerProcess

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results" / "latest.json"
REFERENCES = [sys.executable, str(BENCH / "references.py")]
SECONDS = int(os.environ.get("BENCH_SECONDS", "20"))
CONNECTIONS = 32
WRK_THREADS = 2
LAG_SECONDS = 10
PATH = "/webhooks/sms/twilio"
SETTLE_WITHIN = 60.0


async def start_servers(work: Path) -> tuple[Launcher, dict[str, ServerProcess]]:
    """The gateway as a user runs it (the defaults but for Twilio and quiet logs), the
    floor beside it with its own database, and the bare endpoint, all up."""
    launcher = Launcher(work)
    twilio = {
        "LAPOR_PUBLIC_BASE_URL": PUBLIC,  # Twilio signs the public address it called
        "LAPOR_TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
    }
    servers = {
        "gateway": launcher.start(
            LAPOR_DISPATCH_POLL_SECONDS=str(Settings.model_fields["dispatch_poll_seconds"].default),
            LAPOR_LOG_LEVEL="WARNING",
            **twilio,
        ),
        "floor": launcher.start(work / "floor.db", command=[*REFERENCES, "floor"], **twilio),
        "bare": launcher.start(command=[*REFERENCES, "bare"]),
    }
    for server in servers.values():
        await server.wait_until_up()
    return launcher, servers


# -- the deliveries -----------------------------------------------------------------------


def write_requests(path: Path, count: int, rng: random.Random) -> None:
    """wrk's input: one delivery a line, "<signature>\t<form>" (see twilio.lua)."""
    with path.open("w") as out:
        for delivery in signed_deliveries(rng, count):
            out.write(f"{delivery.signature}\t{delivery.form}\n")


# -- wrk ------------------------------------------------------------------------------------


def ensure_wrk() -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is not installed: `make bench` installs it (apt-get install wrk)")
    return wrk


def run_wrk(server: ServerProcess, requests: Path, answers: Path) -> dict[str, Any]:
    env = dict(os.environ) | {
        "BENCH_REQUESTS": str(requests),
        "BENCH_ANSWERS": str(answers),
        "BENCH_THREADS": str(WRK_THREADS),
    }
    command = [
        ensure_wrk(),
        f"-t{WRK_THREADS}",
        f"-c{CONNECTIONS}",
        f"-d{SECONDS}s",
        "--timeout",
        "30s",  # a slow answer is measured, not dropped as a time-out and sent again
        "-s",
        str(BENCH / "twilio.lua"),
        server.base + PATH,
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    line = next(x for x in done.stdout.splitlines() if x.startswith("WRK-JSON "))
    result: dict[str, Any] = json.loads(line.removeprefix("WRK-JSON "))
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


# -- the store ----------------------------------------------------------------------------


Reader = Callable[[str, tuple[Any, ...]], list[tuple[Any, ...]]]
"""Reads the gateway's store by a connection of the bench's own (`?` placeholders)."""


def sqlite_reader(db: Path) -> Reader:
    def read(sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            return list(conn.execute(sql, params).fetchall())
        finally:
            conn.close()

    return read


def settle(read: Reader) -> None:
    """Wait until every complaint has its case: the writes wrk left running are done."""
    deadline = time.monotonic() + SETTLE_WITHIN
    sql = "SELECT (SELECT count(*) FROM complaints), (SELECT count(*) FROM cases)"
    last: tuple[Any, ...] = ()
    while time.monotonic() < deadline:
        now = read(sql, ())[0]
        if now == last and now[0] == now[1]:
            return
        last = now
        time.sleep(0.5)
    raise SystemExit(f"the store did not settle within {SETTLE_WITHIN}s: {last}")


def check_store(read: Reader, answers: Path, wrk: dict[str, Any]) -> int:
    """The number of complaints stored, after checking that every acknowledged one is
    there and that the rest are no more than the deliveries wrk left unanswered."""
    settle(read)
    stored = {row[0] for row in read("SELECT tracking_id FROM complaints", ())}
    acked = answers.read_text().split()
    missing = set(acked) - stored
    unanswered = wrk["sent"] - wrk["answered"]
    if missing or len(acked) != wrk["ok"] or not 0 <= len(stored) - len(acked) <= unanswered:
        raise SystemExit(
            f"store check failed: {len(missing)} acknowledged missing, {len(acked)} IDs "
            f"for {wrk['ok']} 2xx, {len(stored)} stored, {unanswered} unanswered at the end"
        )
    return len(stored)


# -- the dispatcher at a steady rate --------------------------------------------------------


async def steady_load(
    server: ServerProcess, rate: float, seconds: float, rng: random.Random
) -> int:
    """Send deliveries at `rate` per second, on schedule whatever the answers take; returns
    how many were not answered 200."""
    batch = signed_deliveries(rng, math.ceil(rate * seconds))
    async with ClientSession(connector=TCPConnector(limit=CONNECTIONS * 4)) as http:
        start = time.monotonic()
        tasks = []
        for i, delivery in enumerate(batch):
            await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
            tasks.append(asyncio.create_task(deliver(http, server.base, delivery)))
        answers = await asyncio.gather(*tasks)
    return sum(answer.status != 200 for answer in answers)


def dispatch_lags_ms(read: Reader, since: object) -> list[float]:
    """For each complaint stored since `since` (as the store gave it): its commit to its
    case opening, in ms."""
    rows = read(
        "SELECT c.created_at, e.at FROM complaints c JOIN case_events e "
        "ON e.complaint_id = c.id AND e.kind = 'case.opened' WHERE c.created_at > ?",
        (since,),
    )
    return [
        (parse_ts(opened) - parse_ts(created)).total_seconds() * 1000 for created, opened in rows
    ]


def percentile(values: list[float], pct: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


# -- the run --------------------------------------------------------------------------------


async def main() -> None:
    ensure_wrk()
    rng = random.Random(1708)
    with tempfile.TemporaryDirectory(prefix="lapor-bench-") as tmp:
        launcher, servers = await start_servers(Path(tmp))
        try:
            results = await measure(Path(tmp), servers, rng)
        finally:
            launcher.stop_all()
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print_table(results)


async def measure(
    work: Path, servers: dict[str, ServerProcess], rng: random.Random
) -> dict[str, Any]:
    gateway = servers["gateway"]
    # The bare endpoint may see a delivery twice; it does not look.
    write_requests(work / "bare.txt", 20_000, rng)
    print(f"bare endpoint: wrk, {CONNECTIONS} connections, {SECONDS} s …", flush=True)
    bare_run = run_wrk(servers["bare"], work / "bare.txt", work / "bare-answers.txt")
    # The others can go no faster than the bare endpoint: that many deliveries never repeat.
    # Each keeps them in a database of its own, so both get the same ones.
    count = math.ceil(bare_run["rps"] * SECONDS * 1.2) + 1000
    write_requests(work / "unique.txt", count, rng)
    print(f"floor: wrk, {CONNECTIONS} connections, {SECONDS} s …", flush=True)
    floor_run = run_wrk(servers["floor"], work / "unique.txt", work / "floor-answers.txt")
    print(f"gateway: wrk, {CONNECTIONS} connections, {SECONDS} s …", flush=True)
    run = run_wrk(gateway, work / "unique.txt", work / "gateway-answers.txt")
    if run["wrapped"] or floor_run["wrapped"]:
        raise SystemExit("a run repeated deliveries: generate more")
    read = sqlite_reader(work / "lapor.db")
    stored = check_store(read, work / "gateway-answers.txt", run)
    rate = run["rps"] / 2
    print(f"dispatcher lag: {rate:.0f} deliveries/s for {LAG_SECONDS} s …", flush=True)
    since = read("SELECT max(created_at) FROM complaints", ())[0][0]
    lag_failures = await steady_load(gateway, rate, LAG_SECONDS, rng)
    settle(read)
    lags = dispatch_lags_ms(read, since)
    socket_errors = sum(run[k] for k in ("connect_errors", "read_errors", "write_errors"))
    return {
        "gateway_rps": round(run["rps"], 1),
        "bare_rps": round(bare_run["rps"], 1),
        "ratio": round(run["rps"] / bare_run["rps"], 3),
        "floor_rps": round(floor_run["rps"], 1),
        "floor_ratio": round(floor_run["rps"] / bare_run["rps"], 3),
        "floor_p99_ms": floor_run["p99_us"] / 1000,
        "floor_non_2xx": floor_run["non_2xx_3xx"],
        "p50_ms": run["p50_us"] / 1000,
        "p99_ms": run["p99_us"] / 1000,
        "non_2xx": run["non_2xx_3xx"] + run["timeouts"] + socket_errors,
        "peak_rss_mb": round(gateway.memory().peak / 2**20, 1),
        "stored": stored,
        "acknowledged": run["ok"],
        "unanswered_at_stop": run["sent"] - run["answered"],
        "dispatch_lag_p50_ms": round(percentile(lags, 50), 1),
        "dispatch_lag_p99_ms": round(percentile(lags, 99), 1),
        "lag_rate_per_s": round(rate, 1),
        "lag_non_2xx": lag_failures,
        "bare_p50_ms": bare_run["p50_us"] / 1000,
        "bare_p99_ms": bare_run["p99_us"] / 1000,
        "seconds": SECONDS,
        "connections": CONNECTIONS,
        "cpus": os.cpu_count(),
        "at": datetime.now().astimezone().isoformat(timespec="seconds"),
    }


def print_table(r: dict[str, Any]) -> None:
    rows = [
        ("requests/s (gateway, bare)", f"{r['gateway_rps']:.0f}", f"{r['bare_rps']:.0f}"),
        ("ratio gateway / bare", f"{r['ratio']:.2f}", "target >= 0.45"),
        (
            "floor: signature + 1 durable row (req/s, ÷ bare, p99 ms)",
            f"{r['floor_rps']:.0f}  {r['floor_ratio']:.2f}  {r['floor_p99_ms']:.1f}",
            "bounds the ratio",
        ),
        ("latency p50 / p99 (ms)", f"{r['p50_ms']:.1f} / {r['p99_ms']:.1f}", "p99 <= 15"),
        ("non-2xx", str(r["non_2xx"]), "target 0"),
        ("peak RSS of the gateway (MB)", f"{r['peak_rss_mb']:.0f}", "<= 300"),
        ("stored / acknowledged", f"{r['stored']} / {r['acknowledged']}", "equal, but for"),
        ("  unanswered when wrk stopped", str(r["unanswered_at_stop"]), "those cut off"),
        (
            f"dispatcher lag p50 / p99 (ms) at {r['lag_rate_per_s']:.0f}/s",
            f"{r['dispatch_lag_p50_ms']:.0f} / {r['dispatch_lag_p99_ms']:.0f}",
            "p99 <= 500",
        ),
    ]
    width = max(len(name) for name, _, _ in rows)
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>15}  {note}")
    print(f"written to {RESULTS.relative_to(BENCH.parent)}")


if __name__ == "__main__":
    asyncio.run(main())
