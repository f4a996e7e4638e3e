"""The gateway as a real process: `lapor-gateway serve` started as a child on a free port
over a SQLite file, talked to over HTTP, and stopped or killed with real signals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import ClientConnectionError, ClientSession, ClientTimeout

from tests.conftest import eventually, free_port

_SCRIPT = Path(sys.executable).parent / "lapor-gateway"
CLI = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "gateway.cli"]
START_WITHIN = 20.0  # a server's start-up, bounded
STOP_WITHIN = 15.0  # a server's exit after a signal, bounded


def stop_child(process: subprocess.Popen[bytes], within: float = STOP_WITHIN) -> None:
    """SIGTERM, a daemon's orderly shutdown, then SIGKILL if it lingers past `within` s."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=within)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def clean_environ(**settings: str) -> dict[str, str]:
    """This process's environment without any LAPOR_* of the machine, plus `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("LAPOR_")}
    env.update(settings)
    return env


@dataclass(frozen=True)
class Memory:
    """A process's resident memory in bytes: now, and the most it has held."""

    rss: int
    peak: int


@dataclass
class ServerProcess:
    process: subprocess.Popen[bytes]
    port: int
    db: Path
    log_dir: Path
    name: str
    settings: dict[str, str]
    """The LAPOR_* it was started with, beyond the launcher's own."""

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> tuple[str, str]:
        return (
            (self.log_dir / f"{self.name}.out").read_text(),
            (self.log_dir / f"{self.name}.err").read_text(),
        )

    async def wait_until_up(self) -> None:
        async with ClientSession(timeout=ClientTimeout(total=2)) as http:

            async def probe() -> int | None:
                if self.process.poll() is not None:
                    raise AssertionError(f"the server exited at start: {self.output()}")
                try:
                    async with http.get(f"{self.base}/healthz") as response:
                        return response.status
                except (ClientConnectionError, TimeoutError):
                    return None

            await eventually(probe, lambda status: status == 200, START_WITHIN)

    async def wait_exit(self) -> int:
        async def probe() -> int | None:
            return self.process.poll()

        code = await eventually(probe, lambda rc: rc is not None, STOP_WITHIN)
        assert code is not None
        return code

    async def kill(self) -> None:
        """SIGKILL, as a power cut or the OOM killer would: no handler, no clean-up."""
        self.process.send_signal(signal.SIGKILL)
        assert await self.wait_exit() == -signal.SIGKILL

    def memory(self) -> Memory:
        """Read from /proc, so it is the kernel's count, not what the process believes."""
        fields: dict[str, int] = {}
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                fields[name] = int(value.split()[0]) * 1024  # given in kB
        return Memory(rss=fields["VmRSS"], peak=fields["VmHWM"])

    def stop_now(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)


@dataclass
class Launcher:
    tmp_path: Path
    started: list[ServerProcess] = field(default_factory=list)

    def start(
        self, db: Path | None = None, /, command: Sequence[str] = (), **extra: str
    ) -> ServerProcess:
        """`lapor-gateway serve`, or `command` (another server that reads LAPOR_PORT),
        on a free port with the launcher's settings and `extra`."""
        db = db or self.tmp_path / "lapor.db"
        port = free_port()
        name = f"serve-{len(self.started)}"
        settings = {
            "LAPOR_HOST": "127.0.0.1",
            "LAPOR_PORT": str(port),
            "LAPOR_DATABASE_URL": f"sqlite:///{db}",
            "LAPOR_UPLOAD_DIR": str(self.tmp_path / "uploads"),
            "LAPOR_SECRET_KEY": "kunci-uji-coba-proses-nyata",
            "LAPOR_DISPATCH_POLL_SECONDS": "0.2",
            **extra,
        }
        with (
            (self.tmp_path / f"{name}.out").open("wb") as out,
            (self.tmp_path / f"{name}.err").open("wb") as err,
        ):
            process = subprocess.Popen(
                list(command) or [*CLI, "serve"],
                cwd=self.tmp_path,
                env=clean_environ(**settings),
                stdout=out,
                stderr=err,
            )
        server = ServerProcess(process, port, db, self.tmp_path, name, extra)
        self.started.append(server)
        return server

    def restart(self, server: ServerProcess) -> ServerProcess:
        """Another process on the same database file with the same settings (a new port)."""
        return self.start(server.db, **server.settings)

    def stop_all(self) -> None:
        for server in self.started:
            server.stop_now()
