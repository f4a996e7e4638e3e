"""Reading an HTML form from a hostile client: bounded fields, streamed and sniffed files."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from aiohttp import BodyPartReader, web

from channels.http import read_body
from channels.webform.form import MAX_FIELD_BYTES
from channels.webform.media import SNIFF_BYTES, sniff_media
from normalizer.models import Attachment
from store.blobs import BlobStore, BlobTooLarge

CHUNK = 64 * 1024


class FormRejected(Exception):
    """The form cannot be taken; `status` is the HTTP answer and `key` the catalogue text."""

    def __init__(self, status: int, key: str, field: str | None = None, **values: object) -> None:
        super().__init__(key)
        self.status = status
        self.key = key
        self.field = field
        self.values = values


@dataclass
class FormData:
    fields: dict[str, str] = field(default_factory=dict)
    attachments: list[Attachment] = field(default_factory=list)


@dataclass(frozen=True)
class FormLimits:
    max_request_bytes: int
    max_file_bytes: int
    max_files: int

    @property
    def max_file_mb(self) -> int:
        """The per-file limit as the pages and messages state it, in whole MB."""
        return self.max_file_bytes // 2**20


# Decides from the fields read so far whether the files that follow may be stored.
FileGate = Callable[[Mapping[str, str]], bool]


async def read_form(
    request: web.Request,
    limits: FormLimits,
    blobs: BlobStore | None = None,
    file_gate: FileGate | None = None,
) -> FormData:
    """Fields and files of a urlencoded or multipart form.

    A file is stored only when `blobs` is given and `file_gate` accepts the fields that
    came before it (the CSRF token), so an unauthenticated client cannot fill the disk;
    otherwise the form is refused with 403 at the first file.
    """
    if (request.content_length or 0) > limits.max_request_bytes:
        raise FormRejected(413, "error.too_large", limit_mb=limits.max_file_mb)
    if request.content_type == "application/x-www-form-urlencoded":
        body = await read_body(request, MAX_FIELD_BYTES * 4)
        if body is None:
            raise FormRejected(413, "error.too_large", limit_mb=limits.max_file_mb)
        try:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
        except UnicodeDecodeError:
            raise FormRejected(400, "error.invalid") from None
        return FormData(fields=dict(pairs))
    if request.content_type != "multipart/form-data":
        raise FormRejected(415, "error.media_type")
    return await _read_multipart(request, limits, blobs, file_gate)


async def _read_multipart(
    request: web.Request, limits: FormLimits, blobs: BlobStore | None, file_gate: FileGate | None
) -> FormData:
    data = FormData()
    try:
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                raise FormRejected(400, "error.invalid")
            if part.filename is None:
                data.fields[part.name or ""] = await _read_field(part)
                continue
            if blobs is None or file_gate is None or not file_gate(data.fields):
                raise FormRejected(403, "error.csrf")
            attachment = await _read_file(part, blobs, limits, len(data.attachments))
            if attachment is not None:
                data.attachments.append(attachment)
    except ValueError as exc:  # aiohttp's multipart parser on a broken body
        raise FormRejected(400, "error.invalid") from exc
    return data


async def _read_field(part: BodyPartReader) -> str:
    raw = bytearray()
    while chunk := await part.read_chunk(CHUNK):
        raw += chunk
        if len(raw) > MAX_FIELD_BYTES:
            raise FormRejected(413, "field.too_long", field=part.name, max=MAX_FIELD_BYTES)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise FormRejected(400, "field.invalid", field=part.name) from None


async def _read_file(
    part: BodyPartReader, blobs: BlobStore, limits: FormLimits, already: int
) -> Attachment | None:
    head = bytearray()
    while len(head) < SNIFF_BYTES and (chunk := await part.read_chunk(CHUNK)):
        head += chunk
    if not head and not part.filename:
        return None  # the empty file input a browser sends when nothing was chosen
    if already >= limits.max_files:
        raise FormRejected(413, "error.too_many_files", field=part.name, limit=limits.max_files)
    media = sniff_media(bytes(head))
    if media is None:
        raise FormRejected(415, "error.media_type", field=part.name)

    async def chunks() -> AsyncIterator[bytes]:
        yield bytes(head)
        while chunk := await part.read_chunk(CHUNK):
            yield chunk

    try:
        sha256, size = await blobs.put(chunks(), limits.max_file_bytes)
    except BlobTooLarge:
        raise FormRejected(
            413, "error.too_large", field=part.name, limit_mb=limits.max_file_mb
        ) from None
    return Attachment(
        filename=_safe_name(part.filename or "lampiran"),
        content_type=media,
        size=size,
        sha256=sha256,
    )


def _safe_name(name: str) -> str:
    """A display name only (files are stored by hash), but keep it printable and short."""
    base = re.split(r"[\\/]", name)[-1]
    cleaned = re.sub(r"[^\w.\- ]+", "_", base).strip() or "lampiran"
    return cleaned[:120]
