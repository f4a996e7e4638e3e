"""The mobile app's JSON intake: request and response bodies of `/api/v1/complaints`."""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, Field

from channels.complaint_fields import ComplaintFields


class AppComplaintRequest(ComplaintFields):
    """A complaint sent by the mobile app."""


class ComplaintCreated(BaseModel):
    tracking_id: str = Field(description="Nomor pelacakan, 9 karakter.", examples=["K7M2XQ9PD"])
    status_url: str
    received_at: AwareDatetime
    citizen_code: str | None = Field(
        default=None,
        description="Desk only: the 6-digit code to print on the receipt, with which the "
        "citizen answers a question or rates the answer on the status page.",
    )


class FieldProblem(BaseModel):
    field: str
    reason: str


class ErrorBody(BaseModel):
    error: str = Field(description="Machine-readable code, e.g. validation_error.")
    message: str = Field(description="Penjelasan dalam Bahasa Indonesia.")
    fields: list[FieldProblem] = Field(default_factory=list)
