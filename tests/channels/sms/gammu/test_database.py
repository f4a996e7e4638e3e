"""LAPOR_GAMMU_DATABASE_URL, and what Gammu's naive timestamps mean."""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pytest

from channels.sms.gammu.database import GammuDatabase, Transaction
from channels.sms.gammu.inbox import GammuInbox
from tests.channels.sms.gammu.smsd import Backend, GammuSide, sqlite_database, ucs2_hex
from tests.servers import Server, connect_mariadb

SECRET = "s3cr3t-Pa55"

# a URL we cannot use → how the reason begins
BAD_URLS: dict[str, tuple[str, str]] = {
    "unsupported-kind": (f"postgresql://lapor:{SECRET}@db/gammu", "unsupported kind"),
    "no-scheme": (f"lapor:{SECRET}@db/gammu", "unsupported kind"),
    "port-not-a-number": (f"mysql://lapor:{SECRET}@db:33o6/kalkun", "not a valid URL"),
    "port-out-of-range": (f"mysql://lapor:{SECRET}@db:99999/kalkun", "not a valid URL"),
    "no-host": (f"mysql://lapor:{SECRET}@/kalkun", "no host"),
    "no-user": (f"mysql://:{SECRET}@db/kalkun", "no user"),
    "no-database": (f"mysql://lapor:{SECRET}@db:3306", "no database"),
    "mysql-option": (f"mysql://lapor:{SECRET}@db/kalkun?ssl=1", "a MySQL URL takes no ?options"),
    "sqlite-with-host": ("sqlite://server/var/lib/smsd.db", "a SQLite URL is sqlite:///"),
    "sqlite-without-path": ("sqlite:///", "a SQLite URL is sqlite:///"),
    "sqlite-unknown-option": ("sqlite:////var/smsd.db?mode=ro", "unknown option 'mode'"),
    "sqlite-unknown-zone": ("sqlite:////var/smsd.db?timezone=Asia/Ketapang", "unknown time zone"),
}


@pytest.mark.parametrize(("url", "reason"), BAD_URLS.values(), ids=BAD_URLS.keys())
def test_a_bad_url_is_refused_without_its_password(url: str, reason: str) -> None:
    with pytest.raises(ValueError) as raised:
        GammuDatabase.from_url(url)

    assert str(raised.value).startswith(f"Gammu database URL: {reason}")
    assert SECRET not in str(raised.value)
    assert raised.value.__cause__ is None


GOOD_URLS: dict[str, tuple[str, str]] = {
    "mysql": (
        f"mysql://kalkun:{SECRET}@10.0.0.5:3307/kalkun",
        "mysql://kalkun@10.0.0.5:3307/kalkun",
    ),
    "mysql-default-port": ("mysql://kalkun@db.local/kalkun", "mysql://kalkun@db.local:3306/kalkun"),
    "mariadb-scheme": (f"mariadb://kalkun:{SECRET}@db/sms", "mysql://kalkun@db:3306/sms"),
    "sqlite-absolute": ("sqlite:////var/lib/gammu/smsd.db", "sqlite:////var/lib/gammu/smsd.db"),
    "sqlite-relative": ("sqlite:///var/smsd.db?timezone=UTC", "sqlite:///var/smsd.db"),
}


@pytest.mark.parametrize(("url", "shown"), GOOD_URLS.values(), ids=GOOD_URLS.keys())
def test_a_database_is_shown_without_its_password(url: str, shown: str) -> None:
    db = GammuDatabase.from_url(url)

    assert str(db) == shown
    assert SECRET not in repr(db)


# naive timestamp as the driver returns it → the instant it means
NAIVE_TIMES: dict[str, tuple[str, datetime | str, datetime]] = {
    "mysql-session-in-utc": (
        "mysql://root@db/kalkun",
        datetime(2026, 8, 14, 3, 0),
        datetime(2026, 8, 14, 3, 0, tzinfo=UTC),
    ),
    "sqlite-gammu-1.40-local-time": (
        "sqlite:////var/smsd.db",
        "2026-08-14 10:00:00",
        datetime(2026, 8, 14, 3, 0, tzinfo=UTC),
    ),
    "sqlite-older-gammu-in-utc": (
        "sqlite:////var/smsd.db?timezone=UTC",
        "2026-08-14 10:00:00",
        datetime(2026, 8, 14, 10, 0, tzinfo=UTC),
    ),
    "sqlite-zone-named": (
        "sqlite:////var/smsd.db?timezone=Asia/Makassar",
        "2026-08-14 10:00:00",
        datetime(2026, 8, 14, 2, 0, tzinfo=UTC),
    ),
}


@pytest.mark.usefixtures("host_in_ketapang")
@pytest.mark.parametrize(("url", "stored", "meant"), NAIVE_TIMES.values(), ids=NAIVE_TIMES.keys())
def test_naive_timestamps_are_read_in_the_zone_gammu_wrote_them(
    url: str, stored: datetime | str, meant: datetime
) -> None:
    moment = GammuDatabase.from_url(url).to_utc(stored)

    assert moment == meant
    assert moment.tzinfo is UTC


# an instant → how Gammu, read through this URL, writes it
GAMMU_TIMES: dict[str, tuple[str, str]] = {
    "mysql-session-in-utc": ("mysql://root@db/kalkun", "2026-08-14 03:00:00"),
    "sqlite-host-local-time": ("sqlite:////var/smsd.db", "2026-08-14 10:00:00"),
    "sqlite-zone-named": ("sqlite:////var/smsd.db?timezone=Asia/Makassar", "2026-08-14 11:00:00"),
}


@pytest.mark.usefixtures("host_in_ketapang")
@pytest.mark.parametrize(("url", "written"), GAMMU_TIMES.values(), ids=GAMMU_TIMES.keys())
def test_an_instant_is_written_as_gammu_writes_its_times(url: str, written: str) -> None:
    db = GammuDatabase.from_url(url)

    assert db.to_gammu(datetime(2026, 8, 14, 3, 0, 0, 123, tzinfo=UTC)) == written
    assert db.to_utc(written) == datetime(2026, 8, 14, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_a_new_sqlite_file_in_the_old_ones_place_is_read(
    backend: Backend, db: GammuDatabase, tmp_path: Path
) -> None:
    """Gammu's database rebuilt or restored: a connection to the old file would read it on,
    and never a row Gammu writes from now on."""
    backend.gammu.receive(text=ucs2_hex("lama"))
    inbox = GammuInbox(db)
    assert [m.text for m in await inbox.fetch_unprocessed(1)] == ["lama"]
    path = Path(backend.url.removeprefix("sqlite:///"))
    fresh = tmp_path / "rebuilt.db"
    sqlite_database(fresh)
    fresh.replace(path)
    GammuSide("sqlite", lambda: sqlite3.connect(path)).receive(text=ucs2_hex("baru"))

    assert [m.text for m in await inbox.fetch_unprocessed(1)] == ["baru"]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_an_older_gammus_utc_sqlite_times_are_read_with_timezone_utc(
    backend: Backend,
) -> None:
    row = backend.gammu.receive(text=ucs2_hex("lama"))  # 10:00 WIB, as Gammu 1.42 writes it
    backend.gammu.execute(
        "UPDATE inbox SET ReceivingDateTime = '2026-08-14 03:00:00' WHERE ID = ?", (row,)
    )  # what Gammu before 1.40 wrote: UTC
    db = GammuDatabase.from_url(f"{backend.url}?timezone=UTC")

    (message,) = await GammuInbox(db).fetch_unprocessed(1)
    await db.close()

    assert message.received_at == datetime(2026, 8, 14, 3, 0, tzinfo=UTC)


@pytest.fixture
def mysql_user(backend: Backend, mariadb: Server) -> Iterator[tuple[str, str]]:
    """A MariaDB user whose password needs URL-encoding, allowed on the test database."""
    name, password = f"lapor_{secrets.token_hex(4)}", "p@ss:w/rd%?#é"
    database = backend.url.rsplit("/", 1)[1]
    with closing(connect_mariadb(mariadb, autocommit=True)) as conn:
        cursor = conn.cursor()
        cursor.execute("CREATE USER %s@'127.0.0.1' IDENTIFIED BY %s", (name, password))
        cursor.execute(f"GRANT ALL ON `{database}`.* TO %s@'127.0.0.1'", (name,))
    yield name, password
    with closing(connect_mariadb(mariadb, autocommit=True)) as conn:
        conn.cursor().execute("DROP USER %s@'127.0.0.1'", (name,))


@pytest.mark.parametrize("backend", ["mysql"], indirect=True)
async def test_user_and_password_are_url_decoded(
    backend: Backend, mariadb: Server, mysql_user: tuple[str, str]
) -> None:
    name, password = mysql_user
    database = backend.url.rsplit("/", 1)[1]
    address = f"{mariadb.host}:{mariadb.port}"
    db = GammuDatabase.from_url(f"mysql://{name}:{quote(password, safe='')}@{address}/{database}")

    def whoami(tx: Transaction) -> str:
        return str(tx.rows("SELECT CURRENT_USER() AS me")[0]["me"])

    assert await db.run(whoami) == f"{name}@127.0.0.1"
    await db.close()
