"""Backups of the SQLite store: a consistent copy of the database, taken while the gateway
writes, with the attachment files its complaints refer to; and putting one back.

A backup is a directory:

    manifest.json        what is in it, with checksums (written last: no manifest, no backup)
    lapor.db             the database, one self-contained file (rollback journal, no -wal)
    uploads/ab/abcd…     the attachment files, in the layout of LAPOR_UPLOAD_DIR

PostgreSQL, once it is a backend, gets its own (pg_dump); these functions are SQLite's.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import sqlite3
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from normalizer.models import Attachment
from store.blobs import BlobStore
from store.sqlite import MIGRATIONS, SqliteStore, sqlite_path

FORMAT: Literal[1] = 1
DATABASE_FILE = "lapor.db"
UPLOADS_DIR = "uploads"
MANIFEST_FILE = "manifest.json"
# How long a restore waits for another connection's lock on the target before it takes the
# file to be in use. An open gateway holds its lock for as long as it runs.
HELD_WAIT_SECONDS = 1.0
_CHUNK = 1 << 20
_ATTACHMENTS = TypeAdapter(list[Attachment])

Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class Refused(Exception):
    """The backup or restore cannot be made as asked; nothing of the store was changed."""


class BlobDamaged(Exception):
    """A file's bytes are not the ones its name (their SHA-256) promises."""

    def __init__(self, path: Path, sha256: str) -> None:
        super().__init__(f"{path}: its SHA-256 is not {sha256}")


# -- the manifest -------------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DatabaseCopy(_Model):
    file: str = Field(pattern=r"^[\w-]+\.db$")  # a name inside the backup, never a path
    sha256: Sha256
    size: int = Field(ge=0)


class BlobCopy(_Model):
    sha256: Sha256
    size: int = Field(ge=0)


class MissingBlob(_Model):
    """A file a complaint refers to that could not be backed up."""

    sha256: Sha256
    reason: Literal["missing", "damaged"]


class Manifest(_Model):
    format: Literal[1] = FORMAT
    gateway_version: str
    profile: str
    created_at: AwareDatetime
    database: DatabaseCopy
    schema_version: int = Field(ge=0, description="the newest migration the database has")
    complaints: int = Field(ge=0)
    blobs: tuple[BlobCopy, ...]
    missing_blobs: tuple[MissingBlob, ...]

    @property
    def blob_bytes(self) -> int:
        return sum(blob.size for blob in self.blobs)


@dataclass(frozen=True)
class Backup:
    manifest: Manifest
    integrity: list[str]
    """`PRAGMA integrity_check` of the copy: ["ok"], or what is wrong with it (and with the
    database it was copied from)."""

    @property
    def whole(self) -> bool:
        """Every file its complaints refer to is in it, and its database is sound."""
        return not self.manifest.missing_blobs and self.integrity == ["ok"]


@dataclass(frozen=True)
class Restored:
    manifest: Manifest
    copied: int
    """Attachment files copied into the upload directory."""
    present: int
    """Attachment files that were there already, with the right bytes."""
    integrity: list[str]
    """`PRAGMA integrity_check` of the restored database, migrated: ["ok"] or its problems."""


def sqlite_file(database_url: str) -> Path:
    """The database file of `LAPOR_DATABASE_URL`, which only SQLite has."""
    if not database_url.startswith("sqlite:///"):
        # Only the scheme: the rest of such a URL may hold a password.
        scheme = database_url.split(":", 1)[0]
        raise Refused(f"backup and restore of a {scheme!r} database are not supported yet")
    return sqlite_path(database_url)


# -- backup -------------------------------------------------------------------------------


def create_backup(
    db: Path, uploads: Path, target: Path, *, profile: str, gateway_version: str, now: datetime
) -> Backup:
    """Copy the database and the attachment files its complaints refer to into `target`,
    a new or empty directory. The gateway may go on writing meanwhile."""
    if not db.is_file():
        raise Refused(f"there is no database at {db}")
    _claim_empty(target)
    copy = target / DATABASE_FILE
    copy_database(db, copy)
    complaints, schema, referenced = _contents(copy)
    blobs, missing = _copy_blobs(BlobStore(uploads), BlobStore(target / UPLOADS_DIR), referenced)
    manifest = Manifest(
        gateway_version=gateway_version,
        profile=profile,
        created_at=now,
        database=DatabaseCopy(
            file=DATABASE_FILE, sha256=file_sha256(copy), size=copy.stat().st_size
        ),
        schema_version=schema,
        complaints=complaints,
        blobs=tuple(blobs),
        missing_blobs=tuple(missing),
    )
    integrity = integrity_problems(copy)
    # Everything the manifest names is durable before the manifest is: a backup cut short
    # (a crash, a full disk) has none, and restore refuses it.
    _fsync_dirs(_blob_dirs(target / UPLOADS_DIR, [blob.sha256 for blob in blobs]))
    _write_durably(target / MANIFEST_FILE, manifest.model_dump_json(indent=2).encode() + b"\n")
    _fsync_dirs([target, target.parent])
    return Backup(manifest, integrity)


def _claim_empty(target: Path) -> None:
    if target.exists() and not target.is_dir():
        raise Refused(f"{target} is not a directory")
    if target.exists() and any(target.iterdir()):
        raise Refused(f"{target} is not empty: a backup goes into a new or empty directory")
    (target / UPLOADS_DIR).mkdir(parents=True, exist_ok=True)


def copy_database(db: Path, copy: Path) -> None:
    """A consistent copy of a database in use, with SQLite's online backup.

    One step, so it reads one snapshot: in WAL the gateway goes on committing meanwhile, where
    a copy in several steps would start over at each of its commits, and under load might
    never finish. The copy is switched to a rollback journal: one file, no -wal to forget."""
    source = sqlite3.connect(db)
    try:
        target = sqlite3.connect(copy, isolation_level=None)
        try:
            source.backup(target)
            target.execute("PRAGMA journal_mode=DELETE")
        finally:
            target.close()
    finally:
        source.close()
    _fsync_file(copy)


def _contents(copy: Path) -> tuple[int, int, dict[str, int]]:
    """The copy's complaints, schema version, and the files they refer to (SHA-256 → size)."""
    conn = sqlite3.connect(copy)
    try:
        [(complaints,)] = conn.execute("SELECT count(*) FROM complaints").fetchall()
        [(schema,)] = conn.execute("SELECT max(version) FROM schema_migrations").fetchall()
        return int(complaints), int(schema or 0), referenced_blobs(conn)
    finally:
        conn.close()


def referenced_blobs(conn: sqlite3.Connection) -> dict[str, int]:
    """Every attachment file the complaints refer to: SHA-256 → size, in SHA-256 order."""
    found: dict[str, int] = {}
    for (raw,) in conn.execute("SELECT attachments FROM complaints WHERE attachments <> '[]'"):
        for attachment in _ATTACHMENTS.validate_json(raw):
            found[attachment.sha256] = attachment.size
    return dict(sorted(found.items()))


def _copy_blobs(
    source: BlobStore, target: BlobStore, wanted: Iterable[str]
) -> tuple[list[BlobCopy], list[MissingBlob]]:
    copied: list[BlobCopy] = []
    missing: list[MissingBlob] = []
    for sha in wanted:
        try:
            size = copy_verified(source.path_for(sha), target.path_for(sha), sha)
        except FileNotFoundError:
            missing.append(MissingBlob(sha256=sha, reason="missing"))
        except BlobDamaged:
            missing.append(MissingBlob(sha256=sha, reason="damaged"))
        else:
            copied.append(BlobCopy(sha256=sha, size=size))
    return copied, missing


# -- restore ------------------------------------------------------------------------------


def restore_backup(backup: Path, db: Path, uploads: Path, *, force: bool = False) -> Restored:
    """Put the backup in `backup` in place as the database `db` with its files in `uploads`.

    Everything is checked before anything is changed: the backup against its manifest, and
    the target (no process has it open; no complaints in it, unless `force`). The files go
    first and the database last, so no committed complaint ever refers to a missing file.
    Runs an event loop of its own to open the result as the gateway does (migrations apply):
    call it from synchronous code."""
    manifest = verify_backup(backup)
    known = _known_schema()
    if manifest.schema_version > known:
        raise Refused(
            f"the backup has schema version {manifest.schema_version}; this gateway knows "
            f"{known}: restore it with the gateway version that made it "
            f"({manifest.gateway_version}) or newer"
        )
    _check_target(db, force=force)
    files, copies = BlobStore(uploads), BlobStore(backup / UPLOADS_DIR)
    todo = [
        blob.sha256
        for blob in manifest.blobs
        if _sha_or_none(files.path_for(blob.sha256)) != blob.sha256
    ]
    for sha in todo:
        copy_verified(copies.path_for(sha), files.path_for(sha), sha)
    _fsync_dirs(_blob_dirs(uploads, todo))
    _put_database(backup / manifest.database.file, db, manifest.database.sha256)
    asyncio.run(_open_as_gateway(db))
    present = len(manifest.blobs) - len(todo)
    return Restored(manifest, len(todo), present, integrity_problems(db))


def verify_backup(backup: Path) -> Manifest:
    """The manifest, once the database and every file match its checksums and the database
    passes SQLite's integrity check; else Refused, naming each problem."""
    manifest = read_manifest(backup)
    files = BlobStore(backup / UPLOADS_DIR)
    expected = [(backup / manifest.database.file, manifest.database.sha256)] + [
        (files.path_for(blob.sha256), blob.sha256) for blob in manifest.blobs
    ]
    problems = [
        f"{path}: {'missing' if not path.exists() else 'its SHA-256 differs from the manifest'}"
        for path, sha in expected
        if _sha_or_none(path) != sha
    ]
    if problems:
        raise Refused(
            f"the backup in {backup} does not match its manifest:\n  " + "\n  ".join(problems)
        )
    integrity = integrity_problems(backup / manifest.database.file)
    if integrity != ["ok"]:
        raise Refused(f"the database in {backup} fails its integrity check: {'; '.join(integrity)}")
    return manifest


def read_manifest(backup: Path) -> Manifest:
    path = backup / MANIFEST_FILE
    try:
        return Manifest.model_validate_json(path.read_bytes())
    except FileNotFoundError:
        raise Refused(f"{backup} holds no complete backup (no {MANIFEST_FILE})") from None
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in e['loc']) or 'the file'}: {e['msg']}"
            for e in exc.errors()
        )
        raise Refused(f"{path} is not a manifest this gateway can read ({problems})") from None


def _check_target(db: Path, *, force: bool) -> None:
    """Refuse a target that a process has open, or that holds complaints (unless forced).

    BEGIN IMMEDIATE would catch a gateway only in the middle of a write: an idle one holds
    no write lock. But every connection to a database in WAL keeps a shared lock on the file
    for as long as it is open, so an exclusive lock is refused while any is."""
    if not db.exists():
        return
    conn = sqlite3.connect(db, timeout=HELD_WAIT_SECONDS, isolation_level=None)
    try:
        conn.execute("PRAGMA locking_mode=EXCLUSIVE")
        try:
            conn.execute("BEGIN EXCLUSIVE")
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:
                raise
            raise Refused(f"{db} is open in another process (a gateway?): stop it first") from None
        held = 0 if force else _complaints_in(conn)
        conn.execute("ROLLBACK")
    finally:
        conn.close()
    if held:
        raise Refused(
            f"{db} holds {held} complaints, which the restore would replace: "
            "add --force to replace them"
        )


def _complaints_in(conn: sqlite3.Connection) -> int:
    tables = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'complaints'").fetchall()
    if not tables:
        return 0
    [(held,)] = conn.execute("SELECT count(*) FROM complaints").fetchall()
    return int(held)


def _put_database(copy: Path, db: Path, sha256: str) -> None:
    """Write the copy next to the target, then rename it into place: at every moment the
    target is either the old database or the whole new one."""
    db.parent.mkdir(parents=True, exist_ok=True)
    staged = db.with_name(f".{db.name}.restore")
    copy_verified(copy, staged, sha256)
    # The old database's journals would be replayed into the new one: a hot -journal rolled
    # back, a -wal's frames read as its pages.
    for suffix in ("-wal", "-shm", "-journal"):
        db.with_name(db.name + suffix).unlink(missing_ok=True)
    staged.replace(db)
    _fsync_dirs([db.parent])


async def _open_as_gateway(db: Path) -> None:
    """Open and close the database as the gateway does at start: WAL, and the migrations
    of a backup made by an older version."""
    store = SqliteStore(db)
    await store.open()
    await store.close()


def _known_schema() -> int:
    return max(int(path.name.split("_", 1)[0]) for path in MIGRATIONS.glob("*.sql"))


# -- files --------------------------------------------------------------------------------


def integrity_problems(db: Path) -> list[str]:
    """`PRAGMA integrity_check`: ["ok"], or each problem it found."""
    conn = sqlite3.connect(db)
    try:
        return [str(row[0]) for row in conn.execute("PRAGMA integrity_check")]
    finally:
        conn.close()


def copy_verified(source: Path, target: Path, sha256: str) -> int:
    """Copy a file, hashing it as it goes; it takes its name, durably, only if its bytes
    are the ones `sha256` names (else BlobDamaged). Returns its size."""
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    with source.open("rb") as src:
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".part")
        partial = Path(name)
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := src.read(_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
                out.flush()
                os.fsync(out.fileno())
            if digest.hexdigest() != sha256:
                raise BlobDamaged(source, sha256)
            partial.replace(target)
        finally:
            partial.unlink(missing_ok=True)
    return size


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _sha_or_none(path: Path) -> str | None:
    return file_sha256(path) if path.is_file() else None


def _write_durably(path: Path, data: bytes) -> None:
    partial = path.with_name(f".{path.name}.part")
    with partial.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    partial.replace(path)


def _blob_dirs(root: Path, shas: Iterable[str]) -> set[Path]:
    """The directories whose entries copying these files changed: each file's own, and the
    root that holds those."""
    files = BlobStore(root)
    dirs = {files.path_for(sha).parent for sha in shas}
    return dirs | {root} if dirs else dirs


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dirs(dirs: Iterable[Path]) -> None:
    """fsync directories, so that the names created or renamed in them last too."""
    for directory in dirs:
        _fsync_file(directory)
