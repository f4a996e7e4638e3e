"""Reading an HTML form from a hostile client: bounded fields, streamed and sniffed files."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from aiohttp import BodyPartReader, web

from channels.webform.form import MAX_FIELD_BYTES
from channels.webform.media import SNIFF_BYTES, sniff_media
from gateway.errors import read_body
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


Gate = Callable[[str], bool]


async def read_form(
    request: web.Request,
    blobs: BlobStore | None,
    limits: FormLimits,
    gate_field: str,
    gate: Gate | None = None,
) -> FormData:
    """Fields and files of a urlencoded or multipart form.

    Files are stored only after the `gate_field` (the CSRF token) has arrived and, when
    `gate` is given, only if `gate` accepts its value, so an unauthenticated client cannot
    fill the disk. Without `gate` the caller must still check the token's value.
    """
    if (request.content_length or 0) > limits.max_request_bytes:
        raise FormRejected(413, "error.too_large", limit_mb=limits.max_file_bytes // 2**20)
    if request.content_type == "application/x-www-form-urlencoded":
        body = await read_body(request, MAX_FIELD_BYTES * 4)
        if body is None:
            raise FormRejected(413, "error.too_large", limit_mb=limits.max_file_bytes // 2**20)
        try:
            from urllib.parse import parse_qsl

            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
        except UnicodeDecodeError:
            raise FormRejected(400, "error.invalid") from None
        return FormData(fields=dict(pairs))
    if request.content_type != "multipart/form-data":
        raise FormRejected(415, "error.media_type")
    return await _read_multipart(request, blobs, limits, gate_field, gate)


async def _read_multipart(
    request: web.Request,
    blobs: BlobStore | None,
    limits: FormLimits,
    gate_field: str,
    gate: Gate | None,
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
            token = data.fields.get(gate_field)
            if token is None or blobs is None or (gate is not None and not gate(token)):
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
            413, "error.too_large", field=part.name, limit_mb=limits.max_file_bytes // 2**20
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
