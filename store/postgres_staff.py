"""Staff accounts, tokens and failed sign-ins in the PostgreSQL store: the same reads and
writes as the SQLite store's (store/sqlite_staff.py), in PostgreSQL's types."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql

from store.postgres_part import PostgresPart
from store.postgres_writer import Conn
from store.rows import from_row, parse_ts
from store.staff import AccountExists, NoSuchAccount, StaffAccount, StaffSession, StaffStore

_STAFF_COLUMNS = (
    "username", "role", "agency", "name", "jabatan", "nip", "password_hash", "disabled_at",
    "created_at", "updated_at",
)  # fmt: skip
_INSERT_STAFF = sql.SQL("INSERT INTO staff ({}) VALUES ({})").format(
    sql.SQL(", ").join(map(sql.Identifier, _STAFF_COLUMNS)),
    sql.SQL(", ").join(sql.Placeholder() * len(_STAFF_COLUMNS)),
)


class PostgresStaffStore(PostgresPart, StaffStore):
    """Mixed into PostgresStore, which provides the pool and the writer."""

    async def add_staff(self, account: StaffAccount) -> None:
        row = tuple(getattr(account, column) for column in _STAFF_COLUMNS)

        async def add(conn: Conn) -> None:
            try:
                await conn.execute(_INSERT_STAFF, row)
            except psycopg.errors.UniqueViolation:
                raise AccountExists(account.username) from None

        await self._one(add)

    async def get_staff(self, username: str) -> StaffAccount | None:
        row = await self._row("SELECT * FROM staff WHERE username = %s", (username,))
        return from_row(StaffAccount, row) if row else None

    async def list_staff(self) -> list[StaffAccount]:
        # SQLite's order: NULLs first (PostgreSQL puts them last), texts by their bytes
        # whatever the database's collation.
        rows = await self._rows(
            'SELECT * FROM staff ORDER BY role COLLATE "C", agency COLLATE "C" NULLS FIRST, '
            'username COLLATE "C"'
        )
        return [from_row(StaffAccount, r) for r in rows]

    async def disable_staff(self, username: str, now: datetime) -> None:
        async def disable(conn: Conn) -> None:
            await _change_account(
                conn, username, now, sql.SQL("disabled_at = COALESCE(disabled_at, %s)"), (now,)
            )

        await self._one(disable)

    async def set_staff_password(self, username: str, password_hash: str, now: datetime) -> None:
        async def set_password(conn: Conn) -> None:
            await _change_account(
                conn, username, now, sql.SQL("password_hash = %s"), (password_hash,)
            )

        await self._one(set_password)

    async def add_staff_token(
        self, token_hash: str, username: str, now: datetime, expires_at: datetime
    ) -> None:
        async def add(conn: Conn) -> None:
            await conn.execute(
                "INSERT INTO staff_tokens (token_hash, username, kind, created_at, expires_at) "
                "VALUES (%s, %s, 'api', %s, %s)",
                (token_hash, username, now, expires_at),
            )

        await self._one(add)

    async def staff_of_token(self, token_hash: str, now: datetime) -> StaffAccount | None:
        row = await self._row(
            "SELECT s.* FROM staff_tokens t JOIN staff s ON s.username = t.username "
            "WHERE t.token_hash = %s AND t.revoked_at IS NULL "
            "AND t.expires_at > %s AND s.disabled_at IS NULL",
            (token_hash, now),
        )
        return from_row(StaffAccount, row) if row else None

    async def revoke_staff_token(self, token_hash: str, now: datetime) -> bool:
        async def revoke(conn: Conn) -> bool:
            cur = await conn.execute(
                "UPDATE staff_tokens SET revoked_at = %s "
                "WHERE token_hash = %s AND revoked_at IS NULL",
                (now, token_hash),
            )
            return cur.rowcount == 1

        revoked: bool = await self._one(revoke)
        return revoked

    async def add_session(self, session: StaffSession) -> None:
        async def add(conn: Conn) -> None:
            await conn.execute(
                "INSERT INTO sessions (token_hash, username, source, fingerprint, created_at, "
                "expires_at) VALUES (%s, %s, %s, %s, %s, %s)",
                (
                    session.token_hash,
                    session.username,
                    session.source,
                    session.fingerprint,
                    session.created_at,
                    session.expires_at,
                ),
            )

        await self._one(add)

    async def session_of(self, token_hash: str, now: datetime) -> StaffSession | None:
        row = await self._row(
            "SELECT * FROM sessions "
            "WHERE token_hash = %s AND revoked_at IS NULL AND expires_at > %s",
            (token_hash, now),
        )
        return from_row(StaffSession, row) if row else None

    async def end_sessions(self, username: str, source: str, now: datetime) -> int:
        async def end(conn: Conn) -> int:
            return await _end_sessions(conn, username, source, now)

        ended: int = await self._one(end)
        return ended

    async def record_login_failure(self, username: str, address: str | None, now: datetime) -> None:
        async def record(conn: Conn) -> None:
            await conn.execute(
                "INSERT INTO login_failures (username, address, at) VALUES (%s, %s, %s)",
                (username, address, now),
            )

        await self._one(record)

    async def login_failures(
        self, username: str, address: str | None, since: datetime
    ) -> list[datetime]:
        where, params = _address_is(address)
        rows = await self._rows(
            sql.SQL(
                "SELECT at FROM login_failures WHERE username = %s AND {} AND at > %s ORDER BY at"
            ).format(where),
            (username, *params, since),
        )
        return [parse_ts(r["at"]) for r in rows]

    async def address_failures(self, address: str | None, since: datetime) -> list[datetime]:
        where, params = _address_is(address)
        rows = await self._rows(
            sql.SQL("SELECT at FROM login_failures WHERE {} AND at > %s ORDER BY at").format(where),
            (*params, since),
        )
        return [parse_ts(r["at"]) for r in rows]

    async def clear_login_failures(self, username: str, address: str | None) -> None:
        where, params = _address_is(address)

        async def clear(conn: Conn) -> None:
            await conn.execute(
                sql.SQL("DELETE FROM login_failures WHERE username = %s AND {}").format(where),
                (username, *params),
            )

        await self._one(clear)


def _address_is(address: str | None) -> tuple[sql.SQL, tuple[str, ...]]:
    """SQLite's `address IS ?` (NULL equal to NULL), as a condition the address index
    serves: `IS NOT DISTINCT FROM` would be read row by row."""
    if address is None:
        return sql.SQL("address IS NULL"), ()
    return sql.SQL("address = %s"), (address,)


async def _change_account(
    conn: Conn, username: str, now: datetime, assignment: sql.SQL, values: tuple[Any, ...]
) -> None:
    cur = await conn.execute(
        sql.SQL("UPDATE staff SET {}, updated_at = %s WHERE username = %s").format(assignment),
        (*values, now, username),
    )
    if cur.rowcount != 1:
        raise NoSuchAccount(username)
    # Whatever changed (a new password, disabled), every token and session issued before it ends.
    await conn.execute(
        "UPDATE staff_tokens SET revoked_at = %s WHERE username = %s AND revoked_at IS NULL",
        (now, username),
    )
    await _end_sessions(conn, username, "account", now)


async def _end_sessions(conn: Conn, username: str, source: str, now: datetime) -> int:
    cur = await conn.execute(
        "UPDATE sessions SET revoked_at = %s "
        "WHERE source = %s AND username = %s AND revoked_at IS NULL",
        (now, source, username),
    )
    return cur.rowcount
