"""Attachment bytes on disk, named by their SHA-256.

Files are written and fsynced before the complaint that refers to them commits, so a
committed record never points at a missing file. A file that no complaint references is
removed: by the request that stored it, when that request is refused (`Uploads`), and by
the sweep after a grace period (a crash between a file and its complaint, a refused
request of another process).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Iterator
from pathlib import Path

Referenced = Callable[[Collection[str]], Awaitable[set[str]]]
"""Which of these blobs a complaint references (the store's `referenced_blobs`)."""


class BlobTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"larger than {limit} bytes")
        self.limit = limit


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._held: Counter[str] = Counter()
        """Blobs a request in this process is still using: never removed meanwhile."""

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    async def put(self, chunks: AsyncIterator[bytes], max_bytes: int) -> tuple[str, int]:
        """Store a stream; returns (sha256, size). Raises BlobTooLarge past `max_bytes`."""
        incoming = self.root / "incoming"
        await asyncio.to_thread(incoming.mkdir, parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        fd, tmp_name = tempfile.mkstemp(dir=incoming)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > max_bytes:
                        raise BlobTooLarge(max_bytes)
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                await asyncio.to_thread(os.fsync, out.fileno())
            sha = digest.hexdigest()
            await asyncio.to_thread(self._move_into_place, tmp, sha)
        finally:
            await asyncio.to_thread(tmp.unlink, missing_ok=True)
        return sha, size

    def _move_into_place(self, tmp: Path, sha256: str) -> None:
        final = self.path_for(sha256)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp.replace(final)

    def hold(self, sha256: str) -> None:
        self._held[sha256] += 1

    def release(self, sha256: str) -> None:
        self._held[sha256] -= 1
        if self._held[sha256] <= 0:
            del self._held[sha256]

    async def remove_unreferenced(self, shas: Collection[str], referenced: Referenced) -> int:
        """Remove those of `shas` that no complaint references and no request holds."""
        loose = [sha for sha in set(shas) if not self._held.get(sha)]
        if not loose:
            return 0
        keep = await referenced(loose)
        gone = [sha for sha in loose if sha not in keep and not self._held.get(sha)]
        for sha in gone:
            await asyncio.to_thread(self.path_for(sha).unlink, missing_ok=True)
        return len(gone)

    async def sweep(self, older_than_s: float, referenced: Referenced, batch: int = 500) -> int:
        """Remove the files older than `older_than_s` that no complaint references, and
        the half-written ones a stopped request left in `incoming/`; returns how many."""
        cutoff = time.time() - older_than_s
        removed = 0
        stale = await asyncio.to_thread(lambda: list(self._stale(cutoff)))
        for start in range(0, len(stale), batch):
            chunk = stale[start : start + batch]
            removed += await self.remove_unreferenced([p.name for p in chunk], referenced)
        incoming = self.root / "incoming"
        for leftover in await asyncio.to_thread(lambda: list(_older(incoming, cutoff))):
            await asyncio.to_thread(leftover.unlink, missing_ok=True)
            removed += 1
        return removed

    def _stale(self, cutoff: float) -> Iterator[Path]:
        if not self.root.is_dir():
            return
        for folder in self.root.iterdir():
            if folder.is_dir() and len(folder.name) == 2:
                yield from _older(folder, cutoff)


def _older(folder: Path, cutoff: float) -> Iterator[Path]:
    if not folder.is_dir():
        return
    for path in folder.iterdir():
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                yield path
        except FileNotFoundError:  # removed meanwhile
            continue


class Uploads:
    """The files one request stores. They are held while it runs; if it is refused,
    `discard` removes those no complaint references, so a refused request leaves nothing
    on disk; `close` lets them go either way."""

    def __init__(self, blobs: BlobStore) -> None:
        self._blobs = blobs
        self._held: list[str] = []

    async def put(self, chunks: AsyncIterator[bytes], max_bytes: int) -> tuple[str, int]:
        sha256, size = await self._blobs.put(chunks, max_bytes)
        self._blobs.hold(sha256)
        self._held.append(sha256)
        return sha256, size

    async def discard(self, referenced: Referenced) -> int:
        shas = list(self._held)
        self.close()
        return await self._blobs.remove_unreferenced(shas, referenced)

    def close(self) -> None:
        for sha256 in self._held:
            self._blobs.release(sha256)
        self._held.clear()
