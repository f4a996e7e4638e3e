"""Staff accounts: passwords (argon2), sign-in with a lock-out, bearer tokens and sessions,
and who is behind a request.

Accounts live in the store; a token or session is random, kept there only as its SHA-256,
expires, and ends at once when its account is disabled or its password changes. The
environment's `LAPOR_DESK_TOKENS` and `LAPOR_ADMIN_TOKENS` still work, as a front-desk
officer and as a read-only Admin Utama; neither may take a workflow action.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from config.profile import Profile
from config.settings import Settings, StaffToken
from store.base import Store
from store.staff import StaffAccount
from workflow.roles import AGENCY_ROLES, Actor, Role

MIN_PASSWORD = 10
LOCKOUT_FAILURES = 5
LOCKOUT_WINDOW = timedelta(minutes=15)
API, SESSION = "api", "session"

_HASHER = PasswordHasher()
# Verified against when the username is unknown, so that a wrong name takes as long as a
# wrong password and the answer's timing does not tell which one it was.
_DUMMY_HASH = _HASHER.hash("not-a-password-of-anyone")


class AccountError(ValueError):
    """An account that cannot be made as asked; the message names the problem."""


class LockedOut(Exception):
    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(f"too many failed sign-ins; retry after {retry_after} s")


class BadLogin(Exception):
    """A wrong username or password: the same answer either way."""


@dataclass(frozen=True)
class Issued:
    token: str
    expires_at: datetime
    account: StaffAccount


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"a password needs at least {MIN_PASSWORD} characters")
    return _HASHER.hash(password)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def actor_of(account: StaffAccount) -> Actor:
    role = Role(account.role)
    return Actor(
        username=account.username,
        role=role,
        agency=account.agency,
        name=account.name,
        jabatan=account.jabatan,
        nip=account.nip,
        may_manage=role is Role.ADMIN_INSTANSI,
    )


class Accounts:
    def __init__(
        self, store: Store, settings: Settings, profile: Profile, clock: Callable[[], datetime]
    ) -> None:
        self._store = store
        self._clock = clock
        self._profile = profile
        self._token_ttl = timedelta(hours=settings.staff_token_hours)
        self._env: list[tuple[StaffToken, Actor]] = [
            (t, Actor(username=t.staff_id, role=Role.PETUGAS_LOKET, may_act=False))
            for t in settings.desk_tokens
        ] + [
            (t, Actor(username=t.staff_id, role=Role.ADMIN_INSTANSI, may_act=False))
            for t in settings.admin_tokens
        ]

    async def add(
        self,
        username: str,
        password: str,
        role: Role,
        *,
        agency: str | None = None,
        name: str | None = None,
        jabatan: str | None = None,
        nip: str | None = None,
    ) -> StaffAccount:
        """A new account; AccountError names what is wrong, AccountExists a taken name."""
        if role in AGENCY_ROLES and agency is None:
            raise AccountError(f"the role {role.value} needs --agency")
        if role not in AGENCY_ROLES and agency is not None:
            raise AccountError(f"the role {role.value} is not bound to an agency")
        if agency is not None and agency not in self._profile.agency_names:
            known = ", ".join(sorted(self._profile.agency_names))
            raise AccountError(f"unknown agency {agency!r} (the profile has: {known})")
        now = self._clock()
        account = StaffAccount(
            username=username,
            role=role.value,
            agency=agency,
            name=name,
            jabatan=jabatan,
            nip=nip,
            password_hash=await asyncio.to_thread(hash_password, password),
            created_at=now,
            updated_at=now,
        )
        await self._store.add_staff(account)
        return account

    async def set_password(self, username: str, password: str) -> None:
        hashed = await asyncio.to_thread(hash_password, password)
        await self._store.set_staff_password(username, hashed, self._clock())

    async def sign_in(self, username: str, password: str, address: str | None, kind: str) -> Issued:
        """A new token (API) or session for the account; LockedOut after five failures
        within 15 minutes, BadLogin for a wrong username or password."""
        now = self._clock()
        # A failure counts for 15 minutes: the lock-out ends once the fifth-newest of
        # them is that old.
        failures = await self._store.login_failures(username, now - LOCKOUT_WINDOW)
        if len(failures) >= LOCKOUT_FAILURES:
            until = failures[-LOCKOUT_FAILURES] + LOCKOUT_WINDOW
            raise LockedOut(math.ceil((until - now).total_seconds()))
        account = await self._store.get_staff(username)
        usable = account is not None and account.active
        stored = account.password_hash if account is not None and usable else _DUMMY_HASH
        if not await asyncio.to_thread(_verify, stored, password) or not usable:
            await self._store.record_login_failure(username, address, now)
            raise BadLogin
        assert account is not None
        await self._store.clear_login_failures(username)
        return await self.issue(account, kind)

    async def issue(self, account: StaffAccount, kind: str) -> Issued:
        token = secrets.token_urlsafe(32)
        now = self._clock()
        expires = now + self._token_ttl
        await self._store.add_staff_token(token_hash(token), account.username, kind, now, expires)
        return Issued(token, expires, account)

    async def sign_out(self, token: str) -> bool:
        return await self._store.revoke_staff_token(token_hash(token), self._clock())

    async def actor(self, token: str, kind: str = API) -> Actor | None:
        """Who holds the token: an account's token or session, or an environment token."""
        if kind == API and (env := self.env_actor(token)) is not None:
            return env
        account = await self._store.staff_of_token(token_hash(token), kind, self._clock())
        return actor_of(account) if account is not None else None

    def env_actor(self, token: str) -> Actor | None:
        """The environment token's officer (for the desk's sign-in with a token)."""
        found = None
        for env, actor in self._env:
            if hmac.compare_digest(env.secret.encode(), token.encode()):
                found = actor
        return found

    def env_still_has(self, actor: Actor) -> bool:
        """Whether an environment officer's token is still configured."""
        return any(a == actor for _, a in self._env)


def _verify(stored: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False
