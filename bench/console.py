"""`make bench`, second part: the admin console's pages with 50 000 complaints in the store.

1. Build the store: 50 000 complaints taken in by the store's intake (as the channels take
   them), a complaint every five minutes for half a year, their cases opened as the
   dispatcher opens them, then moved to a realistic mix of states (most of them closed) by
   direct writes: walking 50 000 cases through every step would take longer than the
   measuring. The per-state counters are rebuilt as the migration builds them.
2. Add the four roles with the command line and start `lapor-gateway serve` on the store.
3. Walk one fresh case through the console by its forms, to the published answer, so the
   case page and the nota dinas have a whole history.
4. Ask for each page REPEAT times, one request at a time as a person's browser does, and
   print the median, the 95th percentile and the slowest; the target is under 100 ms.

CONSOLE_BENCH_COMPLAINTS (default 50 000) sets the store's size.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import sqlite3
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, CookieJar

from bench.run import RESULTS, percentile
from config.profile import load_profile
from normalizer.models import Channel, Inbound, Reporter
from normalizer.normalize import normalize
from store.rows import ts
from store.sqlite import SqliteStore
from tests.gateway.sms_support import PLACES, PROBLEMS
from tests.processes import CLI, Launcher, clean_environ
from workflow.cases import new_case

COMPLAINTS = int(os.environ.get("CONSOLE_BENCH_COMPLAINTS", "50000"))
REPEAT = 30
TARGET_MS = 100.0
PASSWORD = "kata-sandi-bangku-uji"
PROFILE = "ketapang"
FIRST = datetime(2026, 5, 4, 1, 0, tzinfo=UTC)
CHANNELS = [Channel.SMS] * 6 + [Channel.WEB] * 2 + [Channel.APP, Channel.WALKIN, Channel.PHONE]
# Of every 17 cases: most answered and closed, a few in each open state.
STATES = ["diterima"] * 2 + [
    "ditunda", "diteruskan", "didisposisi", "ditindaklanjuti", "menunggu_persetujuan", "dijawab"
] + ["selesai"] * 7 + ["ditolak", "diarsipkan"]  # fmt: skip
WITH_AGENCY = {"diteruskan", "didisposisi", "ditindaklanjuti", "menunggu_persetujuan",
               "disetujui", "dijawab", "selesai"}  # fmt: skip
OPEN_DEADLINE = {"diterima": "verification_due_at", "ditunda": "verification_due_at"}
CLOSED = {"selesai", "ditolak", "diarsipkan"}
ANSWERED = {"dijawab", "selesai"}
STAFF = [
    ("utama", "admin_instansi", None),
    ("ani", "admin_penghubung", None),
    ("opd-pupr", "admin_opd", "PUPR"),
    ("pejabat-pupr", "pejabat_penghubung", "PUPR"),
]


async def build_store(db: Path, n: int) -> None:
    profile = load_profile(PROFILE)
    store = SqliteStore(db, write_queue_limit=n + 1000)
    await store.open()
    rng = random.Random(1708)

    async def one(i: int) -> None:
        sender = f"+62812{i:07d}"
        inbound = Inbound(
            channel=rng.choice(CHANNELS),
            external_id=f"bench-{i}",
            sender=sender,
            text=f"{rng.choice(PROBLEMS)} {rng.choice(PLACES)}, laporan ke-{i}.",
            received_at=FIRST + timedelta(minutes=5 * i),
            reporter=Reporter(phone=sender),
        )
        await store.intake(normalize(inbound, profile))

    for start in range(0, n, 1000):
        await asyncio.gather(*(one(i) for i in range(start, min(n, start + 1000))))
    while events := await store.claim_events(1000, 30, datetime.now(UTC)):
        opened = [(e, new_case(e.complaint, profile, e.complaint.received_at)) for e in events]
        await store.open_cases(opened)
    await store.close()
    _spread_states(db, rng, [a.code for a in profile.agencies])


def _spread_states(db: Path, rng: random.Random, agencies: list[str]) -> None:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT complaint_id, verification_due_at, completion_due_at, opened_at FROM cases"
        ).fetchall()
        for complaint_id, verification_due, completion_due, opened_at in rows:
            state = rng.choice(STATES)
            agency = rng.choice(agencies) if state in WITH_AGENCY else None
            due = None if state in CLOSED or state == "dijawab" else completion_due
            due = verification_due if state in OPEN_DEADLINE else due
            # Verified within hours to a few days, answered days after: the recap's
            # deadlines kept and its medians in working days have something to count.
            opened = datetime.fromisoformat(opened_at)
            verified = opened + timedelta(hours=rng.randint(2, 120)) if agency else None
            answered = (
                verified + timedelta(hours=rng.randint(20, 240))
                if verified and state in ANSWERED
                else None
            )
            conn.execute(
                "UPDATE cases SET state = ?, agency = ?, due_at = ?, closed_at = ?, "
                "verified_at = ?, answered_at = ? WHERE complaint_id = ?",
                (
                    state,
                    agency,
                    due,
                    opened_at if state in CLOSED else None,
                    _ts(verified),
                    _ts(answered),
                    complaint_id,
                ),
            )
            if agency:
                conn.execute(
                    "INSERT INTO case_agencies (complaint_id, agency, since) VALUES (?, ?, ?)",
                    (complaint_id, agency, opened_at),
                )
        conn.execute("DELETE FROM case_counts")
        conn.execute(
            "INSERT INTO case_counts (agency, state, n) "
            "SELECT COALESCE(agency, ''), state, count(*) FROM cases GROUP BY 1, 2"
        )
        conn.execute("ANALYZE")


def _ts(moment: datetime | None) -> str | None:
    return None if moment is None else ts(moment)


def add_staff(work: Path, db: Path) -> None:
    for username, role, agency in STAFF:
        command = [*CLI, "staff", "add", username, "--role", role, "--name", username.title()]
        if agency:
            command += ["--agency", agency]
        subprocess.run(
            command,
            input=PASSWORD + "\n",
            text=True,
            check=True,
            capture_output=True,
            cwd=work,
            env=clean_environ(LAPOR_DATABASE_URL=f"sqlite:///{db}"),
        )


@dataclass
class Browser:
    http: ClientSession

    async def get(self, path: str) -> tuple[int, str]:
        async with self.http.get(path) as response:
            return response.status, await response.text()

    async def post_form(self, page: str, action: str, fields: dict[str, str]) -> str:
        _, html = await self.get(page)
        token = _field(html, "csrf_token")
        async with self.http.post(action, data={"csrf_token": token, **fields}) as response:
            body = await response.text()
            if response.status != 200:
                raise RuntimeError(f"{action} {fields.get('action', '')}: {response.status}")
            return body

    async def act(self, tracking_id: str, action: str, **fields: str) -> None:
        page = f"/admin/cases/{tracking_id}"
        _, html = await self.get(page)
        version = _field(html, "version")
        await self.post_form(
            page, f"{page}/actions", {"action": action, "version": version} | fields
        )


def _field(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    if match is None:
        raise RuntimeError(f"no {name} on the page")
    return match.group(1)


async def signed_in(base: str, username: str) -> Browser:
    browser = Browser(ClientSession(base_url=base, cookie_jar=CookieJar(unsafe=True)))
    await browser.post_form(
        "/admin/login", "/admin/login", {"username": username, "password": PASSWORD}
    )
    return browser


async def walked_case(base: str, people: dict[str, Browser]) -> str:
    """A complaint filed through the app API and walked to its published answer."""
    async with ClientSession(base_url=base) as http:
        body = {"text": "Jalan poros Sungai Awan Kiri berlubang besar, membahayakan pengendara.",
                "phone": "081234567890", "name": "Siti"}  # fmt: skip
        async with http.post("/api/v1/complaints", json=body) as response:
            tracking_id: str = (await response.json())["tracking_id"]
    for _ in range(100):  # the dispatcher opens its case within a poll or two
        _, html = await people["ani"].get(f"/admin/cases/{tracking_id}")
        if 'data-state="diterima"' in html:
            break
        await asyncio.sleep(0.1)
    steps = [
        ("ani", "verifikasi", {"agency": "PUPR"}),
        ("opd-pupr", "disposisi", {"to": "pejabat-pupr"}),
        ("pejabat-pupr", "tindak_lanjut", {"text": "Tim turun ke lokasi."}),
        ("opd-pupr", "konsep", {"perihal": "Perbaikan jalan", "isi": "Jalan ditambal."}),
        ("opd-pupr", "ajukan", {}),
        ("pejabat-pupr", "kembalikan_konsep", {"note": "Sebutkan tanggalnya."}),
        ("opd-pupr", "konsep", {"perihal": "Perbaikan jalan", "isi": "Ditambal 2 Sept."}),
        ("opd-pupr", "ajukan", {}),
        ("pejabat-pupr", "setujui", {}),
        ("opd-pupr", "terbitkan", {}),
    ]
    for who, action, fields in steps:
        await people[who].act(tracking_id, action, **fields)
    return tracking_id


def pages(tracking_id: str, month: str, last_day: str) -> list[tuple[str, str, str]]:
    """(what, who, path) of every page timed."""
    case = f"/admin/cases/{tracking_id}"
    return [
        ("antrian (paling mendesak)", "ani", "/admin/"),
        ("antrian, tab diterima", "ani", "/admin/?state=diterima"),
        ("antrian, SMS + kategori jalan", "ani", "/admin/?channel=sms&category=jalan_jembatan"),
        ("antrian, lewat tenggat", "ani", "/admin/?due=overdue"),
        ("antrian, terbaru, halaman 2", "ani", "NEXT"),
        ("antrian, cari teks", "ani", "/admin/?q=PDAM"),
        ("antrian, cari nomor", "ani", f"/admin/?q={tracking_id}"),
        ("antrian, baris (muat ulang)", "ani", "/admin/?partial=rows"),
        ("antrian Admin OPD", "opd-pupr", "/admin/"),
        ("tugas saya Admin OPD", "opd-pupr", "/admin/?mine=true"),
        ("kasus", "ani", case),
        ("nota dinas (cetak)", "opd-pupr", f"{case}/nota"),
        ("nota dinas (PDF)", "opd-pupr", f"{case}/nota.pdf"),
        ("rekap sebulan", "utama", f"/admin/recap?from={month}-01&to={last_day}"),
        ("petugas", "utama", "/admin/staff"),
    ]


async def time_page(browser: Browser, path: str) -> dict[str, Any]:
    times: list[float] = []
    status = 0
    for _ in range(REPEAT):
        started = time.perf_counter()
        async with browser.http.get(path) as response:
            await response.read()
            status = response.status
        times.append((time.perf_counter() - started) * 1000)
    return {
        "status": status,
        "median_ms": round(statistics.median(times), 1),
        "p95_ms": round(percentile(times, 95), 1),
        "max_ms": round(max(times), 1),
    }


async def measure(work: Path) -> dict[str, Any]:
    db = work / "console.db"
    started = time.perf_counter()
    await build_store(db, COMPLAINTS)
    built_s = time.perf_counter() - started
    add_staff(work, db)
    launcher = Launcher(work)
    server = launcher.start(db, LAPOR_LOG_LEVEL="WARNING")
    try:
        await server.wait_until_up()
        base = server.base
        people = {name: await signed_in(base, name) for name, _, _ in STAFF}
        tracking_id = await walked_case(base, people)
        _, first = await people["ani"].get("/admin/?sort=newest")
        next_page = re.search(r'<a href="([^"]+)" rel="next">', first)
        timings: dict[str, Any] = {}
        for what, who, path in pages(tracking_id, "2026-06", "2026-06-30"):
            if path == "NEXT":
                path = next_page.group(1).replace("&amp;", "&") if next_page else "/admin/"
            timings[what] = await time_page(people[who], path)
        for browser in people.values():
            await browser.http.close()
    finally:
        launcher.stop_all()
    return {"complaints": COMPLAINTS, "store_built_s": round(built_s, 1), "pages": timings}


def print_table(result: dict[str, Any]) -> None:
    print(f"\nconsole pages with {result['complaints']} complaints "
          f"(store built in {result['store_built_s']} s), {REPEAT} requests each:")  # fmt: skip
    print(f"  {'page':32} {'status':>6} {'median':>8} {'p95':>8} {'max':>8}")
    for what, t in result["pages"].items():
        mark = "" if t["p95_ms"] < TARGET_MS and t["status"] == 200 else "  <-- over target"
        print(f"  {what:32} {t['status']:>6} {t['median_ms']:>6} ms {t['p95_ms']:>6} ms "
              f"{t['max_ms']:>6} ms{mark}")  # fmt: skip


async def main() -> None:
    with tempfile.TemporaryDirectory(prefix="lapor-console-bench-") as tmp:
        result = await measure(Path(tmp))
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results["console"] = result
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print_table(result)


if __name__ == "__main__":
    asyncio.run(main())
