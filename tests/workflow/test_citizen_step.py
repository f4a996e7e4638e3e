"""The citizen's own steps: an answer to the Admin's question returns a held case for
verification; a rating closes an answered case, or (the first time the citizen is not
satisfied) sends it back to the agency's Pejabat Penghubung."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from config.profile import Profile, load_profile
from normalizer.casework import CitizenReply, Transition
from normalizer.models import Case, Channel, Classification, Complaint, Reporter
from store.workflow import CaseRecord
from tests.conftest import FRIDAY_BEFORE_HOLIDAY
from workflow.calendar import case_deadlines
from workflow.citizen import citizen_step
from workflow.states import CaseState
from workflow.transition import Decision

S = CaseState
PROFILE: Profile = load_profile("ketapang")
RECEIVED = FRIDAY_BEFORE_HOLIDAY.astimezone(UTC)
NOW = datetime(2026, 8, 27, 3, 0, tzinfo=UTC)  # Thursday 27 August, 10:00 WIB
CTX = Decision(PROFILE, NOW, "https://lapor.ketapangkab.go.id/status/K7M2XQ9PD")
VERIFICATION, COMPLETION = case_deadlines(PROFILE, RECEIVED)
VERSION = 6
ANSWERED = datetime(2026, 8, 24, 2, 0, tzinfo=UTC)

COMPLAINT = Complaint(
    channel=Channel.SMS,
    external_id="sms-1",
    request_hash=None,
    profile="ketapang",
    reporter=Reporter(phone="+6281234567890"),
    reply_to=None,
    anonymous=False,
    confidential=False,
    classification=Classification.PENGADUAN,
    category="jalan_jembatan",
    text="Jalan di Delta Pawan berlubang besar sejak dua minggu.",
    text_original="Jalan di Delta Pawan berlubang besar sejak dua minggu.",
    location=None,
    incident_date=None,
    attachments=(),
    received_at=RECEIVED,
    logged_by=None,
    id="c-1",
    tracking_id="K7M2XQ9PD",
    created_at=RECEIVED,
)


def record(state: CaseState, **changes: Any) -> CaseRecord:
    fields: dict[str, Any] = {
        "complaint_id": "c-1",
        "tracking_id": "K7M2XQ9PD",
        "state": state.value,
        "suggested_agency": "PUPR",
        "agency": "PUPR",
        "assignee": "pejabat.pupr",
        "verification_due": VERIFICATION.due_date,
        "completion_due": COMPLETION.due_date,
        "verification_due_at": VERIFICATION.due_at,
        "completion_due_at": COMPLETION.due_at,
        "opened_at": RECEIVED,
        "updated_at": RECEIVED,
        "version": VERSION,
        "verified_at": RECEIVED + timedelta(hours=3),
    }
    if state is S.DIJAWAB:
        fields["answered_at"] = ANSWERED
    if state is S.DITUNDA:
        fields["held_at"] = RECEIVED + timedelta(hours=1)
        fields["due_at"] = VERIFICATION.due_at
    fields.update(changes)
    return CaseRecord(complaint=COMPLAINT, case=Case(**fields), drafts=(), notas=(), agencies=())


def followup(text: str = "Di RT 05, depan masjid.") -> CitizenReply:
    return CitizenReply(
        complaint_id="c-1",
        channel=Channel.SMS,
        external_id="sms-77",
        text=text,
        received_at=NOW,
    )


def rating(value: str, text: str = "") -> CitizenReply:
    return CitizenReply(
        complaint_id="c-1",
        channel=Channel.WEB,
        external_id="web-78",
        text=text,
        received_at=NOW,
        kind="rating",
        rating=value,
    )


def step_of(record: CaseRecord, reply: CitizenReply) -> Transition:
    step = citizen_step(record, reply, CTX)
    assert step is not None
    return step


def test_followup_on_hold_returns_the_case_for_verification() -> None:
    """The citizen's answer moves a held case back to diterima, by 'warga', with the
    verification deadline and no hold."""
    step = step_of(record(S.DITUNDA), followup())
    assert (step.from_state, step.to_state) == ("ditunda", "diterima")
    assert step.kind == "case.jawaban_warga"
    assert step.outbox_kind == "case.diterima"
    assert step.actor == "warga"
    assert step.role is None
    assert step.note == "Di RT 05, depan masjid."
    assert step.data == {"channel": "sms"}
    assert step.expect_version == VERSION
    assert step.due_at == VERIFICATION.due_at
    assert step.held_at is None
    assert step.closed_at is None
    assert step.notices == ()


@pytest.mark.parametrize("state", [s for s in CaseState if s is not S.DITUNDA])
def test_followup_on_a_case_not_on_hold_makes_no_step(state: CaseState) -> None:
    """A follow-up on a case not on hold is only kept on the timeline."""
    assert citizen_step(record(state), followup(), CTX) is None


def test_puas_closes_the_answered_case() -> None:
    step = step_of(record(S.DIJAWAB), rating("puas"))
    assert (step.from_state, step.to_state) == ("dijawab", "selesai")
    assert step.kind == "case.penilaian"
    assert step.outbox_kind == "case.selesai"
    assert step.actor == "warga"
    assert step.rating == "puas"
    assert step.dissatisfied == 0
    assert step.closed_at == NOW
    assert step.due_at is None
    assert step.note is None
    assert step.data == {"rating": "puas", "channel": "web"}


def test_first_tidak_puas_sends_the_case_back_to_the_pejabat() -> None:
    """Not satisfied the first time: back to didisposisi, the completion deadline counts
    again, the case stays open and with its pejabat."""
    step = step_of(record(S.DIJAWAB), rating("tidak_puas", "Jalan belum diperbaiki."))
    assert (step.from_state, step.to_state) == ("dijawab", "didisposisi")
    assert step.kind == "case.penilaian"
    assert step.outbox_kind == "case.didisposisi"
    assert step.rating == "tidak_puas"
    assert step.dissatisfied == 1
    assert step.due_at == COMPLETION.due_at
    assert step.closed_at is None
    assert step.assignee == "pejabat.pupr"
    assert step.agency == "PUPR"
    assert step.note == "Jalan belum diperbaiki."
    assert step.data == {"rating": "tidak_puas", "channel": "web"}


def test_second_tidak_puas_closes_the_case() -> None:
    """Not satisfied again: recorded (twice now), and the case closes."""
    step = step_of(record(S.DIJAWAB, dissatisfied=1, rating="tidak_puas"), rating("tidak_puas"))
    assert (step.from_state, step.to_state) == ("dijawab", "selesai")
    assert step.rating == "tidak_puas"
    assert step.dissatisfied == 2
    assert step.closed_at == NOW
    assert step.due_at is None
    assert step.expect_version == VERSION


@pytest.mark.parametrize("value", ["puas", "tidak_puas"])
@pytest.mark.parametrize("state", [s for s in CaseState if s is not S.DIJAWAB])
def test_rating_of_a_case_not_answered_makes_no_step(state: CaseState, value: str) -> None:
    """A rating of a case not (or no longer) waiting for one makes no step."""
    assert citizen_step(record(state), rating(value), CTX) is None
