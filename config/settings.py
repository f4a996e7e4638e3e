"""Process settings from the environment (`LAPOR_*`).

Operators and scripts rely on these names; the README lists every one.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, IPvAnyNetwork, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
NATS_SCHEMES = ("nats", "tls", "ws", "wss")


class StaffToken:
    """One staff member's token for one role; the token itself never reaches a log."""

    __slots__ = ("secret", "staff_id")

    def __init__(self, staff_id: str, secret: str) -> None:
        self.staff_id = staff_id
        self.secret = secret

    def __repr__(self) -> str:  # never print the secret
        return f"StaffToken(staff_id={self.staff_id!r})"


MIN_TOKEN_CHARS = 16


def parse_staff_tokens(raw: str, role: str) -> list[StaffToken]:
    """`name:token,name2:token2`; a bare `token` is named by its place in the list
    (`desk-2`): a name printed on a citizen's receipt must not be derived from a secret."""
    tokens: list[StaffToken] = []
    entries = [part.strip() for part in raw.split(",") if part.strip()]
    for number, entry in enumerate(entries, start=1):
        name, sep, secret = (part.strip() for part in entry.rpartition(":"))
        if not sep:
            secret, name = entry, f"{role}-{number}"
        if not name:
            raise ValueError(f"a {role} token needs a staff name before ':' (name:token)")
        if len(secret) < MIN_TOKEN_CHARS:
            raise ValueError(f"a {role} token must be at least {MIN_TOKEN_CHARS} characters")
        tokens.append(StaffToken(name, secret))
    return tokens


class Settings(BaseSettings):
    # hide_input_in_errors: a refused value (a token list, the key) never reaches a traceback.
    model_config = SettingsConfigDict(
        env_prefix="LAPOR_", extra="ignore", hide_input_in_errors=True
    )

    database_url: str = "sqlite:///./var/lapor.db"
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    """Gateway processes on the one port (`serve --workers`); more than one needs
    PostgreSQL."""
    profile: str = "ketapang"
    public_base_url: str = ""
    desk_tokens: Annotated[list[StaffToken], NoDecode] = Field(default_factory=list)
    admin_tokens: Annotated[list[StaffToken], NoDecode] = Field(default_factory=list)
    secret_key: SecretStr | None = None
    env: Literal["development", "production"] = "development"
    """`production` refuses to start without LAPOR_PUBLIC_BASE_URL and LAPOR_SECRET_KEY."""
    trusted_proxies: Annotated[list[IPvAnyNetwork], NoDecode] = Field(default_factory=list)
    """Reverse proxies whose X-Forwarded-For names the client (CIDRs, comma-separated)."""
    upload_dir: str = "./var/uploads"
    max_upload_bytes: int = Field(default=20 * 1024 * 1024, gt=0)
    max_upload_files: int = Field(default=5, ge=0)
    max_json_bytes: int = Field(default=256 * 1024, gt=0)
    uploads_per_hour: int = Field(default=60, ge=0)
    """Photos and videos one address may upload an hour; 0 is no limit."""
    orphan_grace_seconds: float = Field(default=24 * 3600, gt=0)
    """A stored file no complaint references is removed once it is this old."""
    dispatch_enabled: bool = True
    dispatch_poll_seconds: float = Field(default=0.5, gt=0, le=60)
    write_queue_limit: int = Field(default=2000, gt=0)
    duplicate_window_seconds: float = Field(default=600, ge=0, le=7 * 24 * 3600)
    db_busy_timeout_ms: int = Field(default=5000, ge=0, le=60_000)
    log_level: str = "INFO"
    staff_token_hours: float = Field(default=12, gt=0, le=24 * 30)
    sweep_seconds: float = Field(default=60, gt=0, le=3600)
    console_refresh_seconds: float = Field(default=20, ge=1, le=3600)

    # -- SMS 1708 (README "SMS 1708"): a gateway is on when its secret is set ----------
    twilio_auth_token: SecretStr | None = None
    twilio_account_sid: str = ""
    twilio_from: str = ""
    twilio_api_url: str = "https://api.twilio.com"
    vonage_api_key: str = ""
    vonage_api_secret: SecretStr | None = None
    vonage_signature_secret: SecretStr | None = None
    vonage_allow_unsigned: bool = False
    vonage_signature_method: Literal["md5hash", "md5", "sha1", "sha256", "sha512"] = "md5hash"
    vonage_from: str = ""
    vonage_api_url: str = "https://rest.nexmo.com"
    kannel_secret: SecretStr | None = None
    kannel_sendsms_url: str = ""
    kannel_username: str = ""
    kannel_password: SecretStr | None = None
    kannel_from: str = ""
    kannel_smsc: str = ""
    # A URL that may carry the database password, so kept out of repr() and errors.
    gammu_database_url: SecretStr | None = None
    gammu_poll_seconds: float = Field(default=2.0, gt=0, le=300)
    sms_concat_timeout_seconds: float = Field(default=600, gt=0, le=7 * 24 * 3600)
    sms_rate_limit: int = Field(default=10, ge=0)
    sms_rate_window_seconds: float = Field(default=3600, gt=0, le=7 * 24 * 3600)
    sms_send_max_attempts: int = Field(default=8, ge=1, le=100)

    # -- events on NATS JetStream (README "Events on NATS JetStream"): on when the URL is set
    # A URL that may carry a user and password or a token, so kept out of repr() and errors.
    nats_url: SecretStr | None = None
    nats_stream: str = Field(default="LAPOR", pattern=r"^[A-Za-z0-9_-]{1,48}$")
    nats_retention_days: int = Field(default=90, ge=0, le=36500)
    """How long the streams keep an event; 0 keeps it until the stream is deleted."""
    nats_duplicate_window_seconds: float = Field(default=120, ge=1, le=7 * 24 * 3600)

    @field_validator("desk_tokens", "admin_tokens", mode="before")
    @classmethod
    def _split_tokens(cls, value: object, info: object) -> object:
        if isinstance(value, str):
            role = getattr(info, "field_name", "staff").removesuffix("_tokens")
            return parse_staff_tokens(value, role)
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_networks(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        networks = []
        for part in (p.strip() for p in value.split(",") if p.strip()):
            try:
                networks.append(ipaddress.ip_network(part))
            except ValueError:
                raise ValueError(f"{part!r} is not a network (CIDR, e.g. 10.0.0.0/8)") from None
        return networks

    @field_validator("env")
    @classmethod
    def _production_needs(cls, value: str, info: ValidationInfo) -> str:
        # Declared after both, so both are read by now.
        needed = ("public_base_url", "secret_key")
        missing = [f"LAPOR_{name.upper()}" for name in needed if not info.data.get(name)]
        if value == "production" and missing:
            raise ValueError(f"production needs {' and '.join(missing)}")
        return value

    @field_validator("public_base_url", "twilio_api_url", "vonage_api_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("nats_url")
    @classmethod
    def _nats_servers(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None  # set but empty: events off, as unset
        for part in value.get_secret_value().split(","):
            url = urlsplit(part.strip())
            if url.scheme not in NATS_SCHEMES or not url.hostname:
                # Only the scheme is named: the URL may carry a password.
                raise ValueError(
                    "must be nats://host:4222 (or tls://, ws://, wss://), several comma-separated"
                )
        return value

    @field_validator("log_level")
    @classmethod
    def _known_log_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
        return level

    @property
    def max_request_bytes(self) -> int:
        """The whole multipart body: every allowed file plus room for the text fields."""
        return self.max_upload_bytes * max(self.max_upload_files, 1) + 1024 * 1024

    model_config["arbitrary_types_allowed"] = True
