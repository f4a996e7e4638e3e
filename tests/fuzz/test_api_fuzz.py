"""Property-based fuzzing of the whole HTTP API from its own OpenAPI document (schemathesis):
whatever a client sends, no 500, no answer outside the documented statuses, media types
and schemas, every 4xx in the documented error body.

`make test` runs a bounded number of examples per operation; `make fuzz` runs many more
(LAPOR_FUZZ_EXAMPLES)."""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks

from config.profile import load_profile
from config.settings import Settings
from gateway.app import create_app
from gateway.openapi import DOCUMENT
from tests.processes import CLI, Launcher, ServerProcess, clean_environ

EXAMPLES = int(os.environ.get("LAPOR_FUZZ_EXAMPLES", "12"))
DESK_TOKEN = "fuzz-desk-token-0001"
ADMIN_TOKEN = "fuzz-admin-token-0001"
PASSWORD = "fuzz-kata-sandi-panjang"
# What every answer is held to. (Not the positive/negative data checks: the documented
# schemas describe shapes, not the profile's codes or the clock, so a well-formed request
# may still be refused, and rightly.)
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A real gateway process with an operator token of each kind and a named account."""
    tmp = tmp_path_factory.mktemp("fuzz")
    launcher = Launcher(tmp)
    environ = {
        "LAPOR_DATABASE_URL": f"sqlite:///{tmp / 'lapor.db'}",
        "LAPOR_DESK_TOKENS": f"loket:{DESK_TOKEN}",
        "LAPOR_ADMIN_TOKENS": f"utama:{ADMIN_TOKEN}",
        "LAPOR_LOG_LEVEL": "WARNING",
    }
    subprocess.run(
        [*CLI, "staff", "add", "ani", "--role", "admin_penghubung"],
        input=PASSWORD + "\n",
        text=True,
        check=True,
        env=clean_environ(**environ),
        cwd=tmp,
    )
    server = launcher.start(**{k: v for k, v in environ.items() if k != "LAPOR_DATABASE_URL"})
    try:
        asyncio.run(server.wait_until_up())
        yield server
    finally:
        launcher.stop_all()


@pytest.fixture(scope="module")
def tracking_id(fuzzed: ServerProcess) -> str:
    """A complaint that exists, for half of the calls that name one: random IDs alone
    would never get past the 404."""
    answer = requests.post(
        f"{fuzzed.base}/api/v1/complaints",
        json={"text": "Jalan rusak di depan pasar sejak minggu lalu.", "phone": "0812 3456 7890"},
        timeout=10,
    )
    answer.raise_for_status()
    found: str = answer.json()["tracking_id"]
    return found


@pytest.fixture(scope="module")
def account_token(fuzzed: ServerProcess) -> str:
    answer = requests.post(
        f"{fuzzed.base}/api/v1/auth/token",
        json={"username": "ani", "password": PASSWORD},
        timeout=10,
    )
    answer.raise_for_status()
    token: str = answer.json()["token"]
    return token


def _document() -> dict[str, Any]:
    """The document exactly as the gateway serves it: built from the application's routes
    (building the application opens nothing)."""
    app = create_app(Settings(_env_file=None), load_profile("ketapang"))
    return app[DOCUMENT]


schema = schemathesis.openapi.from_dict(_document())


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=os.environ.get("LAPOR_FUZZ_EXAMPLES") is None,  # repeatable in `make test`
)
def test_no_request_gets_a_500_or_an_undocumented_answer(
    case: Any, fuzzed: ServerProcess, account_token: str, tracking_id: str
) -> None:
    _CALLS.append(case.path)
    if case.path_parameters and "tracking_id" in case.path_parameters and len(_CALLS) % 2:
        case.path_parameters["tracking_id"] = tracking_id
    signs_out = case.path == "/api/v1/auth/logout"  # it would revoke the shared token
    if case.operation.definition.raw.get("security") and not signs_out and len(_CALLS) % 5:
        # Signed in, most of the time (the rest go as generated: no or a made-up token):
        # the desk's token for the desk, an account elsewhere, so that the workflow's
        # actions are reached and not only refused.
        token = DESK_TOKEN if case.path.startswith("/api/v1/desk/") else account_token
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
    case.call_and_validate(base_url=fuzzed.base, checks=CHECKS)


_CALLS: list[str] = []


def test_the_fuzzed_gateway_is_still_healthy(fuzzed: ServerProcess) -> None:
    """After all of it (run last in this module), the process still answers."""
    assert requests.get(f"{fuzzed.base}/healthz", timeout=10).status_code == 200
    assert Path(fuzzed.db).exists()
