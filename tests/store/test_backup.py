"""Backups of the SQLite store (store/backup.py) on real files: what a backup holds, what it
reports, and what a restore puts back or refuses.

The files are made by the store itself (SqliteStore, BlobStore); what the backup and the
restore wrote is read back by connections of the test's own.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
import sqlite3
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from config.profile import load_profile
from normalizer.models import Attachment, Channel, Inbound
from normalizer.normalize import normalize
from store.backup import (
    DATABASE_FILE,
    MANIFEST_FILE,
    UPLOADS_DIR,
    Backup,
    Refused,
    create_backup,
    read_manifest,
    restore_backup,
    sqlite_file,
)
from store.blobs import BlobStore
from store.sqlite import MIGRATIONS, SqliteStore
from tests.conftest import FRIDAY_BEFORE_HOLIDAY, tiny_png

PROFILE = load_profile("ketapang")
TAKEN_AT = datetime(2026, 8, 14, 3, 0, tzinfo=UTC)
LATEST_SCHEMA = max(int(path.name.split("_", 1)[0]) for path in MIGRATIONS.glob("*.sql"))


def photo(n: int) -> bytes:
    """A real PNG with bytes of its own after its end, so each is a file of its own."""
    return tiny_png() + f"foto {n}".encode()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Site:
    """A gateway's files: its database and its upload directory (tmp_path's, for
    tests.conftest.start_gateway and tests.processes.Launcher)."""

    root: Path

    @property
    def db(self) -> Path:
        return self.root / "lapor.db"

    @property
    def uploads(self) -> Path:
        return self.root / "uploads"

    def settings(self) -> dict[str, str]:
        """As the environment of a `lapor-gateway` on this site names them."""
        return {"LAPOR_DATABASE_URL": f"sqlite:///{self.db}", "LAPOR_UPLOAD_DIR": str(self.uploads)}

    def blob(self, data: bytes) -> Path:
        """Where the file with these bytes is kept."""
        return BlobStore(self.uploads).path_for(sha(data))

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        conn = sqlite3.connect(self.db)
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()

    def tracking_ids(self) -> list[str]:
        return [str(tid) for (tid,) in self.rows("SELECT tracking_id FROM complaints ORDER BY 1")]


def file_complaints(site: Site, photos: Sequence[Sequence[bytes]]) -> list[str]:
    """One complaint per entry of `photos`, with those photos; their tracking IDs."""
    return asyncio.run(_file(site, photos))


async def _file(site: Site, photos: Sequence[Sequence[bytes]]) -> list[str]:
    store = SqliteStore(site.db)
    await store.open()
    blobs = BlobStore(site.uploads)
    try:
        filed = []
        for n, files in enumerate(photos):
            attachments = []
            for data in files:
                digest, size = await blobs.put(_chunks(data), max_bytes=2**20)
                attachments.append(
                    Attachment(
                        filename="foto.png", content_type="image/png", size=size, sha256=digest
                    )
                )
            inbound = Inbound(
                channel=Channel.APP,
                external_id=f"app-{n}",
                text=f"Jalan di Desa Sukamaju berlubang besar, dua motor jatuh (laporan {n}).",
                attachments=tuple(attachments),
                received_at=FRIDAY_BEFORE_HOLIDAY,
            )
            result = await store.intake(normalize(inbound, PROFILE))
            filed.append(result.complaint.tracking_id)
        return filed
    finally:
        await store.close()


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


def back_up(site: Site, target: Path) -> Backup:
    return create_backup(
        site.db, site.uploads, target, profile="ketapang", gateway_version="0.1.0", now=TAKEN_AT
    )


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return Site(tmp_path / "site")


@pytest.fixture
def fresh(tmp_path: Path) -> Site:
    """Where a restore goes: nothing there yet."""
    return Site(tmp_path / "fresh")


@contextmanager
def uncommitted(db: Path, sql: str) -> Iterator[None]:
    """A writer in the middle of a transaction that has written `sql`."""
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(sql)
        yield
        conn.execute("ROLLBACK")
    finally:
        conn.close()


@contextmanager
def reading(db: Path) -> Iterator[None]:
    """A connection that has read the database and stays open, as an idle gateway's does."""
    conn = sqlite3.connect(db)
    try:
        conn.execute("SELECT count(*) FROM complaints").fetchall()
        yield
    finally:
        conn.close()


# -- backup ---------------------------------------------------------------------------------


def test_a_backup_is_the_committed_database_and_the_files_its_complaints_refer_to(
    site: Site, tmp_path: Path
) -> None:
    shared, own, loose = photo(1), photo(2), photo(3)
    file_complaints(site, [[shared, own], [shared], []])
    asyncio.run(BlobStore(site.uploads).put(_chunks(loose), 2**20))  # no complaint's
    target = tmp_path / "backup"
    # The backup neither waits for a writer in the middle of a transaction, as the gateway's
    # is under load, nor copies what it has not committed.
    with uncommitted(site.db, "UPDATE complaints SET text = 'belum tersimpan'"):
        made = back_up(site, target)

    manifest = made.manifest
    assert made.integrity == ["ok"] and made.whole
    copy = target / DATABASE_FILE
    assert manifest.database.sha256 == sha(copy.read_bytes())
    assert manifest.database.size == copy.stat().st_size
    assert (manifest.format, manifest.profile, manifest.gateway_version) == (1, "ketapang", "0.1.0")
    assert manifest.created_at == TAKEN_AT
    assert manifest.schema_version == LATEST_SCHEMA
    assert manifest.complaints == 3
    assert [(b.sha256, b.size) for b in manifest.blobs] == sorted(
        (sha(data), len(data)) for data in (shared, own)
    )
    assert manifest.missing_blobs == ()
    assert read_manifest(target) == manifest
    copied = BlobStore(target / UPLOADS_DIR)
    for data in (shared, own):
        assert copied.path_for(sha(data)).read_bytes() == data
    assert not copied.path_for(sha(loose)).exists()
    # One file that needs nothing beside it.
    assert sorted(p.name for p in target.iterdir()) == [DATABASE_FILE, MANIFEST_FILE, UPLOADS_DIR]
    assert Site(target).rows("PRAGMA journal_mode") == [("delete",)]
    assert Site(target).tracking_ids() == site.tracking_ids()
    assert Site(target).rows("SELECT count(*) FROM complaints WHERE text LIKE 'belum%'") == [(0,)]


def test_files_missing_or_damaged_at_backup_time_are_listed_and_the_rest_is_kept(
    site: Site, tmp_path: Path
) -> None:
    kept, gone, damaged = photo(1), photo(2), photo(3)
    file_complaints(site, [[kept, gone], [damaged]])
    site.blob(gone).unlink()
    site.blob(damaged).write_bytes(b"not the photo")
    made = back_up(site, tmp_path / "backup")
    manifest = made.manifest
    assert not made.whole
    assert [(m.sha256, m.reason) for m in manifest.missing_blobs] == sorted(
        [(sha(gone), "missing"), (sha(damaged), "damaged")]
    )
    assert [b.sha256 for b in manifest.blobs] == [sha(kept)]
    assert manifest.complaints == 2
    copied = BlobStore(tmp_path / "backup" / UPLOADS_DIR)
    assert not copied.path_for(sha(damaged)).exists()
    assert copied.path_for(sha(kept)).read_bytes() == kept


def test_a_backup_goes_only_into_a_new_or_empty_directory(site: Site, tmp_path: Path) -> None:
    file_complaints(site, [[photo(1)]])
    (tmp_path / "empty").mkdir()
    assert back_up(site, tmp_path / "empty").manifest.complaints == 1
    assert back_up(site, tmp_path / "new" / "nested").manifest.complaints == 1
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("jangan dihapus")
    with pytest.raises(Refused, match="is not empty"):
        back_up(site, tmp_path / "busy")
    assert [p.name for p in (tmp_path / "busy").iterdir()] == ["notes.txt"]
    (tmp_path / "a-file").write_text("")
    with pytest.raises(Refused, match="is not a directory"):
        back_up(site, tmp_path / "a-file")
    with pytest.raises(Refused, match="there is no database"):
        back_up(Site(tmp_path / "nowhere"), tmp_path / "other")
    assert not (tmp_path / "nowhere" / "lapor.db").exists()


def test_a_damaged_database_is_reported_by_its_backup_and_refused_by_restore(
    site: Site, fresh: Site, tmp_path: Path
) -> None:
    file_complaints(site, [[]])
    # A row its table's CHECK constraint forbids, as a bad sector or a bad tool leaves one.
    conn = sqlite3.connect(site.db, isolation_level=None)
    conn.executescript(
        "CREATE TABLE notes (n INTEGER CHECK (n > 0)); PRAGMA ignore_check_constraints = ON; "
        "INSERT INTO notes VALUES (-1);"
    )
    conn.close()
    made = back_up(site, tmp_path / "backup")
    assert made.integrity != ["ok"]
    assert "CHECK constraint failed in notes" in made.integrity[0]
    with pytest.raises(Refused, match="fails its integrity check"):
        restore_backup(tmp_path / "backup", fresh.db, fresh.uploads)
    assert not fresh.root.exists()


# -- restore --------------------------------------------------------------------------------


def test_a_restore_brings_back_every_complaint_and_file(
    site: Site, fresh: Site, tmp_path: Path
) -> None:
    photos = [photo(1), photo(2)]
    filed = file_complaints(site, [photos, []])
    back_up(site, tmp_path / "backup")

    restored = restore_backup(tmp_path / "backup", fresh.db, fresh.uploads)
    assert (restored.copied, restored.present, restored.integrity) == (2, 0, ["ok"])
    assert fresh.tracking_ids() == sorted(filed)
    for data in photos:
        assert fresh.blob(data).read_bytes() == data
    # Opened as the gateway opens it: back in WAL, with no journal of the old file beside it.
    assert fresh.rows("PRAGMA journal_mode") == [("wal",)]
    assert sorted(p.name for p in fresh.root.iterdir()) == ["lapor.db", "uploads"]

    again = restore_backup(tmp_path / "backup", fresh.db, fresh.uploads, force=True)
    assert (again.copied, again.present) == (0, 2)
    assert fresh.tracking_ids() == sorted(filed)


def first_version_database(db: Path) -> str:
    """A database as the gateway's first version left it, with one complaint; its tracking
    ID. Written with that version's SQL, which never changes: the store of today writes
    tables the first version did not have."""
    first = sorted(MIGRATIONS.glob("*.sql"))[0]
    db.parent.mkdir(parents=True)
    conn = sqlite3.connect(db)
    try:
        conn.executescript(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
            f"applied_at TEXT NOT NULL); INSERT INTO schema_migrations VALUES (1, '{first.name}', "
            f"'2026-01-05T00:00:00.000000Z'); {first.read_text()}"
        )
        conn.execute(
            "INSERT INTO complaints (id, tracking_id, channel, profile, anonymous, confidential, "
            "classification, text, text_original, attachments, received_at, created_at) "
            "VALUES ('c1', 'K7M2XQ9PD', 'web', 'ketapang', 0, 0, 'pengaduan', 'Lampu mati', "
            "'Lampu mati', '[]', '2026-01-05T01:00:00.000000Z', '2026-01-05T01:00:00.000000Z')"
        )
        conn.commit()
    finally:
        conn.close()
    return "K7M2XQ9PD"


def test_a_restore_migrates_a_backup_made_by_an_older_version(
    site: Site, fresh: Site, tmp_path: Path
) -> None:
    tracking_id = first_version_database(site.db)
    assert back_up(site, tmp_path / "backup").manifest.schema_version == 1

    restored = restore_backup(tmp_path / "backup", fresh.db, fresh.uploads)
    assert restored.integrity == ["ok"]
    assert fresh.rows("SELECT max(version) FROM schema_migrations") == [(LATEST_SCHEMA,)]
    assert fresh.tracking_ids() == [tracking_id]


def test_a_restore_refuses_a_backup_of_a_newer_schema(
    site: Site, fresh: Site, tmp_path: Path
) -> None:
    file_complaints(site, [[]])
    back_up(site, tmp_path / "backup")
    edit_manifest(tmp_path / "backup", schema_version=LATEST_SCHEMA + 1)
    with pytest.raises(Refused, match=f"schema version {LATEST_SCHEMA + 1}"):
        restore_backup(tmp_path / "backup", fresh.db, fresh.uploads)
    assert not fresh.root.exists()


def edit_manifest(backup: Path, **changes: Any) -> None:
    path = backup / MANIFEST_FILE
    path.write_text(json.dumps(json.loads(path.read_text()) | changes))


@pytest.mark.parametrize(
    "tamper",
    ["database checksum", "database bytes", "a file's bytes", "a file gone", "no manifest"],
)
def test_a_restore_refuses_a_backup_that_does_not_match_its_manifest(
    site: Site, fresh: Site, tmp_path: Path, tamper: str
) -> None:
    photos = [photo(1), photo(2)]
    file_complaints(site, [photos])
    backup = tmp_path / "backup"
    manifest = back_up(site, backup).manifest
    copied = BlobStore(backup / UPLOADS_DIR).path_for(sha(photos[0]))
    if tamper == "database checksum":
        edit_manifest(backup, database=manifest.database.model_dump() | {"sha256": "0" * 64})
    elif tamper == "database bytes":
        with (backup / DATABASE_FILE).open("ab") as db:
            db.write(b"\0")
    elif tamper == "a file's bytes":
        copied.write_bytes(photos[1])
    elif tamper == "a file gone":
        copied.unlink()
    else:
        (backup / MANIFEST_FILE).unlink()
    with pytest.raises(Refused) as refused:
        restore_backup(backup, fresh.db, fresh.uploads)
    reason = str(refused.value)
    if tamper == "no manifest":
        assert "no complete backup" in reason
    else:
        wrong = copied if "file" in tamper else backup / DATABASE_FILE
        assert f"{wrong}: " in reason
    assert not fresh.root.exists()


def test_a_restore_refuses_a_database_with_complaints_unless_forced(
    site: Site, fresh: Site, tmp_path: Path
) -> None:
    filed = file_complaints(site, [[photo(1)]])
    back_up(site, tmp_path / "backup")
    theirs = file_complaints(fresh, [[], []])
    with pytest.raises(Refused, match=r"holds 2 complaints.*--force"):
        restore_backup(tmp_path / "backup", fresh.db, fresh.uploads)
    assert fresh.tracking_ids() == sorted(theirs)
    assert not fresh.blob(photo(1)).exists()

    restore_backup(tmp_path / "backup", fresh.db, fresh.uploads, force=True)
    assert fresh.tracking_ids() == filed


def test_a_restore_refuses_a_database_another_connection_has_open(
    site: Site, fresh: Site, tmp_path: Path
) -> None:
    file_complaints(site, [[photo(1)]])
    back_up(site, tmp_path / "backup")
    theirs = file_complaints(fresh, [[]])
    # Idle: it holds no write lock, only the shared lock of an open WAL connection.
    with reading(fresh.db), pytest.raises(Refused, match="open in another process"):
        restore_backup(tmp_path / "backup", fresh.db, fresh.uploads, force=True)
    assert fresh.tracking_ids() == theirs
    assert not fresh.blob(photo(1)).exists()


def test_a_restore_over_a_killed_gateways_database_leaves_nothing_of_its_journal(
    site: Site, fresh: Site, tmp_path: Path
) -> None:
    filed = file_complaints(site, [[]])
    back_up(site, tmp_path / "backup")
    file_complaints(fresh, [[]])
    # Commits that are in the -wal only, as a SIGKILL leaves them: the files copied while
    # the writing connection is still open.
    conn = sqlite3.connect(fresh.db, isolation_level=None)
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    conn.execute("UPDATE complaints SET text = 'dari jurnal lama'")
    killed = tmp_path / "killed"
    killed.mkdir()
    for suffix in ("", "-wal", "-shm"):
        shutil.copy(fresh.root / f"lapor.db{suffix}", killed)
    conn.close()
    for path in killed.iterdir():
        shutil.copy(path, fresh.root)

    restored = restore_backup(tmp_path / "backup", fresh.db, fresh.uploads, force=True)
    assert restored.integrity == ["ok"]
    assert fresh.tracking_ids() == filed
    assert fresh.rows("SELECT count(*) FROM complaints WHERE text LIKE 'dari%'") == [(0,)]


def test_only_sqlite_is_backed_up_and_a_url_is_never_echoed() -> None:
    assert sqlite_file("sqlite:////srv/lapor/lapor.db") == Path("/srv/lapor/lapor.db")
    with pytest.raises(Refused) as refused:
        sqlite_file("postgresql://lapor:rahasia-sekali@db.internal/lapor")
    assert "'postgresql'" in str(refused.value)
    assert "rahasia" not in str(refused.value) and "db.internal" not in str(refused.value)
