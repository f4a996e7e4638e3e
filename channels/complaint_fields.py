"""The fields a person fills in to complain, shared by the web form, the app and the desk.

One pydantic model validates all three, so a rule (a phone number, a known category,
an incident date not in the future) is written once and the OpenAPI document is
generated from the very model that checks requests.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from normalizer.models import Attachment, Channel, Classification, Inbound, RawPayload, Reporter
from normalizer.phone import InvalidPhone, normalize_phone
from normalizer.text import clean_text

MIN_TEXT = 10

ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)]


class ValidationContext(BaseModel):
    """What validation needs to know of the deployment: passed as pydantic context."""

    categories: frozenset[str]
    agencies: frozenset[str]
    today: date


def _known(kind: str, codes: Callable[[ValidationContext], frozenset[str]]) -> AfterValidator:
    """A code that must be one of the deployment's (a category, an agency)."""

    def check(value: str, info: ValidationInfo) -> str:
        context = _context(info)
        if context and value not in codes(context):
            raise ValueError(f"unknown {kind} {value!r}")
        return value

    return AfterValidator(check)


CategoryCode = Annotated[str, _known("category", lambda c: c.categories)]
AgencyCode = Annotated[str, _known("agency", lambda c: c.agencies)]


class ComplaintFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    text: str = Field(
        min_length=MIN_TEXT,
        max_length=10_000,
        description="Uraian permasalahan: jelas, lengkap dan kronologis.",
    )
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)] | None = None
    phone: str | None = Field(
        default=None,
        description="Nomor telepon; disimpan dalam format E.164.",
        examples=["0812 3456 7890"],
    )
    email: EmailStr | None = None
    anonymous: bool = Field(default=False, description="Identitas pelapor tidak ditampilkan.")
    confidential: bool = Field(default=False, description="Isi laporan tidak dipublikasikan.")
    classification: Classification = Classification.PENGADUAN
    category: CategoryCode | None = Field(
        default=None, description="Kode kategori dari profil daerah."
    )
    location: ShortText | None = Field(default=None, description="Tempat kejadian.")
    incident_date: date | None = Field(default=None, description="Tanggal kejadian.")

    @field_validator("name", "location", "category", "phone", "email", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("text")
    @classmethod
    def _visible_text(cls, value: str) -> str:
        # Count what the normaliser keeps: invisible and control characters do not count,
        # so a text of zero-width spaces is refused here, not turned into an empty complaint.
        if len(clean_text(value)) < MIN_TEXT:
            raise PydanticCustomError(
                "string_too_short",
                "String should have at least {min_length} characters",
                {"min_length": MIN_TEXT},
            )
        return value

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            phone = normalize_phone(value)
        except InvalidPhone as exc:
            raise ValueError(f"not a valid phone number: {exc}") from None
        # normalize_phone also takes service short codes (1708, 112), which name a
        # sender but are nobody's own number: a reporter's contact must be a full one.
        if not phone.startswith("+"):
            raise ValueError("not a valid phone number: a short code, not a personal number")
        return phone

    @field_validator("incident_date")
    @classmethod
    def _not_future(cls, value: date | None, info: ValidationInfo) -> date | None:
        context = _context(info)
        if value is not None and context and value > context.today:
            raise ValueError("the incident date is in the future")
        return value

    @model_validator(mode="after")
    def _reachable(self) -> Self:
        if not self.anonymous and not (self.phone or self.email):
            raise ValueError(
                "contact: give a phone number or an e-mail address, or report anonymously"
            )
        return self

    def fingerprint(self) -> str:
        """Identifies what was asked, so an idempotency key reused for another request is caught."""
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()

    def to_inbound(
        self,
        channel: Channel,
        received_at: datetime,
        *,
        external_id: str | None = None,
        attachments: tuple[Attachment, ...] = (),
        raw: RawPayload | None = None,
        logged_by: str | None = None,
    ) -> Inbound:
        return Inbound(
            channel=channel,
            external_id=external_id,
            request_hash=self.fingerprint() if external_id else None,
            sender=self.phone or self.email,
            display_name=self.name,
            text=self.text,
            attachments=attachments,
            received_at=received_at,
            raw=raw,
            reporter=Reporter(name=self.name, phone=self.phone, email=self.email),
            anonymous=self.anonymous,
            confidential=self.confidential,
            classification=self.classification,
            category=self.category,
            location=self.location,
            incident_date=self.incident_date,
            logged_by=logged_by,
        )


def _context(info: ValidationInfo) -> ValidationContext | None:
    return info.context.get("deployment") if isinstance(info.context, dict) else None
