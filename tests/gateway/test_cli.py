"""`lapor-gateway`: the command line in-process, the console script, and the real server process.

The server tests start `lapor-gateway serve` as a child process (tests/processes.py) on a free
port over a SQLite file in tmp_path, talk to it over HTTP, and stop it with real signals.
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import socket
import sqlite3
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pytest
from aiohttp import ClientSession, CookieJar

from config.profile import PROFILES_DIR, load_profile, shipped_profiles
from gateway.cli import main
from tests.conftest import BAD_SETTINGS, eventually, free_port
from tests.processes import (
    CLI,
    START_WITHIN,
    STOP_WITHIN,
    Launcher,
    ServerProcess,
    clean_environ,
)
from tests.profiles import BROKEN_PROFILES, BrokenProfile, broken_profile_id

RUN_TIMEOUT = 30.0  # a CLI call that should exit at once; past this the test fails, not hangs

COMPLAINT = {
    "text": "Lampu jalan di Jl. Merdeka mati sejak seminggu, malam hari sangat gelap dan rawan.",
    "name": "Siti Aminah",
    "phone": "0812-3456-7890",
    "category": "jalan_jembatan",
    "location": "Jl. Merdeka, Kecamatan Delta Pawan",
}


# --- helpers ------------------------------------------------------------------------------


def run_cli(args: list[str], cwd: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args],
        cwd=cwd,
        env=clean_environ(**settings),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )


def assert_names_the_problem(stderr: str, path: Path, field_name: str, reason: str) -> None:
    assert str(path) in stderr, stderr
    assert f"{field_name}: " in stderr, stderr
    assert reason in stderr, stderr
    assert "Traceback" not in stderr, stderr


# A `serve` that wrongly got past the profile would block the test run; this store URL makes
# it fail at once instead (and the assertions below then fail on the missing profile error).
TRIPWIRE_DB = "postgresql://tripwire/never-used"


# --- the command line in-process ------------------------------------------------------------


@pytest.mark.parametrize("name", ["ketapang", "soppeng"])
def test_check_profile_of_a_shipped_profile(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    profile = load_profile(name)
    assert main(["check-profile", name]) == 0
    out = capsys.readouterr().out
    assert out.strip() == (
        f"{name}: ok ({len(profile.agencies)} agencies, {len(profile.categories)} categories)"
    )


def test_check_profile_of_an_own_file(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    own = tmp_path / "kabupaten-contoh.toml"
    own.write_text((PROFILES_DIR / "soppeng.toml").read_text())
    assert main(["check-profile", str(own)]) == 0
    assert capsys.readouterr().out.startswith("soppeng: ok")


@pytest.mark.parametrize("argv", [["check-profile"], ["serve", "--profile"]])
def test_a_profile_whose_sms_acknowledgement_takes_three_sms_is_refused(
    clean_env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    argv: list[str],
) -> None:
    wordy = "Terima kasih, laporan Anda sangat berarti bagi pembangunan daerah kita. " * 5
    own = tmp_path / "kabupaten-panjang.toml"
    own.write_text(
        (PROFILES_DIR / "soppeng.toml").read_text() + f'"sms.ack" = "{wordy}{{tracking_id}}"\n'
    )
    clean_env.setenv("LAPOR_DATABASE_URL", TRIPWIRE_DB)
    assert main([*argv, str(own)]) == 2
    err = capsys.readouterr().err
    assert "messages.sms.ack takes 3 SMS segments" in err


@pytest.mark.parametrize("how", ["check-profile", "serve --profile", "LAPOR_PROFILE"])
@pytest.mark.parametrize("broken", BROKEN_PROFILES, ids=broken_profile_id)
def test_a_broken_profile_is_refused_naming_file_field_and_reason(
    clean_env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    how: str,
    broken: BrokenProfile,
) -> None:
    path = broken.write(tmp_path / "kabupaten-rusak.toml")
    clean_env.setenv("LAPOR_DATABASE_URL", TRIPWIRE_DB)
    argv = {
        "check-profile": ["check-profile", str(path)],
        "serve --profile": ["serve", "--profile", str(path)],
        "LAPOR_PROFILE": ["serve"],
    }[how]
    if how == "LAPOR_PROFILE":
        clean_env.setenv("LAPOR_PROFILE", str(path))
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert_names_the_problem(captured.err, path, broken.field, broken.reason)
    assert "ok" not in captured.out and "LAPOR! gateway" not in captured.out


@pytest.mark.parametrize("argv", [["check-profile", "sambas"], ["serve", "--profile", "sambas"]])
def test_an_unknown_shipped_name_lists_the_shipped_ones(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    clean_env.setenv("LAPOR_DATABASE_URL", TRIPWIRE_DB)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "sambas" in err
    assert f"no such profile (shipped: {', '.join(shipped_profiles())})" in err
    assert {"ketapang", "soppeng"} <= set(shipped_profiles())


@pytest.mark.parametrize(("variable", "value", "message"), BAD_SETTINGS)
@pytest.mark.parametrize("command", ["serve", "check-profile"])
def test_a_bad_setting_exits_2_naming_the_variable(
    clean_env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: str,
    variable: str,
    value: str,
    message: str,
) -> None:
    clean_env.setenv(variable, value)
    clean_env.setenv("LAPOR_DATABASE_URL", TRIPWIRE_DB)
    argv = ["serve"] if command == "serve" else ["check-profile", "ketapang"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "invalid settings" in err
    assert f"{variable}: {message}" in err
    assert "pendek" not in err  # a refused token is not echoed


def test_command_line_options_override_the_environment(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    clean_env.setenv("LAPOR_PROFILE", "sambas")  # would fail; the argument wins
    assert main(["check-profile", "soppeng"]) == 0
    assert capsys.readouterr().out.startswith("soppeng: ok")


# --- the console script as a process -------------------------------------------------------


@pytest.mark.parametrize("name", ["ketapang", "soppeng"])
def test_console_script_check_profile(tmp_path: Path, name: str) -> None:
    result = run_cli(["check-profile", name], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{name}: ok (")


@pytest.mark.parametrize("how", ["serve --profile", "LAPOR_PROFILE"])
def test_console_script_refuses_to_serve_a_broken_profile(tmp_path: Path, how: str) -> None:
    broken = BROKEN_PROFILES[0]
    path = broken.write(tmp_path / "kabupaten-rusak.toml")
    port = str(free_port())
    if how == "LAPOR_PROFILE":
        result = run_cli(["serve"], tmp_path, LAPOR_PROFILE=str(path), LAPOR_PORT=port)
    else:
        result = run_cli(["serve", "--profile", str(path)], tmp_path, LAPOR_PORT=port)
    assert result.returncode == 2
    assert_names_the_problem(result.stderr, path, broken.field, broken.reason)
    assert "LAPOR! gateway" not in result.stdout  # never started
    assert not (tmp_path / "var").exists()  # nor opened a store


@pytest.mark.parametrize(
    ("settings", "code", "message"),
    [
        ({"LAPOR_PORT": "abc"}, 2, "LAPOR_PORT: Input should be a valid integer"),
        ({"LAPOR_LOG_LEVEL": "garbage"}, 2, "LAPOR_LOG_LEVEL: must be one of"),
        (
            {"LAPOR_DATABASE_URL": "mysql://lapor:rahasia@db.example/lapor"},
            2,
            "LAPOR_DATABASE_URL: unsupported database 'mysql' (use sqlite:///path or "
            "postgresql://user:password@host:5432/dbname)",
        ),
        (
            # Nothing listens on port 1: the store cannot open, and says so.
            {"LAPOR_DATABASE_URL": "postgresql://lapor:rahasia@127.0.0.1:1/lapor"},
            1,
            "lapor-gateway: cannot open postgresql://lapor:***@127.0.0.1:1/lapor:",
        ),
        (
            {"LAPOR_WORKERS": "2"},
            2,
            "lapor-gateway: --workers 2 needs a store shared by processes: set "
            "LAPOR_DATABASE_URL to postgresql://…",
        ),
    ],
    ids=["port", "log-level", "database-url", "postgresql-unreachable", "workers-on-sqlite"],
)
def test_console_script_refuses_bad_settings_without_a_traceback(
    tmp_path: Path, settings: dict[str, str], code: int, message: str
) -> None:
    result = run_cli(["serve"], tmp_path, **settings)
    assert result.returncode == code
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert "rahasia" not in result.stderr  # nor the database password
    assert "LAPOR! gateway" not in result.stdout


def test_console_script_reports_a_taken_port(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli(
            ["serve"],
            tmp_path,
            LAPOR_PORT=str(port),
            LAPOR_DATABASE_URL=f"sqlite:///{tmp_path / 'lapor.db'}",
            LAPOR_SECRET_KEY="kunci-uji-coba-cli",
        )
    assert result.returncode == 1
    assert "lapor-gateway: cannot start:" in result.stderr
    assert "address already in use" in result.stderr
    assert "Traceback" not in result.stderr
    assert "LAPOR! gateway" not in result.stdout  # the banner only once it listens


def test_console_script_reports_a_store_it_cannot_open(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}"  # a directory, not a database file
    result = run_cli(["serve"], tmp_path, LAPOR_PORT=str(free_port()), LAPOR_DATABASE_URL=url)
    assert result.returncode == 1
    assert f"lapor-gateway: cannot open {url}: unable to open database file" in result.stderr
    assert "LAPOR! gateway" not in result.stdout


# --- the real server process -------------------------------------------------------------------


def tracking_ids_in(db: Path) -> list[str]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT tracking_id FROM complaints ORDER BY received_at").fetchall()
    return [str(row[0]) for row in rows]


async def file_complaint(http: ClientSession, server: ServerProcess) -> str:
    async with http.post(f"{server.base}/api/v1/complaints", json=COMPLAINT) as response:
        body = await response.json()
        assert response.status == 201, body
    tracking_id: str = body["tracking_id"]
    return tracking_id


def assert_clean_exit(server: ServerProcess, code: int) -> None:
    _, err = server.output()
    assert code == 0, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err


async def test_serve_answers_the_form_and_files_a_durable_complaint(launcher: Launcher) -> None:
    server = launcher.start()
    await server.wait_until_up()
    out, _ = server.output()
    assert f"LAPOR! gateway (Kabupaten Ketapang) on {server.base}" in out
    async with ClientSession() as http:
        async with http.get(f"{server.base}/lapor") as response:
            html = await response.text()
            assert response.status == 200
        assert 'name="csrf_token"' in html
        assert "secara jelas, lengkap dan kronologis" in html
        tracking_id = await file_complaint(http, server)
    assert tracking_ids_in(server.db) == [tracking_id]
    server.process.send_signal(signal.SIGTERM)
    assert_clean_exit(server, await server.wait_exit())


async def test_debug_logs_carry_no_citizen_words_numbers_or_secrets(launcher: Launcher) -> None:
    secret = "rahasia-kannel-uji"
    server = launcher.start(LAPOR_LOG_LEVEL="DEBUG", LAPOR_KANNEL_SECRET=secret)
    await server.wait_until_up()
    words = "Lampu jalan di Gang Mawar mati sejak Senin malam"
    query = urlencode({"secret": secret, "from": "081298765432", "text": words, "id": "k-1"})
    async with ClientSession() as http:
        async with http.get(f"{server.base}/webhooks/sms/kannel?{query}") as response:
            assert response.status == 200, await response.text()
        await file_complaint(http, server)
    server.process.send_signal(signal.SIGTERM)
    assert_clean_exit(server, await server.wait_exit())
    out, err = server.output()
    assert f"SMS kannel       {server.base}/webhooks/sms/kannel" in out  # where to point Kannel
    assert " DEBUG " in err  # debug logging was on
    for private in ("81298765432", "Gang Mawar", secret, "1234567890", "Siti Aminah", "Merdeka"):
        assert str(private) not in err, private


@dataclass
class SlowPost:
    """A complaint POST whose body the test sends in two pieces."""

    path: str
    content_type: str
    body: bytes

    @staticmethod
    def tracking_id(status: int, text: str) -> str:
        match = re.search(r'"tracking_id":"([A-Z0-9]+)"|id="tracking-id">([A-Z0-9]+)<', text)
        assert status == 201 and match, (status, text)
        return match.group(1) or match.group(2)


async def web_form_post(http: ClientSession, server: ServerProcess) -> SlowPost:
    """The citizen's form, multipart as a browser sends it, with the page's CSRF token."""
    async with http.get(f"{server.base}/lapor") as response:
        match = re.search(r'name="csrf_token" value="([^"]+)"', await response.text())
    assert match
    boundary = "batas-formulir-lapor"
    fields = {"csrf_token": match.group(1), **COMPLAINT}
    body = (
        "".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
            for name, value in fields.items()
        )
        + f"--{boundary}--\r\n"
    )
    return SlowPost("/lapor", f"multipart/form-data; boundary={boundary}", body.encode())


async def app_api_post(http: ClientSession, server: ServerProcess) -> SlowPost:
    return SlowPost("/api/v1/complaints", "application/json", json.dumps(COMPLAINT).encode())


@pytest.mark.parametrize(
    "make_post",
    [pytest.param(web_form_post, id="web-form"), pytest.param(app_api_post, id="app-api")],
)
async def test_sigterm_lets_a_request_in_flight_finish(
    launcher: Launcher,
    make_post: Callable[[ClientSession, ServerProcess], Awaitable[SlowPost]],
) -> None:
    server = launcher.start()
    await server.wait_until_up()
    server_has_it = asyncio.Event()
    release = asyncio.Event()

    async def refuses_new_connections() -> bool:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", server.port)
        except ConnectionRefusedError:
            return True
        writer.close()
        await writer.wait_closed()
        return False

    async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as http:
        post = await make_post(http, server)
        middle = post.body.index(b"Lampu jalan") + 20  # in the middle of the complaint text

        async def slow_body() -> AsyncIterator[bytes]:
            # With `Expect: 100-continue` the client sends none of the body until the server's
            # handler has the request: reaching this line means the request is in flight there.
            server_has_it.set()
            yield post.body[:middle]
            await release.wait()
            yield post.body[middle:]

        async def send() -> tuple[int, str]:
            async with http.post(
                f"{server.base}{post.path}",
                data=slow_body(),
                headers={"Content-Type": post.content_type},
                expect100=True,
            ) as response:
                return response.status, await response.text()

        in_flight = asyncio.create_task(send())
        try:
            await asyncio.wait_for(server_has_it.wait(), START_WITHIN)
            server.process.send_signal(signal.SIGTERM)
            # The server is shutting down (no longer listening) while our request waits.
            await eventually(refuses_new_connections, bool, STOP_WITHIN)
            assert server.process.poll() is None  # still finishing our request
            release.set()
            status, text = await asyncio.wait_for(in_flight, STOP_WITHIN)
        finally:
            release.set()
            if not in_flight.done():
                in_flight.cancel()
    tracking_id = SlowPost.tracking_id(status, text)
    assert tracking_ids_in(server.db) == [tracking_id]
    assert_clean_exit(server, await server.wait_exit())


async def test_sigint_stops_cleanly_and_a_restart_finds_the_complaint(
    launcher: Launcher,
) -> None:
    first = launcher.start()
    await first.wait_until_up()
    async with ClientSession() as http:
        tracking_id = await file_complaint(http, first)
    first.process.send_signal(signal.SIGINT)
    assert_clean_exit(first, await first.wait_exit())

    second = launcher.restart(first)
    await second.wait_until_up()
    async with (
        ClientSession() as http,
        http.get(
            f"{second.base}/status/{tracking_id}", headers={"Accept": "application/json"}
        ) as response,
    ):
        status = await response.json()
        assert response.status == 200, status
    assert status["tracking_id"] == tracking_id
    assert status["location"] == COMPLAINT["location"]
    assert tracking_ids_in(second.db) == [tracking_id]  # one complaint, not re-filed
    second.process.send_signal(signal.SIGTERM)
    assert_clean_exit(second, await second.wait_exit())
