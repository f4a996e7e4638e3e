"""The streams on a real server: made when missing with the settings' retention and
duplicate window, changed when the settings change, and refused when a stream of that name
belongs to something else."""

from __future__ import annotations

import pytest
from nats.js.client import JetStreamContext

from config.settings import Settings
from events.relay import RelayConfig
from events.streams import StreamMismatch, ensure_stream

DAY = 86400.0


def config(**settings: object) -> RelayConfig:
    return RelayConfig.from_settings(
        Settings(nats_url="nats://127.0.0.1:4222", **settings),  # type: ignore[arg-type]
        "ketapang",
    )


async def test_streams_are_made_and_follow_the_settings(js: JetStreamContext) -> None:
    for spec in config().specs:
        await ensure_stream(js, spec)
    public = (await js.stream_info("LAPOR")).config
    restricted = (await js.stream_info("LAPOR_RESTRICTED")).config
    assert public.subjects == ["lapor.ketapang.>"]
    assert restricted.subjects == ["lapor_restricted.ketapang.>"]
    assert public.max_age == restricted.max_age == 90 * DAY  # the defaults
    assert public.duplicate_window == 120

    changed = config(nats_retention_days=7, nats_duplicate_window_seconds=600)
    for spec in changed.specs:
        await ensure_stream(js, spec)
    public = (await js.stream_info("LAPOR")).config
    assert (public.max_age, public.duplicate_window) == (7 * DAY, 600)

    forever = config(nats_retention_days=0)
    await ensure_stream(js, forever.specs[0])
    assert (await js.stream_info("LAPOR")).config.max_age == 0


def test_the_duplicate_window_is_never_longer_than_events_are_kept() -> None:
    assert (
        config(nats_retention_days=1, nats_duplicate_window_seconds=7 * DAY).duplicate_window == DAY
    )
    assert config(nats_retention_days=0, nats_duplicate_window_seconds=600).duplicate_window == 600


async def test_a_stream_of_that_name_taking_other_subjects_is_refused(
    js: JetStreamContext,
) -> None:
    await js.add_stream(name="LAPOR", subjects=["lapor.soppeng.>"])
    with pytest.raises(StreamMismatch, match="LAPOR_NATS_STREAM"):
        await ensure_stream(js, config().specs[0])
    own = config(nats_stream="LAPOR_KETAPANG")
    for spec in own.specs:  # a stream of its own, beside the other regency's
        await ensure_stream(js, spec)
    assert (await js.stream_info("LAPOR_KETAPANG_RESTRICTED")).config.subjects == [
        "lapor_restricted.ketapang.>"
    ]
