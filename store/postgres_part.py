"""What every part of the PostgreSQL store (the complaints' core, the SMS channel's tables,
staff, the workflow's, the event relay's) is given by `PostgresStore`: reads on the pool,
the group-commit writer, the writes that may fail one by one, and the wake-ups that reach
every process of the installation."""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from typing import Any

from psycopg import sql
from psycopg.abc import QueryNoTemplate as Query
from psycopg.rows import DictRow

from store.postgres_writer import Conn, PgGroupCommitWriter, PgJob, run_each

Params = Sequence[Any] | Mapping[str, Any]

OUTBOX_LOCK = 0x4C41504F52_02
"""The advisory lock ('LAPOR', 2) every transaction takes before it adds outbox events, held
to its commit: the outbox's sequence is then also the order in which its events commit,
so the event relay, reading on from the last sequence it published, never passes over an
event whose transaction commits after a later one's."""

WAKEUPS = ("events", "outbound", "notices")
"""What a transaction may wake other processes for (`PostgresPart._notify`): new outbox
events (the dispatcher, the event relay), SMS to send (the sender), messages to citizens
(the notifier)."""


class PostgresPart(abc.ABC):
    @abc.abstractmethod
    async def _rows(self, query: Query, params: Params = ()) -> list[DictRow]:
        """All rows of a read, each a dict by column name."""

    @abc.abstractmethod
    async def _row(self, query: Query, params: Params = ()) -> DictRow | None: ...

    @property
    @abc.abstractmethod
    def _write(self) -> PgGroupCommitWriter: ...

    async def _one(self, job: PgJob) -> Any:
        """One write of its own (in a savepoint, batched with others like it); its
        exception, if it raises one, is raised to this caller alone."""
        return await self._write.submit(run_each, job)

    async def _notify(self, conn: Conn, wakeup: str) -> None:
        """Wake whoever waits for `wakeup` (one of WAKEUPS), in every process, once the
        open transaction commits (PostgreSQL delivers a NOTIFY at commit, and folds
        repeats within one transaction into one)."""
        if wakeup not in WAKEUPS:
            raise ValueError(f"unknown wake-up {wakeup!r}")
        await conn.execute(sql.SQL("NOTIFY {}").format(sql.Identifier(f"lapor_{wakeup}")))

    async def _lock_outbox(self, conn: Conn) -> None:
        """Take OUTBOX_LOCK for the open transaction; call it before adding outbox events."""
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (OUTBOX_LOCK,))
