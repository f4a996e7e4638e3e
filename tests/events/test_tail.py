"""`lapor-gateway events tail`: the operator's view of the events, as a real process."""

from __future__ import annotations

import asyncio
import json
import subprocess

import pytest

from gateway.cli import main
from tests.conftest import Running, free_port
from tests.events.nats_server import NatsServer
from tests.processes import CLI, clean_environ

WITHIN = 15.0  # seconds for the command to say something
TEXT = "Pohon tumbang menutup Jalan Ahmad Yani sejak pagi, kendaraan tidak bisa lewat."


async def test_tail_prints_each_event_as_it_arrives(
    relaying: Running, nats_server: NatsServer
) -> None:
    process = await asyncio.create_subprocess_exec(
        *CLI,
        "events",
        "tail",
        env=clean_environ(LAPOR_NATS_URL=nats_server.url),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    try:
        note = await asyncio.wait_for(process.stderr.readline(), WITHIN)
        assert note.decode().startswith("following lapor.> on LAPOR"), note
        async with relaying.http.post(
            "/api/v1/complaints", json={"text": TEXT, "phone": "0812-3333-4444"}
        ) as response:
            assert response.status == 201
            tracking_id = (await response.json())["tracking_id"]
        line = await asyncio.wait_for(process.stdout.readline(), WITHIN)
    finally:
        if process.returncode is None:
            process.terminate()
        await asyncio.wait_for(process.wait(), WITHIN)
    printed = json.loads(line)
    assert list(printed) == ["subject", "event"]  # the subject first
    assert printed["subject"] == "lapor.ketapang.complaint.received"
    assert printed["event"]["tracking_id"] == tracking_id
    assert printed["event"]["schema_version"] == 1


def test_tail_needs_the_nats_url(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["events", "tail"]) == 2
    assert "set LAPOR_NATS_URL" in capsys.readouterr().err


def test_tail_says_when_nats_cannot_be_reached(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()  # nothing listens there
    clean_env.setenv("LAPOR_NATS_URL", f"nats://operator:rahasia-sekali@127.0.0.1:{port}")
    assert main(["events", "tail"]) == 1
    err = capsys.readouterr().err
    assert f"events from 127.0.0.1:{port}: NoServersError" in err
    assert "rahasia-sekali" not in err  # the password is never printed


def test_tail_says_when_no_stream_takes_the_subject(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], nats_server: NatsServer
) -> None:
    clean_env.setenv("LAPOR_NATS_URL", nats_server.url)
    assert main(["events", "tail", "lapor.>"]) == 1  # no relay has made its streams yet
    assert "no NATS stream takes lapor.>" in capsys.readouterr().err


def test_a_bad_nats_url_is_refused_without_echoing_it() -> None:
    done = subprocess.run(
        [*CLI, "events", "tail"],
        env=clean_environ(LAPOR_NATS_URL="http://operator:rahasia-sekali@nats.local:4222"),
        capture_output=True,
        text=True,
        timeout=WITHIN,
        check=False,
    )
    assert done.returncode == 2
    assert "LAPOR_NATS_URL: must be nats://host:4222" in done.stderr
    assert "rahasia-sekali" not in done.stderr
