"""Staff accounts, tokens and failed sign-ins in the embedded SQLite store (migration 0004)."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

from store.rows import from_row, parse_ts, ts
from store.sqlite_part import SqlitePart
from store.staff import AccountExists, NoSuchAccount, StaffAccount, StaffSession, StaffStore

_STAFF_COLUMNS = (
    "username", "role", "agency", "name", "jabatan", "nip", "password_hash", "disabled_at",
    "created_at", "updated_at",
)  # fmt: skip


class SqliteStaffStore(SqlitePart, StaffStore):
    """Mixed into SqliteStore, which provides the connections and the writer."""

    async def add_staff(self, account: StaffAccount) -> None:
        row = (
            account.username, account.role, account.agency, account.name, account.jabatan,
            account.nip, account.password_hash,
            ts(account.disabled_at) if account.disabled_at else None,
            ts(account.created_at), ts(account.updated_at),
        )  # fmt: skip

        def add(conn: sqlite3.Connection) -> None:
            try:
                conn.execute(
                    f"INSERT INTO staff ({', '.join(_STAFF_COLUMNS)}) "
                    f"VALUES ({', '.join('?' * len(_STAFF_COLUMNS))})",
                    row,
                )
            except sqlite3.IntegrityError:
                raise AccountExists(account.username) from None

        await self._one(add)

    async def get_staff(self, username: str) -> StaffAccount | None:
        row = await self._row("SELECT * FROM staff WHERE username = ?", (username,))
        return from_row(StaffAccount, row) if row else None

    async def list_staff(self) -> list[StaffAccount]:
        rows = await self._rows("SELECT * FROM staff ORDER BY role, agency, username")
        return [from_row(StaffAccount, r) for r in rows]

    async def disable_staff(self, username: str, now: datetime) -> None:
        await self._one(
            lambda conn: _change_account(
                conn, username, now, "disabled_at = COALESCE(disabled_at, ?)", (ts(now),)
            )
        )

    async def set_staff_password(self, username: str, password_hash: str, now: datetime) -> None:
        await self._one(
            lambda conn: _change_account(conn, username, now, "password_hash = ?", (password_hash,))
        )

    async def add_staff_token(
        self, token_hash: str, username: str, now: datetime, expires_at: datetime
    ) -> None:
        await self._one(
            lambda conn: conn.execute(
                "INSERT INTO staff_tokens (token_hash, username, kind, created_at, expires_at) "
                "VALUES (?, ?, 'api', ?, ?)",
                (token_hash, username, ts(now), ts(expires_at)),
            )
        )

    async def staff_of_token(self, token_hash: str, now: datetime) -> StaffAccount | None:
        row = await self._row(
            "SELECT s.* FROM staff_tokens t JOIN staff s ON s.username = t.username "
            "WHERE t.token_hash = ? AND t.revoked_at IS NULL "
            "AND t.expires_at > ? AND s.disabled_at IS NULL",
            (token_hash, ts(now)),
        )
        return from_row(StaffAccount, row) if row else None

    async def revoke_staff_token(self, token_hash: str, now: datetime) -> bool:
        def revoke(conn: sqlite3.Connection) -> bool:
            cur = conn.execute(
                "UPDATE staff_tokens SET revoked_at = ? "
                "WHERE token_hash = ? AND revoked_at IS NULL",
                (ts(now), token_hash),
            )
            return cur.rowcount == 1

        revoked: bool = await self._one(revoke)
        return revoked

    async def add_session(self, session: StaffSession) -> None:
        await self._one(
            lambda conn: conn.execute(
                "INSERT INTO sessions (token_hash, username, source, fingerprint, created_at, "
                "expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    session.token_hash,
                    session.username,
                    session.source,
                    session.fingerprint,
                    ts(session.created_at),
                    ts(session.expires_at),
                ),
            )
        )

    async def session_of(self, token_hash: str, now: datetime) -> StaffSession | None:
        row = await self._row(
            "SELECT * FROM sessions WHERE token_hash = ? AND revoked_at IS NULL AND expires_at > ?",
            (token_hash, ts(now)),
        )
        return from_row(StaffSession, row) if row else None

    async def end_sessions(self, username: str, source: str, now: datetime) -> int:
        def end(conn: sqlite3.Connection) -> int:
            return _end_sessions(conn, username, source, now)

        ended: int = await self._one(end)
        return ended

    async def record_login_failure(self, username: str, address: str | None, now: datetime) -> None:
        await self._one(
            lambda conn: conn.execute(
                "INSERT INTO login_failures (username, address, at) VALUES (?, ?, ?)",
                (username, address, ts(now)),
            )
        )

    async def login_failures(
        self, username: str, address: str | None, since: datetime
    ) -> list[datetime]:
        rows = await self._rows(
            "SELECT at FROM login_failures WHERE username = ? AND address IS ? AND at > ? "
            "ORDER BY at",
            (username, address, ts(since)),
        )
        return [parse_ts(r["at"]) for r in rows]

    async def address_failures(self, address: str | None, since: datetime) -> list[datetime]:
        rows = await self._rows(
            "SELECT at FROM login_failures WHERE address IS ? AND at > ? ORDER BY at",
            (address, ts(since)),
        )
        return [parse_ts(r["at"]) for r in rows]

    async def clear_login_failures(self, username: str, address: str | None) -> None:
        await self._one(
            lambda conn: conn.execute(
                "DELETE FROM login_failures WHERE username = ? AND address IS ?",
                (username, address),
            )
        )


def _change_account(
    conn: sqlite3.Connection, username: str, now: datetime, assignment: str, values: tuple[Any, ...]
) -> None:
    cur = conn.execute(
        f"UPDATE staff SET {assignment}, updated_at = ? WHERE username = ?",
        (*values, ts(now), username),
    )
    if cur.rowcount != 1:
        raise NoSuchAccount(username)
    # Whatever changed (a new password, disabled), every token and session issued before it ends.
    conn.execute(
        "UPDATE staff_tokens SET revoked_at = ? WHERE username = ? AND revoked_at IS NULL",
        (ts(now), username),
    )
    _end_sessions(conn, username, "account", now)


def _end_sessions(conn: sqlite3.Connection, username: str, source: str, now: datetime) -> int:
    cur = conn.execute(
        "UPDATE sessions SET revoked_at = ? "
        "WHERE source = ? AND username = ? AND revoked_at IS NULL",
        (ts(now), source, username),
    )
    return cur.rowcount
