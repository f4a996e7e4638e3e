"""Process settings: every `LAPOR_*` name is read, bad values are refused, secrets stay hidden."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from config.settings import Settings, StaffToken
from tests.conftest import BAD_SETTINGS

pytestmark = pytest.mark.usefixtures("clean_env")


def test_defaults_without_environment() -> None:
    settings = Settings()
    assert settings.database_url == "sqlite:///./var/lapor.db"
    assert (settings.host, settings.port, settings.profile) == ("127.0.0.1", 8080, "ketapang")
    assert settings.desk_tokens == [] and settings.admin_tokens == []
    assert settings.secret_key is None
    assert settings.dispatch_enabled is True
    assert settings.log_level == "INFO"


@pytest.mark.parametrize(
    ("variable", "value", "field", "expected"),
    [
        ("LAPOR_DATABASE_URL", "sqlite:////srv/lapor/lapor.db", "database_url",
         "sqlite:////srv/lapor/lapor.db"),
        ("LAPOR_HOST", "0.0.0.0", "host", "0.0.0.0"),
        ("LAPOR_PORT", "9090", "port", 9090),
        ("LAPOR_PROFILE", "soppeng", "profile", "soppeng"),
        ("LAPOR_PROFILE", "/etc/lapor/sambas.toml", "profile", "/etc/lapor/sambas.toml"),
        ("LAPOR_PUBLIC_BASE_URL", "https://lapor.ketapangkab.go.id/", "public_base_url",
         "https://lapor.ketapangkab.go.id"),
        ("LAPOR_UPLOAD_DIR", "/srv/lapor/uploads", "upload_dir", "/srv/lapor/uploads"),
        ("LAPOR_MAX_UPLOAD_BYTES", "1048576", "max_upload_bytes", 1048576),
        ("LAPOR_MAX_UPLOAD_FILES", "0", "max_upload_files", 0),
        ("LAPOR_MAX_JSON_BYTES", "4096", "max_json_bytes", 4096),
        ("LAPOR_DISPATCH_ENABLED", "false", "dispatch_enabled", False),
        ("LAPOR_DISPATCH_ENABLED", "0", "dispatch_enabled", False),
        ("LAPOR_DISPATCH_POLL_SECONDS", "2.5", "dispatch_poll_seconds", 2.5),
        ("LAPOR_WRITE_QUEUE_LIMIT", "10", "write_queue_limit", 10),
        ("LAPOR_LOG_LEVEL", "DEBUG", "log_level", "DEBUG"),
        ("LAPOR_LOG_LEVEL", " warning ", "log_level", "WARNING"),
        ("lapor_port", "9191", "port", 9191),  # names are case-insensitive
    ],
)  # fmt: skip
def test_every_variable_is_read(
    clean_env: pytest.MonkeyPatch, variable: str, value: str, field: str, expected: object
) -> None:
    clean_env.setenv(variable, value)
    assert getattr(Settings(), field) == expected


def test_secret_key_is_read_and_kept_secret(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("LAPOR_SECRET_KEY", "kunci-rahasia-produksi-ketapang")
    settings = Settings()
    assert settings.secret_key is not None
    assert settings.secret_key.get_secret_value() == "kunci-rahasia-produksi-ketapang"
    for shown in (repr(settings), str(settings), repr(settings.secret_key)):
        assert "kunci-rahasia" not in shown


@pytest.mark.parametrize("variable", ["LAPOR_DESK_TOKENS", "LAPOR_ADMIN_TOKENS"])
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ani:rahasia-ani-0001-xx,budi:rahasia-budi-0002-xx",
         [("ani", "rahasia-ani-0001-xx"), ("budi", "rahasia-budi-0002-xx")]),
        (" ani : rahasia-ani-0001-xx , , budi:rahasia-budi-0002-xx, ",
         [("ani", "rahasia-ani-0001-xx"), ("budi", "rahasia-budi-0002-xx")]),
        ("ani:rahasia:dengan:titik-dua-panjang", [("ani:rahasia:dengan", "titik-dua-panjang")]),
        ("", []),
    ],
)  # fmt: skip
def test_token_lists(
    clean_env: pytest.MonkeyPatch, variable: str, raw: str, expected: list[tuple[str, str]]
) -> None:
    clean_env.setenv(variable, raw)
    settings = Settings()
    tokens = settings.desk_tokens if variable == "LAPOR_DESK_TOKENS" else settings.admin_tokens
    assert [(t.staff_id, t.secret) for t in tokens] == expected


@pytest.mark.parametrize(("variable", "role"), [("LAPOR_DESK_TOKENS", "desk"),
                                                ("LAPOR_ADMIN_TOKENS", "admin")])  # fmt: skip
def test_a_bare_token_is_named_by_its_place_never_by_the_secret(
    clean_env: pytest.MonkeyPatch, variable: str, role: str
) -> None:
    """The name is printed on receipts handed to citizens: nothing of it may come from the
    token (an earlier version printed 8 hex digits of its unsalted SHA-256)."""
    clean_env.setenv(variable, "token-tanpa-nama-01,rina:token-bernama-002,token-tanpa-nama-03")
    first = Settings()
    tokens = first.desk_tokens if role == "desk" else first.admin_tokens
    assert [t.staff_id for t in tokens] == [f"{role}-1", "rina", f"{role}-3"]
    assert tokens[0].secret == "token-tanpa-nama-01"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("ani:secret1-abcdefg", "at least 16 characters"),  # 15 characters
        ("ani:rahasia-ani-0001-xx,budi:pendek", "at least 16 characters"),
        ("pendek", "at least 16 characters"),
        ("ani:", "at least 16 characters"),
        (":rahasia-tanpa-nama", "needs a staff name"),
    ],
)
def test_a_bad_token_is_refused_without_showing_it(
    clean_env: pytest.MonkeyPatch, raw: str, reason: str
) -> None:
    clean_env.setenv("LAPOR_DESK_TOKENS", raw)
    with pytest.raises(ValidationError) as caught:
        Settings()
    [error] = caught.value.errors()
    assert error["loc"] == ("desk_tokens",)
    assert reason in error["msg"]
    assert "desk token" in error["msg"]
    shown = str(caught.value) + repr(caught.value)
    for secret in ("secret1", "rahasia", "pendek"):
        assert secret not in shown  # nor the valid tokens next to the bad one


def test_repr_of_settings_and_tokens_never_shows_a_secret(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("LAPOR_DESK_TOKENS", "budi:meja-layanan-rahasia-01,bare-desk-rahasia-02")
    clean_env.setenv("LAPOR_ADMIN_TOKENS", "ani:admin-penghubung-rahasia")
    clean_env.setenv("LAPOR_SECRET_KEY", "kunci-rahasia-produksi")
    settings = Settings()
    tokens = [*settings.desk_tokens, *settings.admin_tokens]
    shown = [repr(settings), str(settings), repr(tokens), str(tokens)]
    shown += [repr(t) for t in tokens] + [str(t) for t in tokens]
    shown.append(repr(settings.model_dump()))
    for text in shown:
        assert "rahasia" not in text, text
    assert "budi" in repr(settings) and "ani" in repr(settings)  # who, yes; their token, no


def test_staff_token_repr() -> None:
    token = StaffToken("ani", "admin-penghubung-01")
    assert repr(token) == str(token) == "StaffToken(staff_id='ani')"


@pytest.mark.parametrize(("variable", "value", "reason"), BAD_SETTINGS)
def test_a_bad_value_is_refused_at_validation(
    clean_env: pytest.MonkeyPatch, variable: str, value: str, reason: str
) -> None:
    clean_env.setenv(variable, value)
    with pytest.raises(ValidationError) as caught:
        Settings()
    [error] = caught.value.errors()
    assert error["loc"] == (variable.removeprefix("LAPOR_").lower(),)
    assert reason in error["msg"]


def test_constructor_arguments_override_the_environment(clean_env: pytest.MonkeyPatch) -> None:
    """The command line's --host/--port/--profile win over LAPOR_*."""
    clean_env.setenv("LAPOR_PORT", "9090")
    clean_env.setenv("LAPOR_PROFILE", "soppeng")
    overrides: dict[str, Any] = {"port": 7070, "profile": "ketapang"}
    settings = Settings(**overrides)
    assert (settings.port, settings.profile) == (7070, "ketapang")


@pytest.mark.parametrize(
    ("upload_bytes", "files", "expected"),
    [(1000, 5, 5000 + 1024 * 1024), (1000, 0, 1000 + 1024 * 1024)],
)
def test_max_request_bytes_covers_every_allowed_file(
    clean_env: pytest.MonkeyPatch, upload_bytes: int, files: int, expected: int
) -> None:
    clean_env.setenv("LAPOR_MAX_UPLOAD_BYTES", str(upload_bytes))
    clean_env.setenv("LAPOR_MAX_UPLOAD_FILES", str(files))
    assert Settings().max_request_bytes == expected


@pytest.mark.parametrize(
    ("given", "missing"),
    [
        ({}, "LAPOR_PUBLIC_BASE_URL and LAPOR_SECRET_KEY"),
        ({"LAPOR_SECRET_KEY": "kunci-rahasia-produksi"}, "LAPOR_PUBLIC_BASE_URL"),
        ({"LAPOR_PUBLIC_BASE_URL": "https://lapor.ketapangkab.go.id"}, "LAPOR_SECRET_KEY"),
    ],
)
def test_production_refuses_to_start_without_its_address_and_key(
    clean_env: pytest.MonkeyPatch, given: dict[str, str], missing: str
) -> None:
    """Without them, links would name whatever host answered and sessions would not
    survive a restart; in production that is refused, not warned about."""
    clean_env.setenv("LAPOR_ENV", "production")
    for name, value in given.items():
        clean_env.setenv(name, value)
    with pytest.raises(ValidationError) as caught:
        Settings()
    [error] = caught.value.errors()
    assert error["loc"] == ("env",) and error["msg"].endswith(f"production needs {missing}")


def test_production_starts_with_both(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("LAPOR_ENV", "production")
    clean_env.setenv("LAPOR_SECRET_KEY", "kunci-rahasia-produksi")
    clean_env.setenv("LAPOR_PUBLIC_BASE_URL", "https://lapor.ketapangkab.go.id/")
    assert Settings().public_base_url == "https://lapor.ketapangkab.go.id"
