"""A fresh Gammu database per test (MariaDB from tests/servers.py, or SQLite) with Gammu's
shipped schema, gammu-smsd on its dummy phone, and the gateway process reading the database.

The tests' time zones: by default the hosts run where the database's times are meant (a
MariaDB server's own zone; WIB for SQLite). A test that names a `zone` gets it on every
host; on MySQL that needs a server in that zone, so those tests get a private MariaDB of
their own whose zone they set (the machine's server is never reconfigured). `smsd_zone`
puts gammu-smsd alone somewhere else.
"""

from __future__ import annotations

import asyncio
import secrets
import sqlite3
from collections.abc import AsyncIterator, Generator, Iterator
from contextlib import closing
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.channels.sms.gammu.smsd import (
    GammuSide,
    drop_mariadb_database,
    mariadb_database,
    sqlite_database,
)
from tests.channels.sms.gammu_real.daemon import (
    SHIPPED,
    GammuDb,
    GammuSmsd,
    Rig,
    posix_zone,
    require_sqlite_driver,
)
from tests.processes import Launcher
from tests.servers import Server, connect_mariadb, mariadb, private_mariadb

__all__ = ["mariadb"]

SQLITE_ZONE = "Asia/Jakarta"
_SHOWN = pytest.StashKey[Rig]()


@pytest.fixture
def zone() -> str | None:
    """The zone of every host; None: wherever the database's times are meant."""
    return None


@pytest.fixture
def smsd_zone() -> str | None:
    """gammu-smsd's zone when it is not the database's (a misconfigured modem host)."""
    return None


@pytest.fixture(scope="session")
def zoned_mariadb() -> Iterator[Server]:
    """A private MariaDB for the tests that set the server's time zone."""
    with private_mariadb() as server:
        yield server


@pytest.fixture(params=["mysql", "sqlite"])
def gammu_db(request: pytest.FixtureRequest, tmp_path: Path, zone: str | None) -> Iterator[GammuDb]:
    if request.param == "sqlite":
        require_sqlite_driver()
        yield _sqlite_db(tmp_path / "gammu-db" / "smsd.db", zone or SQLITE_ZONE)
        return
    # Asked for here, not as arguments: the SQLite cases need no server.
    server: Server = request.getfixturevalue("zoned_mariadb" if zone else "mariadb")
    name = f"lapor_gammu_real_{secrets.token_hex(6)}"
    mariadb_database(name, server, [SHIPPED / "mysql.sql"])
    try:
        yield _mysql_db(replace(server, database=name), zone)
    finally:
        drop_mariadb_database(name, server)


def _sqlite_db(path: Path, zone: str) -> GammuDb:
    path.parent.mkdir()
    sqlite_database(path, [SHIPPED / "sqlite.sql"])

    def renew() -> None:  # a new file in the old one's place
        fresh = path.with_name("renewed.db")
        sqlite_database(fresh, [SHIPPED / "sqlite.sql"])
        fresh.replace(path)

    return GammuDb(
        kind="sqlite",
        url=f"sqlite:///{path}",
        smsdrc={"driver": "sqlite3", "dbdir": str(path.parent), "database": path.name},
        zone=zone,
        side=GammuSide("sqlite", lambda: sqlite3.connect(path)),
        renew=renew,
    )


def _mysql_db(server: Server, zone: str | None) -> GammuDb:
    side = GammuSide("mysql", lambda: connect_mariadb(server))
    return GammuDb(
        kind="mysql",
        url=server.url("mysql", str(server.database)),
        smsdrc={
            "driver": "native_mysql",
            "host": f"{server.host}:{server.port}",
            "user": server.user,
            "password": server.password,
            "database": str(server.database),
        },
        zone=_mysql_zone(server, zone),
        side=side,
        # TRUNCATE under the running daemon, as an operator's clean-up would: sentitems
        # stays, with the CreatorIDs of our earlier replies.
        renew=side.start_inbox_again,
    )


def _mysql_zone(server: Server, zone: str | None) -> str:
    """Gammu writes local times into a session in the server's zone: the test's zone, set
    on a private server, or else the server's own (the machine's is never reconfigured)."""
    with closing(connect_mariadb(server, autocommit=True)) as conn:
        cursor = conn.cursor()
        if zone is None:
            cursor.execute("SELECT TIMESTAMPDIFF(MINUTE, UTC_TIMESTAMP(), NOW())")
            (minutes,) = cursor.fetchone()
            return posix_zone(int(minutes))
        # Sessions opened from now on (gammu-smsd's) are in it.
        offset = datetime.now(UTC).astimezone(ZoneInfo(zone)).strftime("%z")
        cursor.execute("SET GLOBAL time_zone = %s", (f"{offset[:3]}:{offset[3:]}",))
        return zone


@pytest.fixture
async def rig(
    request: pytest.FixtureRequest, tmp_path: Path, gammu_db: GammuDb, smsd_zone: str | None
) -> AsyncIterator[Rig]:
    """gammu-smsd and the gateway running on `gammu_db`, stopped at the end whatever
    happened; their logs join the report of a test that fails."""
    (tmp_path / "gammu").mkdir()
    smsd = GammuSmsd(tmp_path / "gammu", gammu_db, smsd_zone or gammu_db.zone)
    launcher = Launcher(tmp_path)
    rig = Rig(gammu_db, smsd, launcher)
    request.node.stash[_SHOWN] = rig
    try:
        await asyncio.gather(smsd.start(), rig.start_gateway())
        yield rig
    finally:
        launcher.stop_all()
        smsd.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    rig = item.stash.get(_SHOWN, None)
    if report.failed and rig is not None:
        report.sections.append(("gammu-smsd log", rig.smsd.log()))
        report.sections.append(("gateway log", rig.output()))
    return report
