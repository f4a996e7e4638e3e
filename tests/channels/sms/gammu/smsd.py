"""A real Gammu SMSD database per test, MariaDB or SQLite, with Kalkun installed on top.

The MariaDB server is the `mariadb` fixture's (tests/servers.py): the machine's own or a
private one, started for the run.

`GammuSide` writes and reads the tables the way gammu-smsd itself does, on a host whose
clock is set to Ketapang's time (WIB, UTC+7): gammu-smsd 1.40+ writes timestamps as local
time, into a MySQL session in the system's zone or as SQLite text.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pymysql.constants import CLIENT

from channels.sms.gammu.database import GammuDatabase
from tests.servers import Server, connect_mariadb

SCHEMA = Path(__file__).parent / "schema"
# Gammu's schema with Kalkun's additions, as the regencies run it.
KALKUN_MYSQL = (SCHEMA / "gammu_mysql.sql", SCHEMA / "kalkun_mysql.sql")
KALKUN_SQLITE = (SCHEMA / "gammu_sqlite.sql", SCHEMA / "kalkun_sqlite.sql")
WIB = ZoneInfo("Asia/Pontianak")


def ucs2_hex(text: str) -> str:
    """`Text` as gammu-smsd writes it for the default and Unicode codings."""
    return text.encode("utf-16-be").hex().upper()


@dataclass
class GammuSide:
    """gammu-smsd's own connection to its database."""

    kind: str
    connect: Callable[[], Any]

    def execute(self, sql: str, params: tuple[object, ...] = ()) -> int:
        with closing(self.connect()) as conn:
            cursor = conn.cursor()
            cursor.execute(self._sql(sql), params)
            conn.commit()
            return int(cursor.lastrowid)

    def rows(self, sql: str, params: tuple[object, ...] = ()) -> list[dict[str, Any]]:
        with closing(self.connect()) as conn:
            cursor = conn.cursor()
            cursor.execute(self._sql(sql), params)
            names = [column[0] for column in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.kind == "mysql" else sql

    def receive(
        self,
        *,
        text: str,
        text_decoded: str | None = None,
        coding: str = "Default_No_Compression",
        udh: str = "",
        sender: str = "+6281234567890",
        received_at: datetime = datetime(2026, 8, 14, 10, 0, tzinfo=WIB),
        sms_class: int = -1,
    ) -> int:
        """Store one received SMS as gammu-smsd 1.42 does (its save_inbox_sms_insert);
        `text` is the hex `Text` column. Returns the row's ID."""
        local = received_at.astimezone(WIB).strftime("%Y-%m-%d %H:%M:%S")
        return self.execute(
            "INSERT INTO inbox (ReceivingDateTime, Text, SenderNumber, Coding, SMSCNumber, UDH,"
            " Class, TextDecoded, RecipientID, Status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (local, text, sender, coding, "+6281100000", udh, sms_class,
             "" if text_decoded is None else text_decoded, "ketapang-modem", -1),
        )  # fmt: skip

    def start_inbox_again(self) -> None:
        """Gammu's inbox emptied and numbered from 1 again, as after its tables are rebuilt
        (TRUNCATE, a restored backup); the outbox and sentitems stay."""
        if self.kind == "mysql":
            self.execute("TRUNCATE TABLE inbox")
        else:
            self.execute("DELETE FROM inbox")
            self.execute("DELETE FROM sqlite_sequence WHERE name = 'inbox'")

    def outbox_due(self) -> list[int]:
        """IDs gammu-smsd would pick from the outbox now (its find_outbox_sms_id query)."""
        now = "NOW()" if self.kind == "mysql" else "datetime('now', 'localtime')"
        return [
            int(row["ID"])
            for row in self.rows(
                f"SELECT ID FROM outbox WHERE SendingDateTime < {now}"
                f" AND SendingTimeOut < {now} AND (SenderID IS NULL OR SenderID = '')"
            )
        ]


@dataclass
class Backend:
    kind: str
    url: str
    gammu: GammuSide


@contextmanager
def host_zone(name: str) -> Iterator[None]:
    """This process's local time zone is `name` (the C library's, SQLite's and Python's)."""
    saved = os.environ.get("TZ")
    os.environ["TZ"] = name
    time.tzset()
    try:
        yield
    finally:
        if saved is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = saved
        time.tzset()


@pytest.fixture
def host_in_ketapang() -> Iterator[None]:
    """This machine's local time is WIB, as on the regency's Gammu server."""
    with host_zone("Asia/Pontianak"):
        yield


def mariadb_database(name: str, server: Server, scripts: Sequence[Path] = KALKUN_MYSQL) -> None:
    with closing(
        connect_mariadb(server, client_flag=CLIENT.MULTI_STATEMENTS, autocommit=True)
    ) as conn:
        cursor = conn.cursor()
        cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        cursor.execute(f"USE `{name}`")
        for script in scripts:
            cursor.execute(script.read_text())
            while cursor.nextset():
                pass


def drop_mariadb_database(name: str, server: Server) -> None:
    with closing(connect_mariadb(server, autocommit=True)) as conn:
        conn.cursor().execute(f"DROP DATABASE IF EXISTS `{name}`")


def sqlite_database(path: Path, scripts: Sequence[Path] = KALKUN_SQLITE) -> None:
    with closing(sqlite3.connect(path)) as conn:
        for script in scripts:
            conn.executescript(script.read_text())


@pytest.fixture(params=["mysql", "sqlite"])
def backend(
    request: pytest.FixtureRequest, tmp_path: Path, host_in_ketapang: None
) -> Iterator[Backend]:
    if request.param == "mysql":
        # Asked for here, not as an argument: a run of SQLite cases alone needs no server.
        server: Server = request.getfixturevalue("mariadb")
        name = f"lapor_gammu_{secrets.token_hex(6)}"
        mariadb_database(name, server)

        def mysql() -> Any:
            # gammu-smsd's session is in the system's zone, WIB on this host.
            return connect_mariadb(
                replace(server, database=name), init_command="SET time_zone='+07:00'"
            )

        yield Backend("mysql", server.url("mysql", name), GammuSide("mysql", mysql))
        drop_mariadb_database(name, server)
    else:
        path = tmp_path / "smsd.db"
        sqlite_database(path)
        yield Backend(
            "sqlite", f"sqlite:///{path}", GammuSide("sqlite", lambda: sqlite3.connect(path))
        )


@pytest.fixture
async def db(backend: Backend) -> AsyncIterator[GammuDatabase]:
    database = GammuDatabase.from_url(backend.url)
    yield database
    await database.close()
