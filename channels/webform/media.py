"""Evidence uploads: which photo and video formats are taken, judged by their bytes.

The declared Content-Type of an upload is the browser's guess from the file name; the
first bytes say what the file really is.
"""

from __future__ import annotations

import filetype

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
