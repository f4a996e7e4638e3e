"""gammu-smsd itself, on Gammu's dummy phone, beside the real gateway process.

Gammu's dummy phone (`model = dummy`) is a folder: an SMS reaches the modem when a file in
Gammu's SMS backup format appears in its `sms/1` (the SIM's inbox); gammu-smsd reads it,
stores it in its database and deletes the file. The dummy phone keeps nothing of what it
sends (Gammu 1.42's DUMMY_SendSMS only encodes the PDU and reports success), so what the
modem transmitted is read where the phone driver says it: gammu-smsd's log at DebugLevel 4,
one `SMS Submit` with the number, the UDH and the text for each SMS on the air.
"""

from __future__ import annotations

import asyncio
import glob
import itertools
import os
import re
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from channels.sms.models import ConcatPart
from channels.sms.segments import encoding_for
from channels.sms.udh import parse_concat_hex
from tests.channels.sms.gammu.smsd import GammuSide
from tests.conftest import eventually
from tests.processes import Launcher, ServerProcess, stop_child

# The schemas Debian's gammu-smsd 1.42 ships, as an operator loads them.
SHIPPED = Path("/usr/share/doc/gammu-smsd/examples")
START_WITHIN = 20.0  # seconds for gammu-smsd to reach its phone and database
STOP_WITHIN = 10.0
SMSC = "+6281100000"
_INSTALL = "`make test` installs them: apt-get install gammu-smsd gammu libdbd-sqlite3"


def gammu_smsd_program() -> str:
    """gammu-smsd, or the test fails saying how to get it (never skipped)."""
    found = shutil.which("gammu-smsd")
    if found is None:
        pytest.fail(f"gammu-smsd not found: {_INSTALL}", pytrace=False)
    return found


def require_sqlite_driver() -> None:
    """libdbi's SQLite driver, without which gammu-smsd cannot open a SQLite database."""
    if not glob.glob("/usr/lib/*/dbd/libdbdsqlite3.so"):
        pytest.fail(f"libdbi's SQLite driver (libdbd-sqlite3) not found: {_INSTALL}")


def posix_zone(offset_minutes: int) -> str:
    """A TZ value for a fixed offset east of UTC (POSIX counts west: `<+0700>-7:00`)."""
    sign = "+" if offset_minutes >= 0 else "-"
    hours, minutes = divmod(abs(offset_minutes), 60)
    west = "-" if offset_minutes > 0 else "+"
    return f"<{sign}{hours:02d}{minutes:02d}>{west}{hours}:{minutes:02d}"


@dataclass
class GammuDb:
    """Gammu's database as gammu-smsd and the gateway both reach it."""

    kind: str
    url: str
    """LAPOR_GAMMU_DATABASE_URL"""
    smsdrc: Mapping[str, str]
    """The lines of gammu-smsd's [smsd] section that name it."""
    zone: str
    """The zone Gammu's local times must be written in to be read right: a MySQL server's
    own zone; for SQLite, the zone the test puts its hosts in."""
    side: GammuSide
    """A connection of our own, to look at the tables."""
    renew: Callable[[], None]
    """Gammu's tables made anew, its inbox numbered from 1 again."""

    def unprocessed(self) -> list[int]:
        return [int(row["ID"]) for row in self.side.rows(_UNPROCESSED)]

    def inbox_ids(self) -> list[int]:
        return [int(row["ID"]) for row in self.side.rows("SELECT ID FROM inbox ORDER BY ID")]


_UNPROCESSED = "SELECT ID FROM inbox WHERE Processed = 'false' ORDER BY ID"


@dataclass(frozen=True)
class Transmitted:
    """One SMS the phone put on the air."""

    to: str
    text: str
    udh: str


@dataclass
class DummyPhone:
    """The modem's side: SMS arriving from citizens, and what it transmitted."""

    folder: Path
    log: Path
    """gammu-smsd's log, where the phone driver writes what it transmits."""
    _locations: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        # Gammu makes the folders within, not the device's own.
        self.folder.mkdir(parents=True, exist_ok=True)

    def receive(self, sender: str, text: str, *, udh: str = "") -> datetime:
        """An SMS from `sender` reaching the modem now (the network's time stamp, to the
        second, which Gammu stores as its ReceivingDateTime); returns that time."""
        at = datetime.now(UTC).replace(microsecond=0)
        inbox = self.folder / "sms" / "1"
        inbox.mkdir(parents=True, exist_ok=True)  # gammu-smsd may not have run yet
        location = next(self._locations)
        draft = self.folder / f"incoming-{location}"
        draft.write_text(_backup(sender, text, udh, at))
        # Whole or not at all: gammu-smsd may look at the folder at any moment.
        draft.replace(inbox / str(location))
        return at

    def transmitted(self) -> list[Transmitted]:
        return _transmissions(self.log.read_text(errors="replace"))

    def sent(self) -> list[tuple[str, str]]:
        """Every message transmitted, as (number, text), its parts joined."""
        return _joined(self.transmitted())


def _backup(sender: str, text: str, udh: str, at: datetime) -> str:
    """One received SMS in Gammu's SMS backup format (what `gammu backupsms` writes)."""
    coding = "Unicode_No_Compression" if encoding_for(text) == "ucs2" else "Default_No_Compression"
    hex_text = text.encode("utf-16-be").hex().upper()
    lines = [
        "[SMSBackup000]",
        f'SMSC = "{SMSC}"',
        "PDU = Deliver",
        f"DateTime = {at:%Y%m%dT%H%M%S}Z",
        "State = UnRead",
        f'Number = "{sender}"',
        f"Coding = {coding}",
        # Gammu writes the UCS-2 hex in lines of 200 characters: Text00, Text01, ...
        *(
            f"Text{n:02d} = {hex_text[i : i + 200]}"
            for n, i in enumerate(range(0, len(hex_text), 200))
        ),
        *([f"UDH = {udh}"] if udh else []),
        "Folder = 1",
        "Class = -1",
    ]
    return "\n".join(lines) + "\n"


_LOG_LINE = re.compile(r"gammu-smsd\[\d+\]: (.*)$")


def _transmissions(log: str) -> list[Transmitted]:
    """Each SMS Submit the phone driver logged and gammu-smsd then saw sent (status 0)."""
    sent: list[Transmitted] = []
    block: list[str] | None = None
    for line in log.splitlines():
        match = _LOG_LINE.search(line)
        said = match.group(1) if match else ""
        if said == "gammu: SMS Submit":
            block = []
        elif block is not None and said.startswith("gammu: "):
            block.append(said.removeprefix("gammu: "))
        elif block is not None and said.startswith("SMS sent on device"):
            if "status=0," in said:
                sent.append(_transmitted(block))
            block = None
    return sent


def _transmitted(block: list[str]) -> Transmitted:
    """The driver's lines: `Recipient number "…"`, the UDH's hex dump after `UDH, length n`
    (cells like `05 |00 |03 |377|`), and the decoded text last."""
    (to,) = [line.split('"')[1] for line in block if line.startswith("Recipient number ")]
    udh = ""
    lengths = [i for i, line in enumerate(block) if line.startswith("UDH, length ")]
    if lengths:
        size = int(block[lengths[0]].split()[-1])
        dump = next(line for line in block[lengths[0] + 1 :] if "|" in line)
        udh = "".join(cell[:2] for cell in dump.split("|")[:size])
    return Transmitted(to=to, text=block[-1], udh=udh)


def _joined(parts: list[Transmitted]) -> list[tuple[str, str]]:
    """Parts of a concatenated SMS joined: gammu-smsd sends them one after the other."""
    joined: list[tuple[str, str]] = []
    previous: ConcatPart | None = None
    for part in parts:
        concat = parse_concat_hex(part.udh) if part.udh else None
        if concat and previous and concat.seq > 1 and concat.reference == previous.reference:
            joined[-1] = (part.to, joined[-1][1] + part.text)
        else:
            joined.append((part.to, part.text))
        previous = concat
    return joined


@dataclass
class GammuSmsd:
    """gammu-smsd in the foreground, a child of the test, in the time zone it is given, with
    its dummy phone in `folder`."""

    folder: Path
    db: GammuDb
    zone: str
    process: subprocess.Popen[bytes] | None = None
    phone: DummyPhone = field(init=False)

    def __post_init__(self) -> None:
        self.phone = DummyPhone(self.folder / "phone", self.log_path)

    @property
    def log_path(self) -> Path:
        return self.folder / "smsd.log"

    def log(self) -> str:
        """Its own log, and what it wrote to stderr (before it could open its log)."""
        paths = (self.log_path, self.folder / "smsd.out")
        return "\n".join(path.read_text(errors="replace") for path in paths if path.exists())

    async def start(self) -> None:
        begun = len(self.log())
        self.process = self._launch()
        await self._ready(self.process, begun)

    def _launch(self) -> subprocess.Popen[bytes]:
        config = self.folder / "smsdrc"
        config.write_text(self._smsdrc())
        with (self.folder / "smsd.out").open("ab") as out:
            return subprocess.Popen(
                [gammu_smsd_program(), "-c", str(config)],
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, "TZ": self.zone},
            )

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            stop_child(process, STOP_WITHIN)

    def _smsdrc(self) -> str:
        smsd = {
            "service": "sql",
            **self.db.smsdrc,
            "logfile": str(self.log_path),
            # 1: its own steps, 2: its SQL, 4: the phone driver's, which says what it sends.
            "debuglevel": "7",
            # One second where Gammu's defaults are 15 to 600: a test waits a few of these.
            "commtimeout": "1",
            "receivefrequency": "1",
            "loopsleep": "1",
            "multiparttimeout": "2",
            "statusfrequency": "0",
            **dict.fromkeys(("checksecurity", "checkbattery", "checksignal", "checknetwork"), "0"),
        }
        lines = [
            "[gammu]",
            f"device = {self.folder / 'phone'}",
            "connection = none",
            "model = dummy",
            "",
            "[smsd]",
            *(f"{name} = {value}" for name, value in smsd.items()),
        ]
        return "\n".join(lines) + "\n"

    async def _ready(self, process: subprocess.Popen[bytes], begun: int) -> None:
        """Until it has its phone and its database (it records the phone in `phones`)."""
        deadline = time.monotonic() + START_WITHIN
        while "Inserting phone info" not in self.log()[begun:]:
            if process.poll() is not None:
                pytest.fail(f"gammu-smsd exited with {process.returncode}:\n{self.log()}")
            if time.monotonic() > deadline:
                pytest.fail(f"gammu-smsd not ready within {START_WITHIN:.0f} s:\n{self.log()}")
            await asyncio.sleep(0.05)


ROUND_TRIP_WITHIN = 30.0  # seconds from an SMS on the phone to its answer on the air


@dataclass
class Rig:
    """The modem with gammu-smsd, Gammu's database, and the gateway process reading it."""

    db: GammuDb
    smsd: GammuSmsd
    launcher: Launcher
    gateway: ServerProcess | None = None

    @property
    def phone(self) -> DummyPhone:
        return self.smsd.phone

    async def start_gateway(self) -> None:
        self.gateway = self.launcher.start(
            LAPOR_GAMMU_DATABASE_URL=self.db.url,
            LAPOR_GAMMU_POLL_SECONDS="0.2",
            LAPOR_SMS_CONCAT_TIMEOUT_SECONDS="2",
            TZ=self.db.zone,
        )
        await self.gateway.wait_until_up()

    def output(self) -> str:
        """What the gateway process wrote to stderr: its log."""
        return self.gateway.output()[1] if self.gateway else ""

    async def number_inbox_from_one_again(self) -> None:
        """Gammu's tables rebuilt while the gateway keeps its store. A new SQLite file only
        with gammu-smsd stopped: it would write on into the old one."""
        if self.db.kind == "mysql":
            self.db.renew()
            return
        self.smsd.stop()
        self.db.renew()
        await self.smsd.start()

    async def sent_to(self, number: str, count: int) -> list[str]:
        """The texts the phone has transmitted to `number`, once there are `count`."""

        async def probe() -> list[str]:
            return [text for to, text in self.phone.sent() if to == number]

        texts = await eventually(probe, lambda texts: len(texts) >= count, ROUND_TRIP_WITHIN)
        assert len(texts) == count, texts
        return texts

    async def backlog(self, count: int) -> None:
        """Until Gammu's inbox holds `count` SMS nobody has taken."""

        async def probe() -> list[int]:
            return self.db.unprocessed()

        await eventually(probe, lambda ids: len(ids) == count, ROUND_TRIP_WITHIN)

    def complaint(self, tracking_id: str) -> dict[str, Any]:
        """A complaint as the gateway stored it, read from its SQLite file."""
        rows = self._complaints("WHERE tracking_id = ?", (tracking_id,))
        assert len(rows) == 1, tracking_id
        return rows[0]

    def complaint_count(self) -> int:
        return len(self._complaints())

    def _complaints(self, where: str = "", params: tuple[object, ...] = ()) -> list[dict[str, Any]]:
        assert self.gateway is not None
        with closing(sqlite3.connect(self.gateway.db)) as conn:
            conn.row_factory = sqlite3.Row
            return [dict(row) for row in conn.execute(f"SELECT * FROM complaints {where}", params)]
