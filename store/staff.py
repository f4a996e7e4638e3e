"""Staff accounts, their tokens and sessions, and failed sign-ins.

Passwords arrive here already hashed (argon2, gateway/accounts.py) and tokens as SHA-256
hashes: the store never holds a secret in clear.
"""

from __future__ import annotations

import abc
from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict


class StaffAccount(BaseModel):
    model_config = ConfigDict(frozen=True)

    username: str
    role: str
    agency: str | None = None
    name: str | None = None
    jabatan: str | None = None
    nip: str | None = None
    password_hash: str
    disabled_at: AwareDatetime | None = None
    created_at: AwareDatetime
    updated_at: AwareDatetime

    @property
    def active(self) -> bool:
        return self.disabled_at is None


class StaffSession(BaseModel):
    """A signed-in browser of the desk or the console, kept as its token's SHA-256."""

    model_config = ConfigDict(frozen=True)

    token_hash: str
    username: str
    source: str
    """`account`, or `operator` (a token of LAPOR_DESK_TOKENS)."""
    fingerprint: str | None = None
    """For an operator: the SHA-256 of the token it began with."""
    created_at: AwareDatetime
    expires_at: AwareDatetime


class AccountExists(Exception):
    """`staff add` of a username that is taken."""


class NoSuchAccount(Exception):
    """A username that has no account."""


class StaffStore(abc.ABC):
    @abc.abstractmethod
    async def add_staff(self, account: StaffAccount) -> None:
        """Raises AccountExists if the username is taken."""

    @abc.abstractmethod
    async def get_staff(self, username: str) -> StaffAccount | None: ...

    @abc.abstractmethod
    async def list_staff(self) -> list[StaffAccount]: ...

    @abc.abstractmethod
    async def disable_staff(self, username: str, now: datetime) -> None:
        """Disable the account and end its tokens and sessions at once; NoSuchAccount."""

    @abc.abstractmethod
    async def set_staff_password(self, username: str, password_hash: str, now: datetime) -> None:
        """A new password ends every token and session of the account; NoSuchAccount."""

    @abc.abstractmethod
    async def add_staff_token(
        self, token_hash: str, username: str, now: datetime, expires_at: datetime
    ) -> None:
        """An API token of the account."""

    @abc.abstractmethod
    async def staff_of_token(self, token_hash: str, now: datetime) -> StaffAccount | None:
        """The active account holding this unexpired, unrevoked API token."""

    @abc.abstractmethod
    async def revoke_staff_token(self, token_hash: str, now: datetime) -> bool: ...

    @abc.abstractmethod
    async def add_session(self, session: StaffSession) -> None: ...

    @abc.abstractmethod
    async def session_of(self, token_hash: str, now: datetime) -> StaffSession | None:
        """The unexpired, unrevoked session of this token."""

    @abc.abstractmethod
    async def end_sessions(self, username: str, source: str, now: datetime) -> int:
        """End every session of the account (or operator); returns how many."""

    @abc.abstractmethod
    async def record_login_failure(
        self, username: str, address: str | None, now: datetime
    ) -> None: ...

    @abc.abstractmethod
    async def login_failures(
        self, username: str, address: str | None, since: datetime
    ) -> list[datetime]:
        """When sign-ins as `username` from `address` failed after `since`, oldest first."""

    @abc.abstractmethod
    async def address_failures(self, address: str | None, since: datetime) -> list[datetime]:
        """When sign-ins from `address`, as anyone, failed after `since`, oldest first."""

    @abc.abstractmethod
    async def clear_login_failures(self, username: str, address: str | None) -> None: ...
