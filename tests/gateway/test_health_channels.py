"""`/healthz` shows each channel's trouble under `channels.<name>` and stays 200 for it:
only the store makes it 503."""

from __future__ import annotations

from typing import Any

from tests.conftest import Running, eventually
from tests.fakes.twilio_api import FakeTwilio
from tests.gateway.sms_support import TEXT, tracking_id_in, twilio_sms
from tests.gateway.workflow_support import AGENCY, must, opened, team


async def health(running: Running) -> tuple[int, dict[str, Any]]:
    async with running.http.get("/healthz") as response:
        return response.status, await response.json()


async def test_every_channel_reports_its_state(sms_gateway: Running) -> None:
    status, body = await health(sms_gateway)
    assert status == 200 and body["status"] == "ok"
    sms, desk = body["channels"]["sms"], body["channels"]["desk"]
    assert sms["status"] == "ok" and sms["senders"] == ["twilio"]
    assert sms["webhooks"] == ["kannel", "twilio", "vonage"]
    assert (sms["pending"], sms["failed_24h"], sms["last_error"]) == (0, 0, None)
    assert desk == {"status": "ok", "waiting": 0}


async def test_a_provider_refusing_credentials_shows_but_leaves_the_gateway_up(
    sms_gateway: Running, twilio: FakeTwilio
) -> None:
    t = await team(sms_gateway)
    tracking_id = tracking_id_in((await twilio_sms(sms_gateway, TEXT))[1])
    await opened(sms_gateway)
    twilio.fail_next(401)  # a rotated auth token: Twilio refuses, for good
    await must(sms_gateway, t.penghubung, tracking_id, "verifikasi", agency=AGENCY)

    async def sms_health() -> dict[str, Any]:
        sms: dict[str, Any] = (await health(sms_gateway))[1]["channels"]["sms"]
        return sms

    sms = await eventually(sms_health, lambda h: h["status"] == "degraded")
    assert sms["failed_24h"] == 1 and "401" in str(sms["last_error"])
    status, body = await health(sms_gateway)
    assert status == 200 and body["status"] == "ok" and body["database"]["backend"] == "sqlite"
