"""What every part of the SQLite store (the complaints' core, the SMS channel's tables,
staff, the workflow's) is given by `SqliteStore`: its reader, its writer, and the writes
that may fail one by one."""

from __future__ import annotations

import abc
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

from store.sqlite_writer import GroupCommitWriter, run_each

Job = Callable[[sqlite3.Connection], Any]


class SqlitePart(abc.ABC):
    @abc.abstractmethod
    async def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]: ...

    @abc.abstractmethod
    async def _row(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None: ...

    @property
    @abc.abstractmethod
    def _write(self) -> GroupCommitWriter: ...

    async def _one(self, job: Job) -> Any:
        """One write of its own (in a savepoint, batched with others like it); its
        exception, if it raises one, is raised to this caller alone."""
        return await self._write.submit(run_each, job)
