"""The events' settings: off unless a NATS URL is given, and only what NATS can use."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from config.settings import Settings


def test_events_are_off_unless_a_url_is_given(clean_env: pytest.MonkeyPatch) -> None:
    assert Settings().nats_url is None
    clean_env.setenv("LAPOR_NATS_URL", "  ")
    assert Settings().nats_url is None  # set but empty: off, as unset


def test_a_cluster_is_several_urls(clean_env: pytest.MonkeyPatch) -> None:
    urls = "nats://a.local:4222, tls://user:sandi@b.local:4443,wss://c.local"
    clean_env.setenv("LAPOR_NATS_URL", urls)
    settings = Settings()
    assert settings.nats_url is not None and settings.nats_url.get_secret_value() == urls
    assert "sandi" not in repr(settings)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("LAPOR_NATS_URL", "127.0.0.1:4222"),
        ("LAPOR_NATS_URL", "nats://a.local:4222,https://b.local"),
        ("LAPOR_NATS_STREAM", "LAPOR.KETAPANG"),
        ("LAPOR_NATS_STREAM", "LAPOR KETAPANG"),
        ("LAPOR_NATS_RETENTION_DAYS", "-1"),
        ("LAPOR_NATS_DUPLICATE_WINDOW_SECONDS", "0"),
    ],
)
def test_what_nats_cannot_use_is_refused(
    clean_env: pytest.MonkeyPatch, name: str, value: str
) -> None:
    clean_env.setenv(name, value)
    with pytest.raises(ValidationError) as refused:
        Settings()
    [error] = refused.value.errors()
    assert error["loc"] == (name.removeprefix("LAPOR_").lower(),)
