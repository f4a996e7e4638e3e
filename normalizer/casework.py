"""The records of casework the store keeps and the workflow decides: the nota dinas (its
drafts and approved, numbered texts), the messages to the citizen, and `Transition`, one
workflow step as data, which the store commits in one transaction and refuses whole if the
case moved on meanwhile."""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict

from normalizer.models import Channel, Classification

_ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class Draft(_Model):
    """One version of the nota dinas draft; every version is kept."""

    version: int
    agency: str
    perihal: str
    isi: str
    author: str
    created_at: AwareDatetime


class Approval(_Model):
    """What approving freezes of a draft; the store adds the number from the agency's
    sequence of the year."""

    draft_version: int
    agency: str
    perihal: str
    isi: str
    sha256: str
    signer: str
    signer_name: str
    signer_jabatan: str | None
    signer_nip: str | None
    approved_at: AwareDatetime
    year: int
    month: int
    number_format: str


class NotaDinas(Approval):
    """An approved nota dinas, numbered, and published once the answer went out."""

    seq: int
    number: str
    published_at: AwareDatetime | None = None

    @property
    def text(self) -> str:
        return nota_text(self.perihal, self.isi)


def nota_text(perihal: str, isi: str) -> str:
    """The text that is approved, hashed, published and sent: the subject, then the body."""
    return f"Perihal: {perihal}\n\n{isi}"


def nota_number(number_format: str, *, seq: int, year: int, month: int, agency: str) -> str:
    """The number as the profile writes it, e.g. `{seq:03d}/LAPOR/{agency}/{year}`."""
    return number_format.format(
        seq=seq, year=year, month=month, month_roman=_ROMAN[month - 1], agency=agency
    )


class Notice(_Model):
    """ "Tell this complaint's citizen this text": the channel that took the complaint says it."""

    purpose: str
    """verified, question, rejected, archived, handling, answer, rate, thanks, reopened,
    hold_expired, code"""
    text: str


class ComplaintChanges(_Model):
    """Fields of the complaint the Admin Penghubung corrects at verification; None: unchanged."""

    category: str | None = None
    classification: Classification | None = None
    anonymous: bool | None = None
    confidential: bool | None = None

    def recorded(self) -> dict[str, Any]:
        """The changes, for the timeline event's data."""
        return self.model_dump(mode="json", exclude_none=True)


class Transition(_Model):
    complaint_id: str
    tracking_id: str
    kind: str
    """The timeline event: `case.<action>`, `case.jawaban_warga`, `sla.…`."""
    expect_version: int
    """Committed only if the case still has this version and state: the step writes the
    case's values as they were read."""
    expect_state: str
    from_state: str
    to_state: str
    actor: str
    role: str | None
    at: AwareDatetime
    note: str | None = None
    data: dict[str, Any] = {}
    # The case's values after the step (the store writes exactly these).
    agency: str | None
    assignee: str | None
    due_at: AwareDatetime | None
    held_at: AwareDatetime | None
    verified_at: AwareDatetime | None
    answered_at: AwareDatetime | None
    closed_at: AwareDatetime | None
    rating: str | None
    dissatisfied: int
    verification_late: bool
    completion_late: bool
    # What else it writes.
    complaint: ComplaintChanges = ComplaintChanges()
    notices: tuple[Notice, ...] = ()
    draft: Draft | None = None
    approval: Approval | None = None
    publish: str | None = None
    """The number of the approved nota dinas this step publishes."""
    outbox_kind: str | None = None

    def with_(self, **changes: Any) -> Transition:
        return self.model_copy(update=changes)


class CitizenReply(_Model):
    """The citizen's own words on their case, or their rating of the answer, which the
    workflow takes in from the outbox (`citizen.followup`)."""

    complaint_id: str
    channel: Channel
    external_id: str
    """Unique per channel: a retried delivery adds nothing."""
    text: str
    received_at: AwareDatetime
    kind: str = "followup"
    """followup, or rating"""
    rating: str | None = None
    """puas or tidak_puas, for a rating"""
