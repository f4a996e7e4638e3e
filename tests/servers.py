"""The database servers the tests talk to: the machine's own where it answers, otherwise a
private throwaway one started here, in a temporary directory on a free port of 127.0.0.1.

`LAPOR_TEST_PRIVATE_SERVERS=1` forces private servers: that proves the suite needs no server
running, without stopping the machine's own. A private server that cannot start fails the
tests that need it with its log, never skips them.

A test package takes the fixtures by importing them into its conftest.py: `mariadb` and
`postgresql` (one server per pytest run, however many packages import them) and
`postgresql_database` (a fresh database per test; import `postgresql` beside it).
"""

from __future__ import annotations

import os
import pwd
import secrets
import shlex
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, closing, contextmanager, nullcontext
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import pymysql
import pytest
from psycopg import sql

from tests.conftest import free_port
from tests.processes import stop_child

FORCE_PRIVATE = "LAPOR_TEST_PRIVATE_SERVERS"
START_WITHIN = 60.0  # seconds for a private server to answer; it is about 2 s here
STOP_WITHIN = 30.0  # seconds for it to shut down cleanly before it is killed
PROBE_TIMEOUT = 2  # seconds for a server to accept one connection


class ServerFailure(RuntimeError):
    """A private server could not be set up, started or stopped; the message says why."""


@dataclass(frozen=True)
class Server:
    """Where a database server listens and whom to connect to it as."""

    host: str
    port: int
    user: str
    password: str = ""
    database: str | None = None
    """The database to connect to; PostgreSQL needs one, MariaDB does not."""

    def url(self, scheme: str, database: str) -> str:
        secret = f":{quote(self.password, safe='')}" if self.password else ""
        return f"{scheme}://{quote(self.user, safe='')}{secret}@{self.host}:{self.port}/{database}"


@dataclass(frozen=True)
class Kind:
    """A kind of server: the machine's own, how to tell it answers, how to start a private one."""

    name: str
    machine: Server
    answers: Callable[[Server], bool]
    start_private: Callable[[], AbstractContextManager[Server]]


def server(kind: Kind) -> AbstractContextManager[Server]:
    """The machine's server where it answers and private ones are not forced, else a private one."""
    if os.environ.get(FORCE_PRIVATE) != "1" and kind.answers(kind.machine):
        return nullcontext(kind.machine)
    return kind.start_private()


# -- MariaDB ---------------------------------------------------------------------------------


def connect_mariadb(server: Server, **options: Any) -> pymysql.Connection[Any]:
    return pymysql.connect(
        host=server.host,
        port=server.port,
        user=server.user,
        password=server.password,
        database=server.database,
        **options,
    )


def mariadb_answers(server: Server) -> bool:
    try:
        # connect_timeout alone does not cover the server's greeting: a port that accepts
        # and stays silent would hold the probe for ever.
        with closing(
            connect_mariadb(server, connect_timeout=PROBE_TIMEOUT, read_timeout=PROBE_TIMEOUT)
        ):
            return True
    except pymysql.err.OperationalError:
        return False


@contextmanager
def private_mariadb(port: int | None = None) -> Iterator[Server]:
    """A throwaway mariadbd with root and no password on 127.0.0.1, removed on exit.

    --no-defaults everywhere: nothing of the machine's /etc/mysql (its datadir, socket, user,
    error log) may reach the private server or be touched by it."""
    with tempfile.TemporaryDirectory(prefix="lapor-mariadb-") as folder:
        directory = Path(folder)
        data, log = directory / "data", directory / "mariadbd.log"
        # As root, mariadbd would switch to a `mysql` user that cannot enter this directory.
        stay = ["--user=root"] if os.geteuid() == 0 else []
        _run(
            [_mariadb_program("mariadb-install-db"), "--no-defaults", *stay, f"--datadir={data}",
             "--auth-root-authentication-method=normal", "--skip-test-db"],
        )  # fmt: skip
        server = Server("127.0.0.1", port or free_port(), "root")
        command = [
            _mariadb_program("mariadbd"), "--no-defaults", *stay, f"--datadir={data}",
            f"--socket={directory / 'mariadbd.sock'}", f"--pid-file={directory / 'mariadbd.pid'}",
            f"--port={server.port}", "--bind-address=127.0.0.1", "--skip-name-resolve",
            # The character set Debian's own configuration gives the machine's server.
            "--character-set-server=utf8mb4", "--collation-server=utf8mb4_general_ci",
        ]  # fmt: skip
        with _child(command, log) as process:
            _wait_for_mariadb(server, process, log)
            yield server


def _mariadb_program(name: str) -> str:
    found = debian_program(name)
    if found is None:
        raise ServerFailure(f"{name} not found: install Debian's mariadb-server")
    return found


def debian_program(name: str) -> str | None:
    """A program on PATH or in /usr/sbin, where Debian puts daemons (mariadbd, nats-server)
    and which is not on every user's PATH."""
    return shutil.which(name, path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin"]))


@contextmanager
def _child(command: list[str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A server process of ours writing to `log`, terminated (killed if it lingers) on exit."""
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        stop_child(process, STOP_WITHIN)


def _wait_for_mariadb(server: Server, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_WITHIN
    while not mariadb_answers(server):
        if process.poll() is not None:
            raise ServerFailure(
                f"mariadbd exited with {process.returncode} at start-up;"
                f" its log:\n{log.read_text(errors='replace')}"
            )
        if time.monotonic() > deadline:
            raise ServerFailure(
                f"mariadbd did not answer on {server.host}:{server.port} within"
                f" {START_WITHIN:.0f} s; its log:\n{log.read_text(errors='replace')}"
            )
        time.sleep(0.1)


# -- PostgreSQL ------------------------------------------------------------------------------


def connect_postgresql(server: Server, **options: Any) -> psycopg.Connection[Any]:
    return psycopg.connect(
        host=server.host,
        port=server.port,
        user=server.user,
        password=server.password,
        dbname=server.database,
        autocommit=True,
        **options,
    )


def postgresql_answers(server: Server) -> bool:
    try:
        with connect_postgresql(server, connect_timeout=PROBE_TIMEOUT):
            return True
    except psycopg.OperationalError:
        return False


@dataclass(frozen=True)
class PostgresqlCluster:
    """A private PostgreSQL cluster of ours, which a test may stop and start again: the same
    data, port and socket directory each time, so its clients find it where they left it."""

    server: Server
    data: Path
    log: Path
    directory: Path
    owner: tuple[str, ...]
    """The command that runs its programs as `postgres` where the tests run as root."""

    def _pg_ctl(self, *arguments: str) -> None:
        pg_ctl = [*self.owner, _postgresql_program("pg_ctl"), "-D", str(self.data), "-w"]
        _run([*pg_ctl, *arguments], self.log, self.directory)

    @property
    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def start(self) -> None:
        # Its socket goes in this directory, away from the machine's server's.
        options = f"-p {self.server.port} -h 127.0.0.1 -k {shlex.quote(str(self.directory))}"
        self._pg_ctl("-t", f"{START_WITHIN:.0f}", "-l", str(self.log), "-o", options, "start")

    def stop(self) -> None:
        """A fast shutdown, as an administrator's restart or a failover does it: sessions
        are ended and transactions in progress rolled back."""
        self._pg_ctl("-t", f"{STOP_WITHIN:.0f}", "-m", "fast", "stop")


@contextmanager
def private_postgresql(port: int | None = None) -> Iterator[Server]:
    """A throwaway PostgreSQL cluster trusting every local connection, removed on exit."""
    with private_postgresql_cluster(port) as cluster:
        yield cluster.server


@contextmanager
def private_postgresql_cluster(port: int | None = None) -> Iterator[PostgresqlCluster]:
    """`private_postgresql`, with the controls to stop and start it while it is in use."""
    owner = _postgresql_owner()
    with tempfile.TemporaryDirectory(prefix="lapor-postgresql-") as folder:
        directory = Path(folder)
        if owner:
            shutil.chown(directory, "postgres", "postgres")
        server = Server("127.0.0.1", port or free_port(), "postgres", database="postgres")
        cluster = PostgresqlCluster(
            server, directory / "data", directory / "postgresql.log", directory, tuple(owner)
        )
        _run(
            [*owner, _postgresql_program("initdb"), "-D", str(cluster.data), "-U", server.user,
             "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"],
            cwd=directory,
        )  # fmt: skip
        try:
            cluster.start()
            yield cluster
        finally:
            # A server that failed to start (or that the test left stopped) has already
            # gone, and its pid file with it.
            if cluster.running:
                cluster.stop()


def _postgresql_owner() -> list[str]:
    """PostgreSQL refuses to run as root: there, it runs as Debian's `postgres` user."""
    if os.geteuid() != 0:
        return []
    runuser = shutil.which("runuser")
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        runuser = None
    if runuser is None:
        raise ServerFailure(
            "PostgreSQL will not run as root, and there is no `postgres` user and runuser"
            " to run it as: run the tests as another user, or install Debian's postgresql"
        )
    return [runuser, "-u", "postgres", "--"]


def _postgresql_program(name: str) -> str:
    """From PATH, else the newest of Debian's /usr/lib/postgresql/<major>/bin."""
    found = shutil.which(name)
    if found is not None:
        return found
    debian = Path("/usr/lib/postgresql").glob(f"*/bin/{name}")
    majors = [path for path in debian if path.parent.parent.name.isdigit()]
    if not majors:
        raise ServerFailure(f"{name} not found: install Debian's postgresql")
    return str(max(majors, key=lambda path: int(path.parent.parent.name)))


# -- both ------------------------------------------------------------------------------------


def _run(command: list[str], log: Path | None = None, cwd: Path | None = None) -> None:
    """Run a set-up step; ServerFailure with its output, and the server's log, if it fails."""
    done = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=START_WITHIN + 10, check=False
    )
    if done.returncode != 0:
        server_log = f"\nthe server's log:\n{log.read_text(errors='replace')}" if log else ""
        raise ServerFailure(
            f"{shlex.join(command)} exited with {done.returncode}:\n"
            f"{done.stdout}{done.stderr}{server_log}"
        )


MARIADB = Kind("mariadb", Server("127.0.0.1", 3306, "root"), mariadb_answers, private_mariadb)
POSTGRESQL = Kind(
    "postgresql",
    Server("127.0.0.1", 5432, "postgres", database="test"),
    postgresql_answers,
    private_postgresql,
)

_STARTED = pytest.StashKey[dict[str, Server]]()


def _session_server(config: pytest.Config, kind: Kind) -> Server:
    """One server of a kind per pytest run, stopped when the run ends.

    A fixture imported into two modules is two fixtures to pytest, each with its own
    session-wide value: the server itself is kept here so that both get the same one."""
    started = config.stash.setdefault(_STARTED, {})
    if kind.name not in started:
        stack = ExitStack()
        config.add_cleanup(stack.close)
        started[kind.name] = stack.enter_context(server(kind))
    return started[kind.name]


@pytest.fixture(scope="session")
def mariadb(pytestconfig: pytest.Config) -> Server:
    """A MariaDB server, root with no password (databases are the tests' to create)."""
    return _session_server(pytestconfig, MARIADB)


@pytest.fixture(scope="session")
def postgresql(pytestconfig: pytest.Config) -> Server:
    """A PostgreSQL server, its superuser with no password."""
    return _session_server(pytestconfig, POSTGRESQL)


@pytest.fixture
def postgresql_database(postgresql: Server) -> Iterator[Server]:
    """A fresh empty database on `postgresql` for one test, dropped after it."""
    name = f"lapor_test_{secrets.token_hex(6)}"
    with connect_postgresql(postgresql) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield replace(postgresql, database=name)
    with connect_postgresql(postgresql) as conn:
        # FORCE: a connection the test left open must not keep its database alive.
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
