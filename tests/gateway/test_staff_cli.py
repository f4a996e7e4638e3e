"""`lapor-gateway staff …` and `lapor-gateway sweep`, in-process, on a SQLite file of the
test's own: accounts made, listed, disabled and given new passwords from the command line,
and the sweep listed before it is applied."""

from __future__ import annotations

import asyncio
import io
import sqlite3
from pathlib import Path

import pytest

from gateway.cli import main
from store.sqlite import MIGRATIONS
from tests.conftest import Running, all_dispatched, file_complaint, start_gateway

PASSWORD = "kata-sandi-yang-panjang"
NEW_PASSWORD = "kata-sandi-baru-2026"


@pytest.fixture
def database(tmp_path: Path, clean_env: pytest.MonkeyPatch) -> Path:
    """A database file nobody has opened yet, where the command line's settings point."""
    path = tmp_path / "lapor.db"
    clean_env.setenv("LAPOR_DATABASE_URL", f"sqlite:///{path}")
    clean_env.setenv("LAPOR_UPLOAD_DIR", str(tmp_path / "uploads"))
    clean_env.setenv("LAPOR_SECRET_KEY", "test-secret-key-not-for-production")
    return path


def staff(
    capsys: pytest.CaptureFixture[str], *args: str, password: str = PASSWORD
) -> tuple[int, str, str]:
    """`lapor-gateway staff ARGS` with `password` on standard input: exit code, out, err."""
    capsys.readouterr()
    code = main(["staff", *args], stdin=io.StringIO(password + "\n"))
    out, err = capsys.readouterr()
    return code, out, err


def sweep(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["sweep", *args])
    out, err = capsys.readouterr()
    return code, out, err


def rows(path: Path, sql: str, params: tuple[str, ...] = ()) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path)
    try:
        return list(conn.execute(sql, params).fetchall())
    finally:
        conn.close()


def can_sign_in(tmp_path: Path, username: str, password: str) -> bool:
    """Whether the account signs in through the API of a gateway on the same file."""

    async def attempt() -> bool:
        running = await start_gateway(tmp_path)
        try:
            body = {"username": username, "password": password}
            async with running.http.post("/api/v1/auth/token", json=body) as response:
                assert response.status in (200, 401), await response.text()
                return response.status == 200
        finally:
            await running.stop()

    return asyncio.run(attempt())


def test_staff_add_reads_the_password_and_migrates_a_fresh_database(
    database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """On a file the gateway never opened, `staff add` applies every migration and keeps the
    account with its details and an argon2 hash of the password read from stdin."""
    assert not database.exists()
    code, out, err = staff(
        capsys,
        "add",
        "pejabat-pupr",
        "--role",
        "pejabat_penghubung",
        "--agency",
        "PUPR",
        "--name",
        "Ir. Sri Wahyuni, M.T.",
        "--jabatan",
        "Sekretaris Dinas",
        "--nip",
        "197001011995032001",
    )
    assert (code, err) == (0, ""), err
    assert out.strip() == "staff pejabat-pupr: added as pejabat_penghubung"

    applied = {v for (v,) in rows(database, "SELECT version FROM schema_migrations")}
    assert len(applied) == len(list(MIGRATIONS.glob("*.sql"))) >= 4
    [row] = rows(
        database, "SELECT username, role, agency, name, jabatan, nip, password_hash FROM staff"
    )
    assert row[:6] == (
        "pejabat-pupr",
        "pejabat_penghubung",
        "PUPR",
        "Ir. Sri Wahyuni, M.T.",
        "Sekretaris Dinas",
        "197001011995032001",
    )
    password_hash = str(row[6])
    assert password_hash.startswith("$argon2") and PASSWORD not in password_hash


@pytest.mark.parametrize(
    ("args", "password", "message"),
    [
        (["baru", "--role", "admin_penghubung"], "pendek123", "at least 10 characters"),
        (["baru", "--role", "admin_opd"], PASSWORD, "needs --agency"),
        (["baru", "--role", "pejabat_penghubung"], PASSWORD, "needs --agency"),
        (["baru", "--role", "admin_opd", "--agency", "DINAS_X"], PASSWORD, "unknown agency"),
        (["baru", "--role", "admin_instansi", "--agency", "PUPR"], PASSWORD, "not bound"),
        (["ani", "--role", "admin_instansi"], PASSWORD, "staff ani exists already"),
    ],
    ids=["short-password", "opd-no-agency", "pejabat-no-agency", "unknown-agency",
         "agency-for-regency-role", "duplicate"],
)  # fmt: skip
def test_staff_add_refuses_with_exit_2_and_a_message(
    database: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    password: str,
    message: str,
) -> None:
    """A short password, an agency role without --agency, an unknown agency, an agency for a
    regency role, a taken username: exit 2, a message naming it, nothing added."""
    assert staff(capsys, "add", "ani", "--role", "admin_penghubung")[0] == 0
    code, out, err = staff(capsys, "add", *args, password=password)
    assert code == 2, (out, err)
    assert message in err and err.startswith("lapor-gateway: ")
    assert "Traceback" not in err and out == ""
    assert rows(database, "SELECT username, role FROM staff") == [("ani", "admin_penghubung")]


def test_staff_list_shows_each_account_with_role_agency_and_status(
    database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`staff list`: one line per account with its role, agency (or -), status and name."""
    assert staff(capsys, "add", "utama", "--role", "admin_instansi", "--name", "Hj. Utama")[0] == 0
    assert staff(capsys, "add", "opd-pupr", "--role", "admin_opd", "--agency", "PUPR")[0] == 0
    assert staff(capsys, "add", "loket-1", "--role", "petugas_loket")[0] == 0
    assert staff(capsys, "disable", "loket-1")[0] == 0

    code, out, err = staff(capsys, "list")
    assert (code, err) == (0, "")
    header, *lines = out.splitlines()
    assert header.split() == ["username", "role", "agency", "status", "name"]
    listed = {line.split()[0]: line.split() for line in lines}
    assert listed == {
        "utama": ["utama", "admin_instansi", "-", "active", "Hj.", "Utama"],
        "opd-pupr": ["opd-pupr", "admin_opd", "PUPR", "active"],
        "loket-1": ["loket-1", "petugas_loket", "-", "disabled"],
    }


def test_a_disabled_account_cannot_sign_in(
    tmp_path: Path, database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`staff disable`: exit 0, and the gateway on that file refuses the account's sign-in;
    an unknown username is exit 2."""
    assert staff(capsys, "add", "ani", "--role", "admin_penghubung")[0] == 0
    assert can_sign_in(tmp_path, "ani", PASSWORD)
    code, out, _ = staff(capsys, "disable", "ani")
    assert code == 0 and "staff ani: disabled" in out
    assert not can_sign_in(tmp_path, "ani", PASSWORD)

    code, _, err = staff(capsys, "disable", "tidak-ada")
    assert code == 2 and "no staff account tidak-ada" in err


def test_set_password_replaces_the_password(
    tmp_path: Path, database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`staff set-password` reads the new password from stdin: the new one signs in, the old
    one no longer; a short one or an unknown username is exit 2."""
    assert staff(capsys, "add", "ani", "--role", "admin_penghubung")[0] == 0
    code, out, _ = staff(capsys, "set-password", "ani", password=NEW_PASSWORD)
    assert code == 0 and "staff ani: password changed" in out
    assert can_sign_in(tmp_path, "ani", NEW_PASSWORD)
    assert not can_sign_in(tmp_path, "ani", PASSWORD)

    code, _, err = staff(capsys, "set-password", "ani", password="pendek")
    assert code == 2 and "at least 10 characters" in err
    code, _, err = staff(capsys, "set-password", "tidak-ada", password=NEW_PASSWORD)
    assert code == 2 and "no staff account tidak-ada" in err
    assert can_sign_in(tmp_path, "ani", NEW_PASSWORD)


def test_sweep_lists_then_applies(
    tmp_path: Path, database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`sweep --at` lists what time does to open cases and changes nothing; with --apply it
    acts, once: a case received in August and never verified is late by December."""

    async def received() -> str:
        running: Running = await start_gateway(tmp_path)
        try:
            tracking_id = await file_complaint(
                running, text="Jalan berlubang di Jl. Merdeka sejak sebulan.", phone="081234567890"
            )
            await all_dispatched(running)
            return tracking_id
        finally:
            await running.stop()

    tracking_id = asyncio.run(received())
    events = (
        "SELECT e.kind FROM case_events e JOIN complaints c ON c.id = e.complaint_id "
        "WHERE c.tracking_id = ? ORDER BY e.id"
    )
    case = "SELECT state, version, verification_late FROM cases WHERE tracking_id = ?"
    before = rows(database, case, (tracking_id,))
    at = "2026-12-31T09:00:00+07:00"

    code, out, err = sweep(capsys, "--at", at)
    assert (code, err) == (0, "")
    assert f"{tracking_id}  sla.verifikasi_terlambat" in out
    assert out.splitlines()[-1] == f"sweep as of {at}: 1 step(s) would do"
    assert rows(database, case, (tracking_id,)) == before
    assert rows(database, events, (tracking_id,)) == [("case.opened",)]

    code, out, err = sweep(capsys, "--at", at, "--apply")
    assert (code, err) == (0, "")
    assert f"{tracking_id}  sla.verifikasi_terlambat" in out
    assert out.splitlines()[-1] == f"sweep as of {at}: 1 step(s) done"
    kinds = [k for (k,) in rows(database, events, (tracking_id,))]
    assert kinds == ["case.opened", "sla.verifikasi_terlambat"]
    [(state, version, late)] = rows(database, case, (tracking_id,))
    assert (state, late) == ("diterima", 1) and version == int(str(before[0][1])) + 1

    # Applied once: a second sweep finds nothing more to do.
    code, out, _ = sweep(capsys, "--at", at, "--apply")
    assert code == 0 and out.splitlines()[-1] == f"sweep as of {at}: 0 step(s) done"
    assert [k for (k,) in rows(database, events, (tracking_id,))].count(
        "sla.verifikasi_terlambat"
    ) == 1

    code, _, err = sweep(capsys, "--at", "2026-12-31T09:00:00")
    assert code == 2 and "needs a time zone offset" in err
