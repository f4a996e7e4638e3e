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
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from config.profile import Profile
from config.settings import Settings, StaffToken
from store.base import Store
from store.staff import StaffAccount, StaffSession
from workflow.roles import AGENCY_ROLES, Actor, Role

MIN_PASSWORD = 10
LOCKOUT_FAILURES = 5
"""Failed sign-ins as one account from one address within the window."""
ADDRESS_FAILURES = 20
"""Failed sign-ins from one address, as anyone, within the window."""
LOCKOUT_WINDOW = timedelta(minutes=15)
ACCOUNT, OPERATOR = "account", "operator"
USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,39}")
OPERATOR_LOGIN = ":token"
"""The name failed token sign-ins are counted under (no account has a colon in it)."""

_HASHER = PasswordHasher()
# Verified against when the username is unknown, so that a wrong name takes as long as a
# wrong password and the answer's timing does not tell which one it was.
_DUMMY_HASH = _HASHER.hash("not-a-password-of-anyone")


class AccountError(ValueError):
    """An account that cannot be made as asked. The message names the problem (the command
    line prints it); `field` is the input it is about (`username`, `agency`, `password`) and
    `problem` a code of what is wrong with it, which the console says in Bahasa Indonesia:
    `username`, `agency_required`, `agency_refused`, `agency_unknown`, `password_short`."""

    def __init__(self, message: str, field: str, problem: str) -> None:
        super().__init__(message)
        self.field = field
        self.problem = problem


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
    username: str


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise AccountError(
            f"a password needs at least {MIN_PASSWORD} characters", "password", "password_short"
        )
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
        if not USERNAME.fullmatch(username):
            raise AccountError(
                "a username is 2-40 lower-case letters, digits, '.', '_' or '-', "
                "beginning with a letter or digit",
                "username",
                "username",
            )
        if role in AGENCY_ROLES and agency is None:
            raise AccountError(f"the role {role.value} needs --agency", "agency", "agency_required")
        if role not in AGENCY_ROLES and agency is not None:
            raise AccountError(
                f"the role {role.value} is not bound to an agency", "agency", "agency_refused"
            )
        if agency is not None and agency not in self._profile.agency_names:
            known = ", ".join(sorted(self._profile.agency_names))
            raise AccountError(
                f"unknown agency {agency!r} (the profile has: {known})", "agency", "agency_unknown"
            )
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
        """A new password; every token and session of the account ends. AccountError for a
        password too short, NoSuchAccount for a username without an account."""
        hashed = await asyncio.to_thread(hash_password, password)
        await self._store.set_staff_password(username, hashed, self._clock())

    async def disable(self, username: str) -> None:
        """The account can no longer sign in, and its tokens and sessions end at once (again
        for one already disabled); NoSuchAccount for a username without an account."""
        await self._store.disable_staff(username, self._clock())

    async def sign_in(self, username: str, password: str, address: str | None) -> StaffAccount:
        """The account, if the password is its own. Throttled per (account, address), so
        that nobody can lock an admin out from elsewhere, and per address, so that one
        address cannot try account after account: LockedOut; BadLogin for a wrong username
        or password alike."""
        now = self._clock()
        await self._throttle(username, address, now)
        account = await self._store.get_staff(username)
        usable = account is not None and account.active
        stored = account.password_hash if account is not None and usable else _DUMMY_HASH
        if not await asyncio.to_thread(_verify, stored, password) or not usable:
            await self._store.record_login_failure(username, address, now)
            raise BadLogin
        assert account is not None
        await self._store.clear_login_failures(username, address)
        return account

    async def operator(self, token: str, address: str | None) -> Actor:
        """The front-desk operator of a LAPOR_DESK_TOKENS token, throttled as a sign-in."""
        now = self._clock()
        await self._throttle(OPERATOR_LOGIN, address, now)
        actor = self.env_actor(token)
        if actor is None or actor.role is not Role.PETUGAS_LOKET:
            await self._store.record_login_failure(OPERATOR_LOGIN, address, now)
            raise BadLogin
        return actor

    async def _throttle(self, username: str, address: str | None, now: datetime) -> None:
        # A failure counts for 15 minutes: a lock-out ends once the oldest failure that
        # makes it is that old.
        since = now - LOCKOUT_WINDOW
        for failures, limit in (
            (await self._store.login_failures(username, address, since), LOCKOUT_FAILURES),
            (await self._store.address_failures(address, since), ADDRESS_FAILURES),
        ):
            if len(failures) >= limit:
                until = failures[-limit] + LOCKOUT_WINDOW
                raise LockedOut(math.ceil((until - now).total_seconds()))

    async def issue_token(self, account: StaffAccount) -> Issued:
        """A bearer token of the API."""
        token, now = secrets.token_urlsafe(32), self._clock()
        expires = now + self._token_ttl
        await self._store.add_staff_token(token_hash(token), account.username, now, expires)
        return Issued(token, expires, account.username)

    async def start_session(self, actor: Actor, operator_token: str | None = None) -> Issued:
        """A session of the staff pages for an account, or for an operator signed in with
        their token (kept as its hash: a rotated token ends the session)."""
        token, now = secrets.token_urlsafe(32), self._clock()
        expires = now + self._token_ttl
        session = StaffSession(
            token_hash=token_hash(token),
            username=actor.username,
            source=ACCOUNT if operator_token is None else OPERATOR,
            fingerprint=token_hash(operator_token) if operator_token is not None else None,
            created_at=now,
            expires_at=expires,
        )
        await self._store.add_session(session)
        return Issued(token, expires, actor.username)

    async def session_actor(self, token: str) -> Actor | None:
        """Who a session belongs to, if it still stands: the account active, or the
        operator's token still the one the session began with."""
        session = await self._store.session_of(token_hash(token), self._clock())
        if session is None:
            return None
        if session.source == OPERATOR:
            return next(
                (
                    actor
                    for env, actor in self._env
                    if actor.username == session.username
                    and hmac.compare_digest(token_hash(env.secret), session.fingerprint or "")
                ),
                None,
            )
        account = await self._store.get_staff(session.username)
        return actor_of(account) if account is not None and account.active else None

    async def end_sessions(self, token: str) -> None:
        """Signing out ends every session of that account (or operator), not only this one."""
        session = await self._store.session_of(token_hash(token), self._clock())
        if session is not None:
            await self._store.end_sessions(session.username, session.source, self._clock())

    async def revoke_token(self, token: str) -> bool:
        return await self._store.revoke_staff_token(token_hash(token), self._clock())

    async def actor(self, token: str) -> Actor | None:
        """Who holds the bearer token: an account, or an operator of the environment."""
        if (env := self.env_actor(token)) is not None:
            return env
        account = await self._store.staff_of_token(token_hash(token), self._clock())
        return actor_of(account) if account is not None else None

    def env_actor(self, token: str) -> Actor | None:
        """The operator of an environment token (compared with every one, in constant time)."""
        found = None
        for env, actor in self._env:
            if hmac.compare_digest(env.secret.encode(), token.encode()):
                found = actor
        return found


def _verify(stored: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False
