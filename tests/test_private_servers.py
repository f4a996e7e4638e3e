"""The tests' database servers (tests/servers.py): private ones start, answer and go away
whatever runs on the machine; the machine's own is used where it answers, unless private
ones are forced; a server that cannot start says why."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, closing
from dataclasses import replace

import pytest

from tests.conftest import free_port
from tests.servers import (
    FORCE_PRIVATE,
    MARIADB,
    POSTGRESQL,
    Kind,
    Server,
    ServerFailure,
    connect_mariadb,
    connect_postgresql,
    mariadb_answers,
    postgresql,
    postgresql_answers,
    postgresql_database,
    private_mariadb,
    private_postgresql,
    server,
)

__all__ = ["postgresql", "postgresql_database"]  # fixtures used by the tests below

KINDS = pytest.mark.parametrize("kind", [MARIADB, POSTGRESQL], ids=lambda kind: kind.name)


def test_a_private_mariadb_answers_and_is_gone_after() -> None:
    with private_mariadb() as private:
        with closing(connect_mariadb(private)) as conn:
            cursor = conn.cursor()
            cursor.execute("SELECT VERSION(), CURRENT_USER()")
            version, user = cursor.fetchone()
        assert "MariaDB" in version
        assert user == "root@127.0.0.1"
    assert not mariadb_answers(private)


def test_a_private_postgresql_answers_and_is_gone_after() -> None:
    with private_postgresql() as private:
        with connect_postgresql(private) as conn:
            row = conn.execute("SELECT version(), current_user").fetchone()
        assert row is not None
        assert row[0].startswith("PostgreSQL ")
        assert row[1] == "postgres"
    assert not postgresql_answers(private)


@pytest.mark.parametrize("run", [1, 2])
def test_each_test_has_a_fresh_postgresql_database(postgresql_database: Server, run: int) -> None:
    """Both runs create the same table: the second would fail on a database left behind."""
    with connect_postgresql(postgresql_database) as conn:
        conn.execute("CREATE TABLE complaints (id integer PRIMARY KEY, text text NOT NULL)")
        conn.execute("INSERT INTO complaints VALUES (%s, %s)", (run, "Jalan berlubang"))
        assert conn.execute("SELECT count(*), current_database() FROM complaints").fetchall() == [
            (1, postgresql_database.database)
        ]


@pytest.fixture
def unforced(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """The choice as a developer's plain `pytest` makes it, whatever this run was told."""
    monkeypatch.delenv(FORCE_PRIVATE, raising=False)
    yield monkeypatch


@KINDS
def test_the_running_server_is_used_unless_private_ones_are_forced(
    kind: Kind, unforced: pytest.MonkeyPatch
) -> None:
    with kind.start_private() as running:  # stands in for the machine's own
        machine = replace(kind, machine=running)
        with server(machine) as chosen:
            assert chosen == running
        unforced.setenv(FORCE_PRIVATE, "1")
        with server(machine) as chosen:
            assert chosen.port != running.port
            assert kind.answers(chosen)


@KINDS
def test_where_no_server_answers_a_private_one_is_started(
    kind: Kind, unforced: pytest.MonkeyPatch
) -> None:
    absent = replace(kind, machine=replace(kind.machine, port=free_port()))
    with server(absent) as chosen:
        assert chosen.port != absent.machine.port
        assert kind.answers(chosen)


@pytest.mark.parametrize(
    "start", [private_mariadb, private_postgresql], ids=["mariadb", "postgresql"]
)
def test_a_server_that_cannot_start_fails_with_its_log(
    start: Callable[[int], AbstractContextManager[Server]],
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(ServerFailure, match="log:") as raised, start(taken.getsockname()[1]):
            pass
    assert "Address already in use" in str(raised.value)
