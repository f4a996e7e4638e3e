"""`lapor-gateway backup DIR` and `lapor-gateway restore DIR` (the hardening issue).

A backup taken by the console script while the real gateway process takes SMS and web
forms with photos is restored into a fresh database and upload directory; a gateway started
on them has every complaint acknowledged before the backup began, with its tracking ID and
its photo's bytes. Then what the commands refuse, with their exit codes: 2 for a refusal
(nothing changed), 1 for a backup that is not whole.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession

from gateway.cli import main
from gateway.csrf import CSRF_COOKIE
from store.backup import MANIFEST_FILE, UPLOADS_DIR, read_manifest
from store.blobs import BlobStore
from tests.conftest import (
    ADMIN_AUTH,
    ADMIN_TOKEN,
    eventually,
    form_data,
    start_gateway,
    tracking_id_on,
)
from tests.gateway.sms_support import SignedDelivery, deliver, signed_deliveries
from tests.gateway.test_crash_safety import (
    TWILIO_ON,
    assert_filed_as_answered,
    assert_intact,
    client_session,
)
from tests.processes import CLI, Launcher, clean_environ
from tests.store.test_backup import Site, photo, sha

RUN_WITHIN = 60.0  # one command's bound; past it the test fails rather than hangs
LOAD_WITHIN = 90.0  # the whole load's bound
CLIENTS = 16  # concurrent SMS deliveries; one more client fills in web forms
# More than arrive while the backup runs (the gateway takes a few hundred a second): the
# load fails loudly if it runs out before the backup is done.
DELIVERIES = 4000
SMS_FIRST, PHOTOS_FIRST = 100, 3  # acknowledged before the backup starts


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str


async def lapor_gateway(*args: str, cwd: Path, site: Site) -> Ran:
    """The console script as an operator runs it, without blocking the test's event loop."""
    process = await asyncio.create_subprocess_exec(
        *CLI,
        *args,
        cwd=cwd,
        env=clean_environ(**site.settings()),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(RUN_WITHIN):
            out, err = await process.communicate()
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return Ran(process.returncode, out.decode(), err.decode())


async def file_with_photo(http: ClientSession, form_url: str, n: int) -> tuple[str, bytes]:
    """A citizen's web form with a photo; (its tracking ID, the photo)."""
    async with http.get(form_url) as page:
        html = await page.text()
        nonce = page.cookies[CSRF_COOKIE].value
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert token, html
    data = form_data(
        {
            "csrf_token": token.group(1),
            "text": f"Jalan berlubang besar di Desa Sukamaju, dua motor jatuh (laporan {n}).",
            "name": "Siti Aminah",
            "phone": "0812-3456-7890",
        }
    )
    data.add_field("attachments", photo(n), filename="lubang.png", content_type="image/png")
    # The nonce by hand: behind an https address the cookie is Secure, and this client talks
    # plain http to 127.0.0.1, as the reverse proxy in front of the gateway does.
    headers = {"Cookie": f"{CSRF_COOKIE}={nonce}"}
    async with http.post(form_url, data=data, headers=headers) as response:
        receipt = await response.text()
        assert response.status == 201, receipt[:500]
    return tracking_id_on(receipt), photo(n)


# --- a backup under load --------------------------------------------------------------------


@dataclass(frozen=True)
class Acknowledged:
    sms: dict[str, str]
    """MessageSid → the tracking ID the delivery was answered with."""
    photos: dict[str, bytes]
    """Tracking ID → the photo its web form carried."""


@dataclass
class Load:
    """Complaints arriving until stopped: Twilio SMS deliveries from many clients and, among
    them, citizens' web forms with a photo each."""

    base: str
    deliveries: Iterator[SignedDelivery]
    sms: dict[str, str] = field(default_factory=dict)
    photos: dict[str, bytes] = field(default_factory=dict)
    stopped: asyncio.Event = field(default_factory=asyncio.Event)

    def acknowledged(self) -> Acknowledged:
        return Acknowledged(dict(self.sms), dict(self.photos))

    async def progress(self) -> Acknowledged:
        return self.acknowledged()

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        async with (
            client_session(CLIENTS + 1) as http,
            asyncio.timeout(LOAD_WITHIN),
            asyncio.TaskGroup() as clients,
        ):
            for _ in range(CLIENTS):
                clients.create_task(self._send_sms(http))
            clients.create_task(self._fill_in_forms(http))
            try:
                yield
            finally:
                self.stopped.set()

    async def _send_sms(self, http: ClientSession) -> None:
        for delivery in self.deliveries:  # shared: each client takes the next one
            if self.stopped.is_set():
                return
            answer = await deliver(http, self.base, delivery)
            assert answer.status == 200, answer.text[:200]
            self.sms[delivery.sid] = answer.tracking_id
        raise AssertionError(f"the load ran out of its {DELIVERIES} deliveries: make more")

    async def _fill_in_forms(self, http: ClientSession) -> None:
        n = 0
        while not self.stopped.is_set():
            tracking_id, data = await file_with_photo(http, f"{self.base}/lapor", n)
            self.photos[tracking_id] = data
            n += 1


async def admin_view(http: ClientSession, base: str, tracking_id: str) -> dict[str, Any] | None:
    async with http.get(f"{base}/api/v1/complaints/{tracking_id}", headers=ADMIN_AUTH) as r:
        if r.status == 404:
            return None
        assert r.status == 200, await r.text()
        found: dict[str, Any] = await r.json()
        return found


async def test_a_backup_taken_under_load_restores_every_complaint_acknowledged_before_it(
    launcher: Launcher, tmp_path: Path
) -> None:
    live = Site(tmp_path)  # the launcher's: tmp_path/lapor.db and tmp_path/uploads
    server = launcher.start(**TWILIO_ON)
    await server.wait_until_up()
    load = Load(server.base, iter(signed_deliveries(random.Random(1708), DELIVERIES)))
    backup = tmp_path / "backup"
    async with load.running():
        await eventually(
            load.progress,
            lambda a: len(a.sms) >= SMS_FIRST and len(a.photos) >= PHOTOS_FIRST,
            LOAD_WITHIN,
        )
        before = load.acknowledged()
        made = await lapor_gateway("backup", str(backup), cwd=tmp_path, site=live)
        after = load.acknowledged()
    assert made.code == 0, made.err
    # It ran under load: complaints were acknowledged while it copied.
    assert len(after.sms) > len(before.sms), "no SMS was acknowledged during the backup"
    manifest = read_manifest(backup)
    assert manifest.complaints >= len(before.sms) + len(before.photos)
    assert made.out.startswith(f"backup in {backup}: {manifest.complaints} complaints")
    server.stop_now()

    fresh = Site(tmp_path / "fresh")
    restored = await lapor_gateway("restore", str(backup), cwd=tmp_path, site=fresh)
    assert restored.code == 0, restored.err
    assert_filed_as_answered(fresh.db, before.sms, "after the restore")
    gateway = launcher.start(
        fresh.db, LAPOR_UPLOAD_DIR=str(fresh.uploads), LAPOR_ADMIN_TOKENS=f"ani:{ADMIN_TOKEN}"
    )
    await gateway.wait_until_up()
    wanted = [*before.sms.values(), *before.photos]
    async with client_session() as http:
        views = await asyncio.gather(*(admin_view(http, gateway.base, t) for t in wanted))
    found = {tracking_id: view for tracking_id, view in zip(wanted, views, strict=True) if view}
    lost = sorted(set(wanted) - found.keys())
    assert not lost, f"{len(lost)} acknowledged complaints not restored, e.g. {lost[:5]}"
    for tracking_id, data in before.photos.items():
        [attachment] = found[tracking_id]["attachments"]
        assert attachment["sha256"] == sha(data)
        assert fresh.blob(data).read_bytes() == data
    assert_intact(fresh.db)


# --- what the commands refuse -----------------------------------------------------------------


@dataclass
class Cli:
    """`lapor-gateway` in this process (quicker than the console script), with the settings
    of a site in its environment, in a thread: a restore runs an event loop of its own."""

    env: pytest.MonkeyPatch
    capsys: pytest.CaptureFixture[str]

    async def __call__(self, site: Site, *argv: str) -> Ran:
        for name, value in site.settings().items():
            self.env.setenv(name, value)
        code = await asyncio.to_thread(main, list(argv))
        out, err = self.capsys.readouterr()
        return Ran(code, out, err)


@pytest.fixture
def cli(clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(clean_env, capsys)


async def filed(site: Site, photos: int) -> dict[str, bytes]:
    """Complaints with a photo each, filed through a gateway on the site; by tracking ID."""
    running = await start_gateway(site.root)
    try:
        async with client_session() as http:
            return dict(
                [await file_with_photo(http, running.url("/lapor"), n) for n in range(photos)]
            )
    finally:
        await running.stop()


async def test_a_backup_goes_only_into_a_new_or_empty_directory(cli: Cli, tmp_path: Path) -> None:
    site = Site(tmp_path / "site")
    await filed(site, 1)
    backup = tmp_path / "backup"
    backup.mkdir()
    (backup / "catatan.txt").write_text("cadangan minggu lalu")
    ran = await cli(site, "backup", str(backup))
    assert (ran.code, ran.out) == (2, "")
    assert f"{backup} is not empty" in ran.err
    assert [p.name for p in backup.iterdir()] == ["catatan.txt"]


async def test_a_restore_replaces_complaints_only_when_forced(cli: Cli, tmp_path: Path) -> None:
    site, other = Site(tmp_path / "site"), Site(tmp_path / "other")
    ours = await filed(site, 1)
    theirs = await filed(other, 2)
    backup = str(tmp_path / "backup")
    assert (await cli(site, "backup", backup)).code == 0
    refused = await cli(other, "restore", backup)
    assert refused.code == 2
    assert f"{other.db} holds 2 complaints" in refused.err and "--force" in refused.err
    assert other.tracking_ids() == sorted(theirs)

    forced = await cli(other, "restore", "--force", backup)
    assert forced.code == 0, forced.err
    assert forced.out.startswith(f"restored {backup} into {other.db}: 1 complaints")
    assert other.tracking_ids() == sorted(ours)


async def test_a_restore_refuses_while_a_gateway_runs_on_the_target(
    cli: Cli, launcher: Launcher, tmp_path: Path
) -> None:
    site, target = Site(tmp_path / "site"), Site(tmp_path / "target")
    await filed(site, 1)
    backup = str(tmp_path / "backup")
    assert (await cli(site, "backup", backup)).code == 0
    server = launcher.start(target.db, LAPOR_UPLOAD_DIR=str(target.uploads))
    await server.wait_until_up()  # idle, with no complaint yet: only its being open stops it
    refused = await cli(target, "restore", "--force", backup)
    assert refused.code == 2
    assert f"{target.db} is open in another process" in refused.err
    assert target.tracking_ids() == []
    assert not target.uploads.exists()
    await server.wait_until_up()  # still serving

    server.stop_now()
    assert (await cli(target, "restore", backup)).code == 0


@pytest.mark.parametrize("tamper", ["manifest checksum", "photo"])
async def test_a_restore_refuses_a_backup_that_does_not_match_its_manifest(
    cli: Cli, tmp_path: Path, tamper: str
) -> None:
    site, fresh = Site(tmp_path / "site"), Site(tmp_path / "fresh")
    [data] = (await filed(site, 1)).values()
    backup = tmp_path / "backup"
    assert (await cli(site, "backup", str(backup))).code == 0
    if tamper == "manifest checksum":
        path = backup / MANIFEST_FILE
        manifest = json.loads(path.read_text())
        manifest["database"]["sha256"] = "f" * 64
        path.write_text(json.dumps(manifest))
        damaged = backup / "lapor.db"
    else:
        damaged = BlobStore(backup / UPLOADS_DIR).path_for(sha(data))
        damaged.write_bytes(data[:-1])
    ran = await cli(fresh, "restore", str(backup))
    assert ran.code == 2
    assert f"{damaged}: its SHA-256 differs from the manifest" in ran.err
    assert not fresh.root.exists()


async def test_a_photo_missing_at_backup_time_is_reported_and_the_rest_is_kept(
    cli: Cli, tmp_path: Path
) -> None:
    site, fresh = Site(tmp_path / "site"), Site(tmp_path / "fresh")
    photos = {sha(data): data for data in (await filed(site, 2)).values()}
    lost, kept = photos
    BlobStore(site.uploads).path_for(lost).unlink()
    backup = tmp_path / "backup"
    ran = await cli(site, "backup", str(backup))
    assert ran.code == 1
    assert "WARNING: 1 attachment file(s)" in ran.err and f"{lost} (missing)" in ran.err
    assert ran.out.startswith(f"backup in {backup}: 2 complaints, 1 attachment file(s)")
    manifest = read_manifest(backup)
    assert [m.sha256 for m in manifest.missing_blobs] == [lost]
    assert [b.sha256 for b in manifest.blobs] == [kept]

    restored = await cli(fresh, "restore", str(backup))
    assert restored.code == 0, restored.err
    assert "1 attachment file(s) were already missing" in restored.err
    assert fresh.tracking_ids() == site.tracking_ids()
    assert fresh.blob(photos[kept]).read_bytes() == photos[kept]


@pytest.mark.parametrize("command", ["backup", "restore"])
async def test_only_sqlite_is_supported_yet_and_the_url_is_never_printed(
    clean_env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    command: str,
) -> None:
    backup = tmp_path / "backup"
    clean_env.setenv("LAPOR_DATABASE_URL", "postgresql://lapor:kata-rahasia@db.internal/lapor")
    code = await asyncio.to_thread(main, [command, str(backup)])
    out, err = capsys.readouterr()
    assert code == 2
    assert "'postgresql' database are not supported yet" in err
    assert "kata-rahasia" not in out + err and "db.internal" not in out + err
    assert not backup.exists()
