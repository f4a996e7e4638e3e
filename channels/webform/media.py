"""Evidence uploads: which photo and video formats are taken, judged by their bytes.

The declared Content-Type of an upload is the browser's guess from the file name; the
first bytes say what the file really is.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import filetype

from store.blobs import Uploads

ALLOWED_MEDIA = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/webp",
        "image/heic",
        "image/heif",
        "image/gif",
        "video/mp4",
        "video/quicktime",
        "video/3gpp",
        "video/webm",
    }
)
SNIFF_BYTES = 262


def sniff_media(head: bytes) -> str | None:
    """The media type of a file from its first bytes, if it is an allowed photo or video."""
    kind = filetype.guess(head)
    if kind is None:
        return None
    mime: str = kind.mime
    return mime if mime in ALLOWED_MEDIA else None


Read = Callable[[], Awaitable[bytes]]
"""The next bytes of a stream; b"" at its end."""


class NotMedia(ValueError):
    """The first bytes are not those of an allowed photo or video."""


async def read_head(read: Read) -> bytes:
    """At least the first SNIFF_BYTES (fewer only if the stream ends first)."""
    head = b""
    while len(head) < SNIFF_BYTES and (chunk := await read()):
        head += chunk
    return head


async def keep_media(
    head: bytes, read: Read, uploads: Uploads, max_bytes: int
) -> tuple[str, str, int]:
    """Store a stream whose first bytes are `head` if they show a photo or video:
    (media type, sha256, size). NotMedia, or BlobTooLarge past `max_bytes`; either way
    nothing is kept."""
    media = sniff_media(head)
    if media is None:
        raise NotMedia("not a photo or video")

    async def chunks() -> AsyncIterator[bytes]:
        yield head
        while chunk := await read():
            yield chunk

    sha256, size = await uploads.put(chunks(), max_bytes)
    return media, sha256, size
