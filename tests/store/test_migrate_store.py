"""`migrate-store` (store/migrate_store.py): an embedded installation filled by the real
SqliteStore (intake with photos, cases opened and verified, staff, SMS) copied into a fresh
PostgreSQL database, then read back by the real PostgresStore; and what it refuses.

The source and the target are read by connections of the test's own."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from config.profile import load_profile
from gateway.cli import main
from gateway.dispatcher import Dispatcher
from normalizer.models import Attachment, Channel, Complaint, Inbound, RawPayload
from normalizer.normalize import normalize
from store.base import Store
from store.blobs import BlobStore
from store.migrate_store import (
    RUNS_TABLE,
    Interrupted,
    MigrationRefused,
    Outcome,
    migrate_store,
)
from store.postgres import PostgresStore
from store.sms import OutboundSms, PartKey, SmsRecord, SmsTake, StoredPart
from store.sqlite import SqliteStore
from store.staff import StaffAccount, StaffSession
from store.workflow import CitizenCode
from tests.conftest import FRIDAY_BEFORE_HOLIDAY, Clock, tiny_png
from tests.gateway.test_cli import run_cli
from tests.servers import Server
from workflow.actions import Verifikasi
from workflow.roles import Actor, Role
from workflow.service import WorkflowService

PROFILE = load_profile("ketapang")
NOW = FRIDAY_BEFORE_HOLIDAY
SENDER = "+6281234567890"
PENGHUBUNG = Actor(username="penghubung", role=Role.ADMIN_PENGHUBUNG)
BOOKKEEPING = {"sqlite_sequence", "schema_migrations"}
FILLED = {
    "complaints", "inbound_payloads", "outbox", "cases", "case_events", "case_counts",
    "case_agencies", "complaint_blobs", "citizen_messages", "citizen_codes", "staff",
    "staff_tokens", "sessions", "sms_messages", "sms_outbound", "sms_part_groups", "sms_parts",
    "event_relay",
}  # fmt: skip


@dataclass(frozen=True)
class Source:
    """A gateway's files, filled by its store: the database and the upload directory."""

    root: Path
    tracking_ids: list[str]
    photos: list[str]

    @property
    def db(self) -> Path:
        return self.root / "lapor.db"

    @property
    def uploads(self) -> Path:
        return self.root / "uploads"

    @property
    def url(self) -> str:
        return f"sqlite:///{self.db}"

    def rows(self, query: str) -> list[tuple[Any, ...]]:
        with closing(sqlite3.connect(self.db)) as conn:
            return conn.execute(query).fetchall()

    def tables(self) -> set[str]:
        found = self.rows("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {str(name) for (name,) in found} - BOOKKEEPING

    def count(self, table: str) -> int:
        return int(self.rows(f"SELECT count(*) FROM {table}")[0][0])


def target_url(server: Server) -> str:
    return server.url("postgresql", server.database or "")


def target_rows(server: Server, query: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(target_url(server), autocommit=True) as conn:
        return conn.execute(query.encode()).fetchall()


async def migrate(source: Source, server: Server, **options: Any) -> Outcome:
    return await migrate_store(
        source.url, target_url(server), source.uploads, clock=Clock(NOW), **options
    )


# -- the source, filled by the store ------------------------------------------------------


@pytest.fixture
async def source(tmp_path: Path) -> Source:
    return await fill(tmp_path / "site")


async def fill(root: Path) -> Source:
    clock = Clock(NOW)
    store = SqliteStore(root / "lapor.db", clock=clock)
    await store.open()
    try:
        photos = await _photos(BlobStore(root / "uploads"), 3)
        tracking_ids = [await _file(store, n, photos[n : n + 2]) for n in range(3)]
        tracking_ids.append(await _sms(store))
        await _work_the_cases(store, clock, tracking_ids[0])
        await _staff(store)
        await store.advance_relay("LAPOR", 2)
    finally:
        await store.close()
    return Source(root, tracking_ids, [a.sha256 for a in photos])


async def _photos(blobs: BlobStore, n: int) -> list[Attachment]:
    found = []
    for i in range(n):
        data = tiny_png() + f"foto {i}".encode()
        digest, size = await blobs.put(_chunks(data), max_bytes=2**20)
        found.append(
            Attachment(filename="foto.png", content_type="image/png", size=size, sha256=digest)
        )
    return found


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _file(store: Store, n: int, photos: list[Attachment]) -> str:
    inbound = Inbound(
        channel=Channel.APP,
        external_id=f"app-{n}",
        text=f"Jalan di Desa Sukamaju berlubang besar, dua motor jatuh (laporan {n}).",
        attachments=tuple(photos),
        received_at=NOW + timedelta(minutes=n),
        raw=RawPayload(content_type="application/json", body=b'{"n": %d}\x00\xff' % n),
    )
    return (await store.intake(normalize(inbound, PROFILE))).complaint.tracking_id


async def _sms(store: SqliteStore) -> str:
    """A long SMS in two parts, taken in with its reply queued to send."""
    key = PartKey(gateway="vonage", sender=SENDER, reference=7, total=2)
    for seq, text in ((1, "Sampah menumpuk di pasar "), (2, "Delta Pawan sejak seminggu.")):
        raw = RawPayload(content_type="text/plain", body=text.encode())
        await store.add_sms_part(
            key, StoredPart(seq=seq, message_id=f"m{seq}", text=text, received_at=NOW, raw=raw)
        )
    inbound = Inbound(
        channel=Channel.SMS,
        external_id="vonage:m2",
        sender=SENDER,
        text="Sampah menumpuk di pasar Delta Pawan sejak seminggu.",
        received_at=NOW,
    )
    take = SmsTake(
        record=SmsRecord(
            gateway="vonage", message_id="m2", sender=SENDER, received_at=NOW, intent="complaint"
        ),
        answer=_acknowledge,
        draft=normalize(inbound, PROFILE),
        queue=_queue,
    )
    taken = await store.take_sms(take)
    with closing(sqlite3.connect(store.path)) as conn:
        [(tracking_id,)] = conn.execute(
            "SELECT tracking_id FROM complaints WHERE id = ?", (taken.complaint_id,)
        ).fetchall()
    return str(tracking_id)


def _acknowledge(complaint: Complaint | None) -> str:
    assert complaint is not None
    return f"LAPOR! diterima, no. {complaint.tracking_id}"


def _queue(done: SmsRecord) -> OutboundSms:
    return OutboundSms(
        id=f"reply-{done.message_id}",
        gateway="vonage",
        recipient=SENDER,
        text=done.reply or "",
        purpose="reply",
        complaint_id=done.complaint_id,
        next_attempt_at=NOW,
        created_at=NOW,
    )


async def _work_the_cases(store: SqliteStore, clock: Clock, tracking_id: str) -> None:
    """Every case opened by the dispatcher; one verified and sent to an agency."""
    workflow = WorkflowService(store, PROFILE, clock, lambda t: f"http://lapor.test/status/{t}")
    await Dispatcher(store, PROFILE, workflow, clock, poll_seconds=1).run_once()
    clock.advance(hours=1)
    await workflow.act(
        tracking_id, PENGHUBUNG, Verifikasi(action="verifikasi", version=1, agency="PUPR")
    )
    complaint = await store.get_complaint(tracking_id)
    assert complaint is not None
    await store.set_citizen_code(
        CitizenCode(complaint_id=complaint.id, kind="desk", code_hash="0" * 64, created_at=NOW)
    )


async def _staff(store: SqliteStore) -> None:
    """An account with a token and a session; three failed sign-ins, cleared (their ids
    are gone from the table, not from sqlite_sequence)."""
    await store.add_staff(
        StaffAccount(
            username="penghubung", role=Role.ADMIN_PENGHUBUNG.value, name="Rina",
            password_hash="$argon2id$x", created_at=NOW, updated_at=NOW,
        )
    )  # fmt: skip
    await store.add_staff_token("a" * 64, "penghubung", NOW, NOW + timedelta(days=30))
    await store.add_session(
        StaffSession(token_hash="b" * 64, username="penghubung", source="account",
                     created_at=NOW, expires_at=NOW + timedelta(hours=8))
    )  # fmt: skip
    for _ in range(3):
        await store.record_login_failure("penghubung", "10.0.0.9", NOW)
    await store.clear_login_failures("penghubung", "10.0.0.9")


# -- the copy -----------------------------------------------------------------------------


async def test_every_table_is_copied_verified_and_read_back_the_same(
    source: Source, postgresql_database: Server
) -> None:
    db_before = hashlib.sha256(source.db.read_bytes()).hexdigest()
    outcome = await migrate(source, postgresql_database, batch_rows=2)
    assert outcome.ok and not outcome.already_done
    assert {c.table for c in outcome.tables} == source.tables()
    assert all(c.ok for c in outcome.tables)
    assert {t: source.count(t) for t in source.tables()} == {
        c.table: c.target_rows for c in outcome.tables
    }
    assert all(source.count(t) > 0 for t in FILLED), {t: source.count(t) for t in FILLED}
    assert outcome.blobs == len(source.photos) and outcome.missing_blobs == ()
    # Read only: the file's bytes are the same.
    assert hashlib.sha256(source.db.read_bytes()).hexdigest() == db_before
    [(finished,)] = target_rows(postgresql_database, f"SELECT finished_at FROM {RUNS_TABLE}")
    assert finished is not None
    await assert_reads_the_same(source, postgresql_database)


async def assert_reads_the_same(source: Source, server: Server) -> None:
    lite = SqliteStore(source.db)
    pg = PostgresStore(target_url(server))
    await lite.open()
    await pg.open()
    try:
        for tracking_id in source.tracking_ids:
            complaint = await lite.get_complaint(tracking_id)
            assert complaint is not None
            assert await pg.get_complaint(tracking_id) == complaint
            assert await pg.get_case(complaint.id) == await lite.get_case(complaint.id)
            assert await pg.timeline(complaint.id) == await lite.timeline(complaint.id)
            assert await pg.citizen_messages(complaint.id) == await lite.citizen_messages(
                complaint.id
            )
        assert await pg.list_staff() == await lite.list_staff()
        assert await pg.outbound_sms() == await lite.outbound_sms()
        assert await pg.case_counts() == await lite.case_counts()
    finally:
        await pg.close()
        await lite.close()


async def test_new_rows_get_ids_past_the_copied_ones(
    source: Source, postgresql_database: Server
) -> None:
    [(outbox_seq,)] = source.rows("SELECT max(seq) FROM outbox")
    [(event_id,)] = source.rows("SELECT max(id) FROM case_events")
    [(failures,)] = source.rows("SELECT seq FROM sqlite_sequence WHERE name = 'login_failures'")
    assert source.count("login_failures") == 0 and failures == 3
    assert (await migrate(source, postgresql_database)).ok
    clock = Clock(NOW + timedelta(days=1))
    store = PostgresStore(target_url(postgresql_database), clock=clock)
    await store.open()
    try:
        await _file(store, 9, [])
        workflow = WorkflowService(store, PROFILE, clock, lambda t: t)
        await Dispatcher(store, PROFILE, workflow, clock, poll_seconds=1).run_once()
        await store.record_login_failure("penghubung", "10.0.0.9", clock())
    finally:
        await store.close()
    [(new_seq,)] = target_rows(postgresql_database, "SELECT max(seq) FROM outbox")
    [(new_event,)] = target_rows(postgresql_database, "SELECT max(id) FROM case_events")
    [(new_failure,)] = target_rows(postgresql_database, "SELECT id FROM login_failures")
    # Past the highest ever given, not merely past the rows left: SQLite's AUTOINCREMENT
    # never gave a cleared failure's id again, and neither does PostgreSQL now.
    assert (new_seq, new_event, new_failure) == (outbox_seq + 1, event_id + 1, failures + 1)


# -- runs: again, interrupted, refused -----------------------------------------------------


async def test_a_second_run_copies_nothing_and_a_changed_source_is_refused(
    source: Source, postgresql_database: Server
) -> None:
    first = await migrate(source, postgresql_database)
    again = await migrate(source, postgresql_database)
    assert again.ok and again.already_done and again.copied == {}
    assert again.run == first.run
    assert target_rows(postgresql_database, f"SELECT count(*) FROM {RUNS_TABLE}") == [(1,)]
    # The gateway went on taking complaints on SQLite after the migration.
    store = SqliteStore(source.db, clock=Clock(NOW))
    await store.open()
    await _file(store, 7, [])
    await store.close()
    with pytest.raises(MigrationRefused, match=r"changed since \(complaints 4 -> 5 rows"):
        await migrate(source, postgresql_database)


async def test_a_target_holding_rows_of_its_own_is_refused(
    source: Source, postgresql_database: Server
) -> None:
    store = PostgresStore(target_url(postgresql_database), clock=Clock(NOW))
    await store.open()
    await _file(store, 1, [])
    await store.close()
    with pytest.raises(MigrationRefused, match=r"already holds rows \(in complaints, "):
        await migrate(source, postgresql_database)
    assert target_rows(postgresql_database, "SELECT count(*) FROM complaints") == [(1,)]
    assert target_rows(postgresql_database, f"SELECT count(*) FROM {RUNS_TABLE}") == [(0,)]


async def test_an_interrupted_run_is_resumed_only_when_asked_and_then_completes(
    source: Source, postgresql_database: Server
) -> None:
    # Parents first: case_counts (one batch), then half of the complaints.
    with pytest.raises(Interrupted):
        await migrate(source, postgresql_database, batch_rows=2, stop_after_batches=2)
    [(finished, progress)] = target_rows(
        postgresql_database, f"SELECT finished_at, progress FROM {RUNS_TABLE}"
    )
    ids = [str(i) for (i,) in source.rows("SELECT id FROM complaints ORDER BY id")]
    assert finished is None
    assert progress["complaints"] == {"rows": 2, "last_key": [ids[1]], "done": False}
    before = sum(table["rows"] for table in progress.values())
    with pytest.raises(MigrationRefused, match="did not finish: add --resume"):
        await migrate(source, postgresql_database)
    resumed = await migrate(source, postgresql_database, batch_rows=2, resume=True)
    assert resumed.ok and all(c.ok for c in resumed.tables)
    total = sum(source.count(t) for t in source.tables())
    # Each row once: the second run went on after the first one's last batch.
    assert resumed.copied["complaints"] == len(ids) - 2
    assert sum(resumed.copied.values()) == total - before
    assert sum(c.target_rows for c in resumed.tables) == total
    assert (await migrate(source, postgresql_database)).already_done


async def test_a_missing_photo_fails_the_verification_until_it_is_back(
    source: Source, postgresql_database: Server
) -> None:
    missing = BlobStore(source.uploads).path_for(source.photos[1])
    kept = missing.read_bytes()
    missing.unlink()
    outcome = await migrate(source, postgresql_database)
    assert all(c.ok for c in outcome.tables) and not outcome.ok
    assert [(b.sha256, b.reason) for b in outcome.missing_blobs] == [(source.photos[1], "missing")]
    missing.write_bytes(kept)
    again = await migrate(source, postgresql_database)
    assert again.already_done and again.ok


async def test_a_source_open_in_another_process_is_refused_before_anything(
    source: Source, postgresql_database: Server
) -> None:
    with (
        held_open(source.db) as pid,
        pytest.raises(MigrationRefused, match=rf"open in another process \(pid {pid}"),
    ):
        await migrate(source, postgresql_database)
    # The target was not even given the schema.
    assert target_rows(
        postgresql_database, "SELECT count(*) FROM pg_tables WHERE tablename = 'complaints'"
    ) == [(0,)]


@contextmanager
def held_open(db: Path) -> Iterator[int]:
    """Another process with a connection to the database that has read it, as a gateway
    has; its process id."""
    code = (
        "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
        "c.execute('SELECT count(*) FROM complaints').fetchall(); print('open', flush=True); "
        "sys.stdin.read()"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code, str(db)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "open\n"
        yield holder.pid
    finally:
        holder.communicate("", timeout=10)


async def test_a_source_of_another_schema_version_is_refused(
    source: Source, postgresql_database: Server
) -> None:
    with closing(sqlite3.connect(source.db)) as conn, conn:
        conn.execute("DELETE FROM schema_migrations WHERE version = 11")
    with pytest.raises(MigrationRefused, match=r"lacks this gateway's migrations \[11\]"):
        await migrate(source, postgresql_database)


# -- the command ---------------------------------------------------------------------------


def test_the_command_copies_reports_and_never_prints_the_password(
    source: Source,
    postgresql_database: Server,
    tmp_path: Path,
    clean_env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server = postgresql_database
    # Trust authentication ignores it; the command must not print it either way.
    url = f"postgresql://{server.user}:s3cret-Pw@{server.host}:{server.port}/{server.database}"
    args = ["migrate-store", "--from", source.url, "--to", url]
    done = run_cli(args, tmp_path, LAPOR_UPLOAD_DIR=str(source.uploads))
    assert done.returncode == 0, done.stderr
    assert "s3cret-Pw" not in done.stdout + done.stderr
    assert "postgres:***@" in done.stdout and "The gateway must stay stopped" in done.stdout
    lines = {line.split()[0]: line for line in done.stdout.splitlines() if line.strip()}
    for table in source.tables():
        assert lines[table].endswith("OK"), done.stdout
    assert f"attachment files: {len(source.photos)} referenced, all in" in done.stdout
    assert "migrate-store done: run 1" in done.stdout
    # The exit codes, in-process (a process takes two seconds to start).
    clean_env.setenv("LAPOR_UPLOAD_DIR", str(source.uploads))
    capsys.readouterr()
    assert main(args) == 0
    assert "already done by run 1" in capsys.readouterr().out
    clean_env.setenv("LAPOR_UPLOAD_DIR", str(tmp_path / "elsewhere"))
    assert main(args) == 1
    assert "3 attachment file(s) the complaints refer to are missing" in capsys.readouterr().err
    assert main(["migrate-store", "--from", url, "--to", url]) == 2
    refused = capsys.readouterr().err
    assert "--from must be a sqlite:/// URL, not 'postgresql'" in refused
    assert "s3cret-Pw" not in refused
