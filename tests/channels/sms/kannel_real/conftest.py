"""The gateway behind real Kannel: `lapor-gateway serve` (tests/processes.py) on the port
kannel.conf's get-url names, bearerbox and smsbox configured with the README's groups, and
fakesmsc as the citizens' phones (daemons.py).

A test changes Kannel's side by parametrizing `kannel_setup` (daemons.Setup)."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.channels.sms.kannel_real.daemons import (
    PACKAGES,
    Kannel,
    Phones,
    Ports,
    Setup,
    kannel_conf,
    missing_programs,
)
from tests.conftest import free_port
from tests.processes import Launcher, ServerProcess
from tests.profiles import KETAPANG_FILE, replace

SECRET = "rahasia-kannel-nyata"
# A long SMS whose other parts never come is filed this long after its first.
CONCAT_TIMEOUT_SECONDS = 2
# An acknowledgement of two SMS, as a regency may reword it (the gateway allows two): every
# reply to a complaint then tests that Kannel delivers a long reply as one message.
TWO_SMS_ACK = (
    "LAPOR! {regency}: laporan Anda diterima, no. {tracking_id}, dan akan diverifikasi oleh "
    "Admin Penghubung dalam tiga hari kerja. Cek status: kirim CEK {tracking_id} ke "
    "{short_code}. Layanan ini gratis."
)


@dataclass
class Rig:
    """Kannel, the phones on its SMSC, and the gateway its sms-service calls."""

    phones: Phones
    kannel: Kannel
    gateway: ServerProcess
    launcher: Launcher

    async def stop_gateway(self) -> None:
        self.gateway.process.terminate()  # SIGTERM, as a deployment restarts it
        await self.gateway.wait_exit()

    async def start_gateway(self) -> None:
        """Another process on the same database and the same port: Kannel's get-url and
        its queued retries name that one address."""
        self.gateway = on_port(self.launcher.restart(self.gateway), self.gateway.port)
        await self.gateway.wait_until_up()

    def rows(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        """Read the gateway's SQLite file through a connection of the test's own."""
        with closing(sqlite3.connect(self.gateway.db)) as conn:
            return list(conn.execute(sql, params).fetchall())

    def complaints(self, sender: str) -> list[tuple[str, str, str]]:
        """(tracking ID, text, flags) of each complaint filed for `sender`, oldest first."""
        return [
            (str(tid), str(text), str(flags))
            for tid, text, flags in self.rows(
                "SELECT tracking_id, text, flags FROM complaints WHERE reply_address = ?"
                " ORDER BY received_at",
                (sender,),
            )
        ]


def on_port(server: ServerProcess, port: int) -> ServerProcess:
    """The launcher picks a new port for every start, which LAPOR_PORT among the settings
    overrides (a restart keeps the settings): the process listens on `port`, so its
    record must say so too."""
    server.port = port
    return server


def two_sms_profile(folder: Path) -> Path:
    path = folder / "ketapang-two-sms-ack.toml"
    edit = replace("[messages]\n", f'[messages]\n"sms.ack" = "{TWO_SMS_ACK}"\n')
    path.write_text(edit(KETAPANG_FILE.read_text(encoding="utf-8")), encoding="utf-8")
    return path


def write_conf(folder: Path, setup: Setup, ports: Ports, gateway_port: int) -> Path:
    conf = folder / "kannel.conf"
    conf.write_text(kannel_conf(setup, ports, gateway_port, SECRET), encoding="utf-8")
    return conf


def start_gateway(launcher: Launcher, setup: Setup, ports: Ports, port: int) -> ServerProcess:
    user = setup.readme.group("sendsms-user")
    server = launcher.start(
        LAPOR_PORT=str(port),
        LAPOR_PROFILE=str(two_sms_profile(launcher.tmp_path)),
        LAPOR_KANNEL_SECRET=SECRET,
        LAPOR_KANNEL_SENDSMS_URL=ports.sendsms_url,
        LAPOR_KANNEL_USERNAME=user["username"],
        LAPOR_KANNEL_PASSWORD=user["password"],
        LAPOR_SMS_CONCAT_TIMEOUT_SECONDS=str(CONCAT_TIMEOUT_SECONDS),
    )
    return on_port(server, port)


@pytest.fixture
def kannel_setup() -> Setup:
    """Kannel as the README configures it."""
    return Setup()


@pytest.fixture
async def rig(tmp_path: Path, kannel_setup: Setup) -> AsyncIterator[Rig]:
    if missing := missing_programs():
        pytest.fail(
            f"Kannel is not installed ({', '.join(map(str, missing))} missing): `make test` "
            f"installs it, or run apt-get install {' '.join(PACKAGES)}"
        )
    ports, gateway_port = Ports.free(), free_port()
    conf = write_conf(tmp_path, kannel_setup, ports, gateway_port)
    launcher = Launcher(tmp_path)
    kannel = Kannel(conf, ports)
    async with AsyncExitStack() as stack:
        stack.callback(launcher.stop_all)
        stack.callback(kannel.stop)
        gateway = start_gateway(launcher, kannel_setup, ports, gateway_port)
        await kannel.start()
        phones = await Phones.connect(ports.smsc)
        stack.push_async_callback(phones.close)
        await kannel.wait_for("fakesmsc connected", lambda status: status.smsc_online)
        await gateway.wait_until_up()
        yield Rig(phones, kannel, gateway, launcher)
