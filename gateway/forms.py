"""Reading an HTML form from a hostile client: the whole body bounded in bytes and parts as
it streams (a chunked request has no Content-Length to check first), bounded fields, and
files streamed, sniffed and stored only past the form's gate."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from aiohttp import BodyPartReader, web

from channels.http import read_body
from channels.webform.form import MAX_FIELD_BYTES
from channels.webform.media import NotMedia, keep_media, read_head
from config.locale import file_size
from normalizer.models import Attachment
from store.blobs import BlobTooLarge, Uploads

CHUNK = 64 * 1024
MAX_PARTS = 64
"""Fields and files of one form: the complaint form has fewer than 20 and 5 files."""


class FormRejected(Exception):
    """The form cannot be taken; `status` is the HTTP answer and `key` the catalogue text."""

    def __init__(
        self,
        status: int,
        key: str,
        field: str | None = None,
        retry_after: int | None = None,
        **values: object,
    ) -> None:
        super().__init__(key)
        self.status = status
        self.key = key
        self.field = field
        self.retry_after = retry_after
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
    def max_file_size(self) -> str:
        """The per-file limit as the pages and messages state it ('20 MB', '512 KB')."""
        return file_size(self.max_file_bytes)


# Decides from the fields read so far whether the file that follows may be stored (the
# CSRF token, the sender's upload allowance): None, or the refusal to raise.
FileGate = Callable[[Mapping[str, str]], "FormRejected | None"]


async def read_form(
    request: web.Request,
    limits: FormLimits,
    uploads: Uploads | None = None,
    file_gate: FileGate | None = None,
) -> FormData:
    """Fields and files of a urlencoded or multipart form.

    A file is stored only through `uploads` and when `file_gate` lets it, so an
    unauthenticated client cannot fill the disk; otherwise the form is refused at the first
    file. The caller discards `uploads` if it refuses the form after all.
    """
    if (request.content_length or 0) > limits.max_request_bytes:
        raise FormRejected(413, "error.too_large", limit=limits.max_file_size)
    if request.content_type == "application/x-www-form-urlencoded":
        body = await read_body(request, MAX_FIELD_BYTES * 4)
        if body is None:
            raise FormRejected(413, "error.too_large", limit=limits.max_file_size)
        try:
            pairs = parse_qsl(
                body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_PARTS
            )
        except UnicodeDecodeError:
            raise FormRejected(400, "error.invalid") from None
        except ValueError:  # more fields than MAX_PARTS
            raise FormRejected(413, "error.invalid") from None
        return FormData(fields=dict(pairs))
    if request.content_type != "multipart/form-data":
        raise FormRejected(415, "error.media_type")
    return await _read_multipart(request, limits, uploads, file_gate)


async def _read_multipart(
    request: web.Request, limits: FormLimits, uploads: Uploads | None, file_gate: FileGate | None
) -> FormData:
    data = FormData()
    bounded = _Bounded(request, limits)
    try:
        reader = await request.multipart()
        parts = 0
        while (part := await reader.next()) is not None:
            bounded.check()  # part headers count too
            parts += 1
            if parts > MAX_PARTS or not isinstance(part, BodyPartReader):
                raise FormRejected(413 if parts > MAX_PARTS else 400, "error.invalid")
            if part.filename is None:
                data.fields[part.name or ""] = await _read_field(part, bounded)
                continue
            refusal = file_gate(data.fields) if file_gate else FormRejected(403, "error.csrf")
            if uploads is None or refusal is not None:
                raise refusal or FormRejected(403, "error.csrf")
            attachment = await _read_file(part, uploads, limits, len(data.attachments), bounded)
            if attachment is not None:
                data.attachments.append(attachment)
    except ValueError as exc:  # aiohttp's multipart parser on a broken body
        raise FormRejected(400, "error.invalid") from exc
    return data


class _Bounded:
    """Counts what has come of the body, so a chunked request without Content-Length (or
    with a false one) is refused as soon as it passes the limit, not at its end."""

    def __init__(self, request: web.Request, limits: FormLimits) -> None:
        self._content = request.content
        self._limits = limits

    async def chunk(self, part: BodyPartReader) -> bytes:
        chunk = await part.read_chunk(CHUNK)
        self.check()
        return chunk

    def check(self) -> None:
        if self._content.total_bytes > self._limits.max_request_bytes:
            raise FormRejected(413, "error.too_large", limit=self._limits.max_file_size)


async def _read_field(part: BodyPartReader, bounded: _Bounded) -> str:
    raw = bytearray()
    while chunk := await bounded.chunk(part):
        raw += chunk
        if len(raw) > MAX_FIELD_BYTES:
            raise FormRejected(413, "field.too_long", field=part.name, max=MAX_FIELD_BYTES)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise FormRejected(400, "field.invalid", field=part.name) from None


async def _read_file(
    part: BodyPartReader, uploads: Uploads, limits: FormLimits, already: int, bounded: _Bounded
) -> Attachment | None:
    head = await read_head(lambda: bounded.chunk(part))
    if not head and not part.filename:
        return None  # the empty file input a browser sends when nothing was chosen
    if already >= limits.max_files:
        raise FormRejected(413, "error.too_many_files", field=part.name, limit=limits.max_files)
    try:
        media, sha256, size = await keep_media(
            head, lambda: bounded.chunk(part), uploads, limits.max_file_bytes
        )
    except NotMedia:
        raise FormRejected(415, "error.media_type", field=part.name) from None
    except BlobTooLarge:
        raise FormRejected(
            413, "error.too_large", field=part.name, limit=limits.max_file_size
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
