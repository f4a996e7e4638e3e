"""A private NATS server with JetStream for one test: Debian's `nats-server` on a free port of
127.0.0.1 with its store in the test's own directory, never the machine's on 4222. It can be
stopped and started again on the same port and store, as a restarted server would be."""

from __future__ import annotations

import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import free_port
from tests.processes import stop_child
from tests.servers import debian_program

START_WITHIN = 20.0  # seconds for the server to greet a client; well under 1 s here
STOP_WITHIN = 10.0


def nats_server_program() -> str:
    found = debian_program("nats-server")
    if found is None:
        raise RuntimeError("nats-server not found: install Debian's nats-server package")
    return found


@dataclass
class NatsServer:
    directory: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.directory / "nats-server.log"

    def start(self) -> None:
        """Start (again) on the same port and store, and return once it greets a client."""
        assert self.process is None or self.process.poll() is not None, "already running"
        self.starts += 1
        command = [
            nats_server_program(), "-js", "-a", "127.0.0.1", "-p", str(self.port),
            "-sd", str(self.directory / "store"), "-l", str(self.log),
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + START_WITHIN
        # The server listens only once JetStream is up: its greeting means both are.
        while not self._greets():
            if self.process.poll() is not None:
                raise RuntimeError(f"nats-server exited at start:\n{self._log_text()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"nats-server silent after {START_WITHIN}s:\n{self._log_text()}")
            time.sleep(0.02)

    def stop(self) -> None:
        """Stop it as an operator would (SIGTERM), killed if it lingers."""
        if self.process is not None:
            stop_child(self.process, STOP_WITHIN)

    def _greets(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                return sock.recv(4).startswith(b"INFO")
        except OSError:
            return False

    def _log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else "(no log)"
