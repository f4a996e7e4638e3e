"""`lapor-gateway`: the command line."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import importlib.metadata
import logging
import secrets
import sqlite3
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import TextIO

import nats.errors
import psycopg
from pydantic import ValidationError

from channels.sms.texts import check_reply_lengths
from config.profile import Profile, ProfileError, load_profile
from config.settings import Settings
from events.servers import redact, split_servers, where
from events.subjects import DEFAULT_SUBJECT
from events.tail import NoStream, tail
from gateway.accounts import AccountError
from gateway.app import build_gateway, create_app
from gateway.context import GATEWAY, Gateway
from gateway.server import serve
from gateway.workers import refusal, run_workers
from store.backup import BlobDamaged, Manifest, Refused, create_backup, restore_backup, sqlite_file
from store.base import StoreBusy
from store.factory import display_url, store_from_url
from store.migrate_store import MigrationFailed, MigrationRefused, migrate_store, problems, report
from store.sqlite import utcnow
from store.staff import AccountExists, NoSuchAccount, StaffAccount
from workflow.roles import Role


def main(argv: list[str] | None = None, stdin: TextIO | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        overrides = {
            k: v
            for k, v in vars(args).items()
            if k in ("host", "port", "profile", "workers") and v is not None
        }
        settings = Settings(**overrides)
        if args.command == "events":  # NATS alone: no profile, no store
            return _events(settings, args)
        if args.command == "migrate-store":  # the store's rows alone: no profile
            return _migrate_store(settings, args)
        name = args.profile if args.command == "check-profile" else settings.profile
        profile = load_profile(name)
    except ValidationError as exc:
        print(f"lapor-gateway: invalid settings:\n{_settings_problems(exc)}", file=sys.stderr)
        return 2
    except ProfileError as exc:
        print(f"lapor-gateway: {exc}", file=sys.stderr)
        return 2
    if args.command == "check-profile":
        return _check_profile(profile)
    if args.command == "serve":
        # The profile is checked whole before anything is opened.
        return _check_profile(profile, quiet=True) or _serve(settings, profile, args.reuse_port)
    if args.command == "staff":
        return _with_store(settings, profile, lambda gw: _staff(gw, args, stdin or sys.stdin))
    if args.command in ("backup", "restore"):
        return _backup_or_restore(settings, profile, args)
    return _with_store(settings, profile, lambda gw: _sweep(gw, args))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lapor-gateway", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve_cmd = commands.add_parser("serve", help="start the gateway")
    serve_cmd.add_argument("--host", help="overrides LAPOR_HOST")
    serve_cmd.add_argument("--port", type=int, help="overrides LAPOR_PORT")
    serve_cmd.add_argument("--profile", help="overrides LAPOR_PROFILE (a name or a TOML path)")
    serve_cmd.add_argument(
        "--workers", type=int, help="overrides LAPOR_WORKERS (processes on the one port)"
    )
    # Given by `--workers N` to the processes it starts, never by a person.
    serve_cmd.add_argument("--reuse-port", action="store_true", help=argparse.SUPPRESS)
    check = commands.add_parser("check-profile", help="validate a profile and exit")
    check.add_argument("profile", help="a shipped profile's name or a TOML path")

    staff = commands.add_parser("staff", help="staff accounts (the password comes on stdin)")
    staff_cmds = staff.add_subparsers(dest="staff_command", required=True)
    add = staff_cmds.add_parser("add", help="add an account; its password is read from stdin")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument("--agency", help="the agency code (admin_opd and pejabat_penghubung)")
    add.add_argument("--name", help="the full name")
    add.add_argument("--jabatan", help="the position, printed on the nota dinas")
    add.add_argument("--nip", help="the civil servant number (NIP)")
    staff_cmds.add_parser("list", help="list the accounts")
    disable = staff_cmds.add_parser("disable", help="disable an account and end its sessions")
    disable.add_argument("username")
    password = staff_cmds.add_parser("set-password", help="a new password, read from stdin")
    password.add_argument("username")

    sweep = commands.add_parser("sweep", help="what the passage of time does to open cases")
    sweep.add_argument(
        "--at", type=datetime.fromisoformat, help="as of this moment (ISO 8601 with offset)"
    )
    sweep.add_argument("--apply", action="store_true", help="act; without it, only list")

    backup = commands.add_parser(
        "backup", help="copy the database and its attachment files (the gateway may run)"
    )
    backup.add_argument("dir", type=Path, help="a new or empty directory")
    restore = commands.add_parser(
        "restore", help="put a backup in place of the database (the gateway stopped)"
    )
    restore.add_argument("dir", type=Path, help="a directory written by `backup`")
    restore.add_argument(
        "--force", action="store_true", help="replace a database that holds complaints"
    )

    move = commands.add_parser(
        "migrate-store", help="copy the SQLite store into PostgreSQL (the gateway stopped)"
    )
    move.add_argument("--from", dest="source", required=True, metavar="sqlite:///PATH")
    move.add_argument("--to", dest="target", required=True, metavar="postgresql://…")
    move.add_argument("--resume", action="store_true", help="continue a run that did not finish")

    events = commands.add_parser("events", help="events on NATS JetStream (LAPOR_NATS_URL)")
    events_cmds = events.add_subparsers(dest="events_command", required=True)
    tail_cmd = events_cmds.add_parser(
        "tail", help="print events as they arrive, one JSON line each, until Ctrl-C"
    )
    tail_cmd.add_argument(
        "subject",
        nargs="?",
        default=DEFAULT_SUBJECT,
        help=f"a subject, wildcards allowed (default {DEFAULT_SUBJECT})",
    )
    tail_cmd.add_argument(
        "--all",
        dest="everything",
        action="store_true",
        help="first every event the streams still keep",
    )
    return parser


def _check_profile(profile: Profile, *, quiet: bool = False) -> int:
    try:
        check_reply_lengths(profile)
    except ValueError as exc:
        print(f"lapor-gateway: {exc}", file=sys.stderr)
        return 2
    if quiet:
        return 0
    counts = f"{len(profile.agencies)} agencies, {len(profile.categories)} categories"
    print(f"{profile.key}: ok ({counts})")
    return 0


def _with_store(
    settings: Settings, profile: Profile, command: Callable[[Gateway], Awaitable[int]]
) -> int:
    """Run a command on the store (migrated first, so it works on a fresh database)."""

    async def run() -> int:
        store = store_from_url(
            settings.database_url,
            write_queue_limit=settings.write_queue_limit,
            busy_timeout_ms=settings.db_busy_timeout_ms,
        )
        await store.open()
        try:
            # No form or session is signed here: any secret does.
            gw = build_gateway(settings, profile, store, utcnow, secrets.token_urlsafe(32))
            return await command(gw)
        finally:
            await store.close()

    try:
        return asyncio.run(run())
    except sqlite3.Error as exc:
        print(f"lapor-gateway: cannot use {settings.database_url}: {exc}", file=sys.stderr)
        return 1


async def _staff(gw: Gateway, args: argparse.Namespace, stdin: TextIO) -> int:
    accounts, command = gw.accounts, args.staff_command
    try:
        if command == "add":
            await accounts.add(
                args.username,
                _password(stdin),
                Role(args.role),
                agency=args.agency,
                name=args.name,
                jabatan=args.jabatan,
                nip=args.nip,
            )
            print(f"staff {args.username}: added as {args.role}")
        elif command == "set-password":
            await accounts.set_password(args.username, _password(stdin))
            print(f"staff {args.username}: password changed; every session ended")
        elif command == "disable":
            await accounts.disable(args.username)
            print(f"staff {args.username}: disabled; every session ended")
        else:
            _print_staff(await gw.store.list_staff())
    except (AccountError, ValueError) as exc:
        print(f"lapor-gateway: {exc}", file=sys.stderr)
        return 2
    except AccountExists:
        print(f"lapor-gateway: staff {args.username} exists already", file=sys.stderr)
        return 2
    except NoSuchAccount:
        print(f"lapor-gateway: no staff account {args.username}", file=sys.stderr)
        return 2
    return 0


def _password(stdin: TextIO) -> str:
    """The password: typed twice at a terminal, else the first line of standard input."""
    if stdin.isatty():
        first = getpass.getpass("Kata sandi: ")
        if getpass.getpass("Ulangi kata sandi: ") != first:
            raise ValueError("the two passwords differ")
        return first
    return stdin.readline().rstrip("\r\n")


def _print_staff(accounts: list[StaffAccount]) -> None:
    print(f"{'username':<20} {'role':<20} {'agency':<12} {'status':<9} name")
    for account in accounts:
        status = "active" if account.active else "disabled"
        name = ", ".join(x for x in (account.name, account.jabatan) if x)
        agency = account.agency or "-"
        print(f"{account.username:<20} {account.role:<20} {agency:<12} {status:<9} {name}")


async def _sweep(gw: Gateway, args: argparse.Namespace) -> int:
    at: datetime = args.at or gw.clock()
    if at.tzinfo is None:
        print("lapor-gateway: --at needs a time zone offset, e.g. +07:00", file=sys.stderr)
        return 2
    steps = await gw.workflow.sweep(at, apply=args.apply)
    verb = "done" if args.apply else "would do"
    for step in steps:
        change = (
            f"{step.from_state} -> {step.to_state}"
            if step.from_state != step.to_state
            else step.to_state
        )
        print(f"{step.tracking_id}  {step.kind:<28} {change}")
    print(f"sweep as of {at.isoformat()}: {len(steps)} step(s) {verb}")
    return 0


def _backup_or_restore(settings: Settings, profile: Profile, args: argparse.Namespace) -> int:
    """A refusal exits 2 (nothing was changed); a failure on the way 1."""
    try:
        if args.command == "backup":
            return _backup(settings, profile, args.dir)
        return _restore(settings, profile, args.dir, force=args.force)
    except Refused as exc:
        print(f"lapor-gateway: {exc}", file=sys.stderr)
        return 2
    except (OSError, sqlite3.Error, BlobDamaged) as exc:
        print(f"lapor-gateway: {args.command} failed: {exc}", file=sys.stderr)
        return 1


def _backup(settings: Settings, profile: Profile, target: Path) -> int:
    made = create_backup(
        sqlite_file(settings.database_url),
        Path(settings.upload_dir),
        target,
        profile=profile.key,
        gateway_version=_version(),
        now=utcnow(),
    )
    manifest = made.manifest
    if manifest.missing_blobs:
        lines = [f"  {blob.sha256} ({blob.reason})" for blob in manifest.missing_blobs]
        print(
            f"lapor-gateway: WARNING: {len(lines)} attachment file(s) that complaints refer "
            f"to are NOT in this backup (not in {settings.upload_dir}, or not the bytes "
            "named); the rest of the backup is complete:",
            *lines,
            sep="\n",
            file=sys.stderr,
        )
    if made.integrity != ["ok"]:
        print(
            "lapor-gateway: WARNING: the database fails its integrity check; the copy is "
            f"as damaged as the original: {'; '.join(made.integrity)}",
            file=sys.stderr,
        )
    print(f"backup in {target}: {_summary(manifest)}")
    return 0 if made.whole else 1


def _restore(settings: Settings, profile: Profile, backup: Path, *, force: bool) -> int:
    db = sqlite_file(settings.database_url)
    restored = restore_backup(backup, db, Path(settings.upload_dir), force=force)
    manifest = restored.manifest
    if manifest.profile != profile.key:
        print(
            f"lapor-gateway: note: the backup was made with the profile {manifest.profile!r}; "
            f"this gateway is set to {profile.key!r} (LAPOR_PROFILE)",
            file=sys.stderr,
        )
    if manifest.missing_blobs:
        print(
            f"lapor-gateway: note: {len(manifest.missing_blobs)} attachment file(s) were "
            "already missing when the backup was made (listed in its manifest)",
            file=sys.stderr,
        )
    files = f"{restored.copied} copied, {restored.present} there already"
    print(f"restored {backup} into {db}: {_summary(manifest)} ({files})")
    if restored.integrity != ["ok"]:
        print(
            "lapor-gateway: the restored database fails its integrity check: "
            f"{'; '.join(restored.integrity)}",
            file=sys.stderr,
        )
        return 1
    return 0


def _summary(manifest: Manifest) -> str:
    size = (manifest.database.size + manifest.blob_bytes) / 2**20
    return (
        f"{manifest.complaints} complaints, {len(manifest.blobs)} attachment file(s), "
        f"{size:.1f} MiB, "
        f"taken {manifest.created_at.isoformat(timespec='seconds')}"
    )


def _version() -> str:
    try:
        return importlib.metadata.version("lapor-gateway")
    except importlib.metadata.PackageNotFoundError:  # run from a source tree, not installed
        return "unknown"


def _serve(settings: Settings, profile: Profile, reuse_port: bool = False) -> int:
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if settings.workers > 1:
        problem = refusal(settings.workers, settings.database_url)
        if problem:
            print(f"lapor-gateway: {problem}", file=sys.stderr)
            return 2
        return run_workers(
            settings.workers,
            ["-m", "gateway.cli", "serve", "--workers", "1", "--reuse-port",
             "--host", settings.host, "--port", str(settings.port), "--profile", settings.profile],
        )  # fmt: skip
    # aiosqlite's debug lines print every statement with its parameters: citizens' numbers
    # and words. Our own debug lines never do, so DEBUG stays safe to turn on.
    logging.getLogger("aiosqlite").setLevel(max(logging.INFO, logging.getLogger().level))
    try:
        app = create_app(settings, profile)
    except ValueError as exc:
        print(f"lapor-gateway: {exc}", file=sys.stderr)
        return 2
    gw = app[GATEWAY]
    base = gw.base_url
    lines = [
        f"LAPOR! gateway ({profile.regency}) on {base}",
        f"  formulir warga   {base}/lapor",
        f"  meja layanan     {base}/desk",
        f"  cek status       {base}/status",
        f"  API aplikasi     {base}/api/v1/complaints  (OpenAPI: {base}/api/v1/openapi.json)",
        f"  kesehatan        {base}/healthz",
    ]
    lines += [f"  {line}" for channel in gw.channels for line in channel.banner(base)]
    try:
        asyncio.run(serve(app, settings.host, settings.port, "\n".join(lines), reuse_port))
    except (sqlite3.Error, psycopg.Error, StoreBusy) as exc:
        where = display_url(settings.database_url)
        print(f"lapor-gateway: cannot open {where}: {_one_line(exc)}", file=sys.stderr)
        return 1
    except OSError as exc:  # the port is taken, a directory cannot be created, …
        print(f"lapor-gateway: cannot start: {exc}", file=sys.stderr)
        return 1
    return 0


def _migrate_store(settings: Settings, args: argparse.Namespace) -> int:
    """A refusal exits 2 (nothing was copied); a copy that broke off or does not verify 1."""
    uploads = Path(settings.upload_dir)
    print(
        f"migrate-store: {args.source} -> {display_url(args.target)}. The gateway must stay "
        "stopped until this has finished: nothing may write to the SQLite file meanwhile."
    )
    try:
        outcome = asyncio.run(
            migrate_store(args.source, args.target, uploads, resume=args.resume, say=print)
        )
    except MigrationRefused as exc:
        print(f"lapor-gateway: {exc}", file=sys.stderr)
        return 2
    except MigrationFailed as exc:
        print(
            f"lapor-gateway: migrate-store failed: {exc}\n"
            "lapor-gateway: what was copied is kept: once the cause is fixed, run the same "
            "command again with --resume",
            file=sys.stderr,
        )
        return 1
    print(*report(outcome, uploads), sep="\n")
    for problem in problems(outcome):
        print(f"lapor-gateway: {problem}", file=sys.stderr)
    if not outcome.ok:
        return 1
    done = "already done by" if outcome.already_done else "done:"
    print(
        f"migrate-store {done} run {outcome.run}; set LAPOR_DATABASE_URL to "
        f"{display_url(args.target)} and start the gateway"
    )
    return 0


def _events(settings: Settings, args: argparse.Namespace) -> int:
    if settings.nats_url is None:
        print("lapor-gateway: set LAPOR_NATS_URL, e.g. nats://127.0.0.1:4222", file=sys.stderr)
        return 2
    servers = split_servers(settings.nats_url.get_secret_value())
    try:
        asyncio.run(tail(servers, args.subject, sys.stdout, sys.stderr, everything=args.everything))
    except KeyboardInterrupt:
        return 0
    except NoStream:
        print(
            f"lapor-gateway: no NATS stream takes {args.subject} (the gateway makes its "
            "streams when its event relay first connects)",
            file=sys.stderr,
        )
        return 1
    except (OSError, TimeoutError, nats.errors.Error) as exc:
        problem = redact(f"{type(exc).__name__}: {exc}", servers)
        print(f"lapor-gateway: events from {where(servers)}: {problem}", file=sys.stderr)
        return 1
    return 0


def _one_line(exc: Exception) -> str:
    """An error's message on one line (the PostgreSQL driver's run over several)."""
    return " ".join(str(exc).split()) or type(exc).__name__


def _settings_problems(exc: ValidationError) -> str:
    return "\n".join(
        f"  LAPOR_{'_'.join(str(p) for p in e['loc']).upper()}: "
        f"{e['msg'].removeprefix('Value error, ')}"
        for e in exc.errors()
    )


if __name__ == "__main__":
    sys.exit(main())
