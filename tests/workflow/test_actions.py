"""The workflow's actions, decided without a store: who may take which action in which
state, what each one refuses, and what the transition it makes writes.

The case was received on Friday 14 August 2026, 10:00 WIB, in Ketapang (Asia/Pontianak):
verification is due at the end of Thursday 20 August, completion at the end of Monday
24 August (Monday 17 August is Independence Day).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import TypeAdapter

from config.profile import Profile, load_profile
from normalizer.casework import ComplaintChanges, Draft, NotaDinas, nota_number, nota_text
from normalizer.models import Case, Channel, Classification, Complaint, Reporter
from tests.conftest import FRIDAY_BEFORE_HOLIDAY
from workflow.actions import (
    RULES,
    Action,
    ActionRequest,
    Facts,
    Forbidden,
    InvalidField,
    NotAllowed,
    StaleVersion,
    allowed_actions,
    decide,
)
from workflow.calendar import case_deadlines
from workflow.nota import approval_of
from workflow.roles import Actor, Role
from workflow.states import CaseState
from workflow.transition import Decision, begin

S = CaseState
PROFILE: Profile = load_profile("ketapang")
RECEIVED = FRIDAY_BEFORE_HOLIDAY.astimezone(UTC)
NOW = datetime(2026, 8, 19, 2, 0, tzinfo=UTC)  # Wednesday 19 August, 09:00 WIB
STATUS_URL = "https://lapor.ketapangkab.go.id/status/K7M2XQ9PD"
CTX = Decision(PROFILE, NOW, STATUS_URL)
VERSION = 4
PEJABAT_USERNAME = "pejabat.pupr"

VERIFICATION, COMPLETION = case_deadlines(PROFILE, RECEIVED)

ACTORS: dict[Role, Actor] = {
    Role.ADMIN_INSTANSI: Actor(username="utama", role=Role.ADMIN_INSTANSI),
    Role.ADMIN_PENGHUBUNG: Actor(username="penghubung", role=Role.ADMIN_PENGHUBUNG),
    Role.ADMIN_OPD: Actor(username="opd.pupr", role=Role.ADMIN_OPD, agency="PUPR"),
    Role.PEJABAT_PENGHUBUNG: Actor(
        username=PEJABAT_USERNAME,
        role=Role.PEJABAT_PENGHUBUNG,
        agency="PUPR",
        name="Ir. Rahmat Hidayat",
        jabatan="Kepala Bidang Bina Marga",
        nip="197501012000031001",
    ),
    Role.PETUGAS_LOKET: Actor(username="loket", role=Role.PETUGAS_LOKET),
}

# A valid request body for each action (the version is added per test).
BODIES: dict[Action, dict[str, Any]] = {
    Action.VERIFIKASI: {"agency": "PUPR", "category": "jalan_jembatan"},
    Action.TUNDA: {"question": "Di RT berapa jalan yang rusak?"},
    Action.TOLAK: {"reason": "tidak_layak"},
    Action.ARSIPKAN: {"duplicate_of": "B3H5KQ2WT"},
    Action.DISPOSISI: {"to": PEJABAT_USERNAME},
    Action.KEMBALIKAN: {"reason": "Bukan kewenangan PUPR."},
    Action.ALIHKAN: {"agency": "DINKES"},
    Action.TINDAK_LANJUT: {"text": "Tim turun ke lokasi pekan ini."},
    Action.KONSEP: {"perihal": "Jalan rusak di Delta Pawan", "isi": "Jalan akan ditambal."},
    Action.AJUKAN: {},
    Action.SETUJUI: {},
    Action.KEMBALIKAN_KONSEP: {"note": "Sebutkan tanggal perbaikan."},
    Action.TERBITKAN: {},
}

# What allowed_actions gives each role in each state, from the published procedure, with
# the facts a case in that state has (a draft once the answer is drafted, an approved nota
# once approved). Every pair not listed: nothing.
EXPECTED_ALLOWED: dict[tuple[CaseState, Role], list[str]] = {
    (S.DITERIMA, Role.ADMIN_PENGHUBUNG): ["verifikasi", "tunda", "tolak", "arsipkan"],
    (S.DITERUSKAN, Role.ADMIN_OPD): ["disposisi", "kembalikan"],
    (S.DITERUSKAN, Role.ADMIN_PENGHUBUNG): ["alihkan"],
    (S.DIDISPOSISI, Role.ADMIN_PENGHUBUNG): ["alihkan"],
    (S.DIDISPOSISI, Role.PEJABAT_PENGHUBUNG): ["tindak_lanjut"],
    (S.DITINDAKLANJUTI, Role.ADMIN_OPD): ["konsep", "ajukan"],
    (S.MENUNGGU_PERSETUJUAN, Role.PEJABAT_PENGHUBUNG): ["setujui", "kembalikan_konsep"],
    (S.DISETUJUI, Role.ADMIN_OPD): ["terbitkan"],
}

# The deadline that counts after entering each state, written out by hand.
EXPECTED_DUE: dict[CaseState, datetime | None] = {
    S.DITERIMA: VERIFICATION.due_at,
    S.DITUNDA: VERIFICATION.due_at,
    S.DITERUSKAN: COMPLETION.due_at,
    S.DIDISPOSISI: COMPLETION.due_at,
    S.DITINDAKLANJUTI: COMPLETION.due_at,
    S.MENUNGGU_PERSETUJUAN: COMPLETION.due_at,
    S.DISETUJUI: COMPLETION.due_at,
    S.DIJAWAB: None,
    S.SELESAI: None,
    S.DITOLAK: None,
    S.DIARSIPKAN: None,
}
CLOSING = {S.SELESAI, S.DITOLAK, S.DIARSIPKAN}


# -- building facts ---------------------------------------------------------------------


def make_complaint(
    complaint_id: str = "c-1", tracking_id: str = "K7M2XQ9PD", **changes: Any
) -> Complaint:
    fields: dict[str, Any] = {
        "channel": Channel.SMS,
        "external_id": f"sms-{complaint_id}",
        "request_hash": None,
        "profile": "ketapang",
        "reporter": Reporter(phone="+6281234567890"),
        "reply_to": None,
        "anonymous": False,
        "confidential": False,
        "classification": Classification.PENGADUAN,
        "category": "jalan_jembatan",
        "text": "Jalan di Delta Pawan berlubang besar sejak dua minggu.",
        "text_original": "Jalan di Delta Pawan berlubang besar sejak dua minggu.",
        "location": "Delta Pawan",
        "incident_date": None,
        "attachments": (),
        "received_at": RECEIVED,
        "logged_by": None,
        "id": complaint_id,
        "tracking_id": tracking_id,
        "created_at": RECEIVED,
    }
    fields.update(changes)
    return Complaint(**fields)


def make_case(state: CaseState, **changes: Any) -> Case:
    fields: dict[str, Any] = {
        "complaint_id": "c-1",
        "tracking_id": "K7M2XQ9PD",
        "state": state.value,
        "suggested_agency": "PUPR",
        "agency": "PUPR",
        "verification_due": VERIFICATION.due_date,
        "completion_due": COMPLETION.due_date,
        "verification_due_at": VERIFICATION.due_at,
        "completion_due_at": COMPLETION.due_at,
        "opened_at": RECEIVED,
        "updated_at": RECEIVED,
        "version": VERSION,
        "due_at": EXPECTED_DUE[state],
        "verified_at": RECEIVED + timedelta(hours=5),
    }
    fields.update(changes)
    return Case(**fields)


def make_draft(version: int, perihal: str = "Jalan rusak", isi: str = "Akan ditambal.") -> Draft:
    return Draft(
        version=version,
        agency="PUPR",
        perihal=perihal,
        isi=isi,
        author="opd.pupr",
        created_at=RECEIVED + timedelta(days=version),
    )


def make_nota(draft: Draft, seq: int = 7, published: bool = False) -> NotaDinas:
    approval = approval_of(draft, ACTORS[Role.PEJABAT_PENGHUBUNG], NOW, PROFILE)
    number = nota_number(
        approval.number_format, seq=seq, year=approval.year, month=approval.month, agency="PUPR"
    )
    return NotaDinas(
        **approval.model_dump(),
        seq=seq,
        number=number,
        published_at=NOW if published else None,
    )


ORIGINAL = make_complaint("c-0", "B3H5KQ2WT")


def facts_in(state: CaseState, **changes: Any) -> Facts:
    """A case in `state` with what such a case has: a draft once the answer is being
    drafted, an approved nota once approved, published once answered."""
    draft = make_draft(1)
    drafts: tuple[Draft, ...] = ()
    notas: tuple[NotaDinas, ...] = ()
    if state in (S.DITINDAKLANJUTI, S.MENUNGGU_PERSETUJUAN):
        drafts = (draft,)
    elif state is S.DISETUJUI:
        drafts, notas = (draft,), (make_nota(draft),)
    elif state in (S.DIJAWAB, S.SELESAI):
        drafts, notas = (draft,), (make_nota(draft, published=True),)
    fields: dict[str, Any] = {
        "case": make_case(state),
        "complaint": make_complaint(),
        "drafts": drafts,
        "notas": notas,
        "pejabat": frozenset({PEJABAT_USERNAME, "pejabat.lain"}),
        "original": ORIGINAL,
    }
    fields.update(changes)
    return Facts(**fields)


def request(action: Action, version: int = VERSION, **fields: Any) -> Any:
    """A request for `action` as the API parses it: a valid body, `fields` over it."""
    body = {"action": action.value, "version": version, **BODIES[action], **fields}
    return TypeAdapter(ActionRequest).validate_python(body)


def run(facts: Facts, role: Role, action: Action, ctx: Decision = CTX, **fields: Any) -> Any:
    return decide(facts, ACTORS[role], request(action, facts.case.version, **fields), ctx)


def _combinations() -> Iterator[tuple[Action, CaseState, Role]]:
    for action in Action:
        for state in CaseState:
            for role in Role:
                yield action, state, role


# -- the state table --------------------------------------------------------------------


@pytest.mark.parametrize(("action", "state", "role"), list(_combinations()))
def test_decide_follows_the_state_table(action: Action, state: CaseState, role: Role) -> None:
    """Every action in every state by every role: the rule's role in the rule's states
    moves the case to the rule's target; another role is forbidden; the right role in
    another state is told the state and what it may do there."""
    rule = RULES[action]
    facts = facts_in(state)
    actor = ACTORS[role]
    req = request(action)
    if role is not rule.role:
        with pytest.raises(Forbidden):
            decide(facts, actor, req, CTX)
    elif state not in rule.states:
        with pytest.raises(NotAllowed) as refused:
            decide(facts, actor, req, CTX)
        assert type(refused.value) is NotAllowed
        assert refused.value.state == state.value
        assert refused.value.allowed == [a.value for a in allowed_actions(facts, actor)]
        assert refused.value.status == 409
    else:
        step = decide(facts, actor, req, CTX)
        to = rule.to
        assert step.to_state == to.value
        assert step.from_state == step.expect_state == state.value
        assert step.kind == f"case.{action.value}"
        assert step.outbox_kind == f"case.{to.value}"
        assert step.expect_version == facts.case.version
        assert step.actor == actor.username
        assert step.role == role.value
        assert step.at == NOW
        assert step.due_at == EXPECTED_DUE[to]
        assert step.closed_at == (NOW if to in CLOSING else None)


@pytest.mark.parametrize("state", list(CaseState))
@pytest.mark.parametrize("role", list(Role))
def test_allowed_actions_per_state_and_role(state: CaseState, role: Role) -> None:
    """What each role may do in each state, as the procedure publishes it."""
    actions = allowed_actions(facts_in(state), ACTORS[role])
    assert [a.value for a in actions] == EXPECTED_ALLOWED.get((state, role), [])


def test_expected_table_names_only_rules_of_the_role() -> None:
    """The hand-written table agrees with RULES on role and state for every entry (so the
    per-state test above is not vacuously matching an empty list)."""
    for (state, role), names in EXPECTED_ALLOWED.items():
        for name in names:
            rule = RULES[Action(name)]
            assert rule.role is role
            assert state in rule.states
    assert sum(map(len, EXPECTED_ALLOWED.values())) == sum(len(r.states) for r in RULES.values())


def test_ajukan_needs_a_draft_newer_than_the_last_approval() -> None:
    """Without a draft, or with only the draft already approved, admin_opd may only write
    one; a new version makes ajukan possible again."""
    opd = ACTORS[Role.ADMIN_OPD]
    first = make_draft(1)
    approved = make_nota(first, published=True)
    no_draft = facts_in(S.DITINDAKLANJUTI, drafts=())
    old_draft = facts_in(S.DITINDAKLANJUTI, drafts=(first,), notas=(approved,))
    new_draft = facts_in(S.DITINDAKLANJUTI, drafts=(first, make_draft(2)), notas=(approved,))
    assert allowed_actions(no_draft, opd) == [Action.KONSEP]
    assert allowed_actions(old_draft, opd) == [Action.KONSEP]
    assert allowed_actions(new_draft, opd) == [Action.KONSEP, Action.AJUKAN]


@pytest.mark.parametrize("published", [None, True], ids=["no-nota", "published-nota"])
def test_terbitkan_needs_an_unpublished_nota(published: bool | None) -> None:
    """In disetujui, admin_opd may publish only an approved nota not yet published."""
    draft = make_draft(1)
    notas = () if published is None else (make_nota(draft, published=True),)
    facts = facts_in(S.DISETUJUI, drafts=(draft,), notas=notas)
    assert allowed_actions(facts, ACTORS[Role.ADMIN_OPD]) == []
    with pytest.raises(NotAllowed) as refused:
        run(facts, Role.ADMIN_OPD, Action.TERBITKAN)
    assert refused.value.state == "disetujui"
    assert refused.value.allowed == []


@pytest.mark.parametrize("state", list(CaseState))
@pytest.mark.parametrize("role", list(Role))
def test_operator_token_may_do_nothing(state: CaseState, role: Role) -> None:
    """An actor with may_act=False is offered nothing and refused every action."""
    actor = ACTORS[role].model_copy(update={"may_act": False})
    facts = facts_in(state)
    assert allowed_actions(facts, actor) == []
    for action in Action:
        with pytest.raises(Forbidden):
            decide(facts, actor, request(action), CTX)


@pytest.mark.parametrize("role", [Role.ADMIN_OPD, Role.PEJABAT_PENGHUBUNG])
@pytest.mark.parametrize("state", list(CaseState))
def test_another_agencys_staff_is_forbidden(role: Role, state: CaseState) -> None:
    """An agency role of DINKES may do nothing to a case with PUPR."""
    actor = ACTORS[role].model_copy(update={"agency": "DINKES"})
    facts = facts_in(state)
    assert allowed_actions(facts, actor) == []
    for action, rule in RULES.items():
        if rule.role is role:
            with pytest.raises(Forbidden):
                decide(facts, actor, request(action), CTX)


def test_agency_role_on_a_case_with_no_agency_is_forbidden() -> None:
    """A case returned to the Admin Penghubung (agency None) belongs to no agency."""
    facts = facts_in(S.DITERUSKAN, case=make_case(S.DITERUSKAN, agency=None))
    assert allowed_actions(facts, ACTORS[Role.ADMIN_OPD]) == []
    with pytest.raises(Forbidden):
        run(facts, Role.ADMIN_OPD, Action.DISPOSISI)


@pytest.mark.parametrize("version", [VERSION - 1, VERSION + 1])
def test_stale_version_is_refused(version: int) -> None:
    """A request decided on another version of the case is refused as stale, naming the
    state and what may be done now."""
    facts = facts_in(S.DITERIMA)
    actor = ACTORS[Role.ADMIN_PENGHUBUNG]
    with pytest.raises(StaleVersion) as refused:
        decide(facts, actor, request(Action.VERIFIKASI, version), CTX)
    assert refused.value.status == 409
    assert refused.value.state == "diterima"
    assert refused.value.allowed == ["verifikasi", "tunda", "tolak", "arsipkan"]


# -- field rules ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"agency": "DPUPR"}, "agency"),
        ({"agency": "pupr"}, "agency"),
        ({"category": "banjir"}, "category"),
        ({"category": "PUPR"}, "category"),
    ],
)
def test_verifikasi_refuses_unknown_agency_or_category(fields: dict[str, Any], field: str) -> None:
    """Only the profile's agencies and categories can be chosen at verification."""
    with pytest.raises(InvalidField) as refused:
        run(facts_in(S.DITERIMA), Role.ADMIN_PENGHUBUNG, Action.VERIFIKASI, **fields)
    assert refused.value.field == field
    assert refused.value.status == 422


@pytest.mark.parametrize("flag", ["anonymous", "confidential"])
def test_verifikasi_cannot_turn_anonymous_or_confidential_off(flag: str) -> None:
    """A reporter's anonymity or confidentiality, once on, stays on."""
    on: dict[str, Any] = {flag: True}
    off: dict[str, Any] = {flag: False}
    facts = facts_in(S.DITERIMA, complaint=make_complaint(**on))
    with pytest.raises(InvalidField) as refused:
        run(facts, Role.ADMIN_PENGHUBUNG, Action.VERIFIKASI, **off)
    assert refused.value.field == flag


def test_verifikasi_false_on_a_flag_already_off_changes_nothing() -> None:
    """Saying False about a flag that is off is no change, not a refusal."""
    step = run(
        facts_in(S.DITERIMA),
        Role.ADMIN_PENGHUBUNG,
        Action.VERIFIKASI,
        anonymous=False,
        confidential=False,
    )
    assert step.complaint.anonymous is None
    assert step.complaint.confidential is None


def test_verifikasi_turning_both_flags_on_records_them() -> None:
    """Turning anonymity and confidentiality on is written to the complaint and the
    timeline, with the new agency, the category and classification chosen."""
    step = run(
        facts_in(S.DITERIMA, case=make_case(S.DITERIMA, agency=None, verified_at=None)),
        Role.ADMIN_PENGHUBUNG,
        Action.VERIFIKASI,
        agency="DINKES",
        category="kesehatan",
        classification="aspirasi",
        anonymous=True,
        confidential=True,
    )
    assert step.complaint == ComplaintChanges(
        category="kesehatan",
        classification=Classification.ASPIRASI,
        anonymous=True,
        confidential=True,
    )
    assert step.data == {
        "agency": "DINKES",
        "category": "kesehatan",
        "classification": "aspirasi",
        "anonymous": True,
        "confidential": True,
    }
    assert step.agency == "DINKES"
    assert step.verified_at == NOW
    assert [n.purpose for n in step.notices] == ["verified"]
    assert PROFILE.agency_names["DINKES"] in step.notices[0].text


def test_verifikasi_flags_already_on_are_not_recorded_again() -> None:
    """True on a flag that is already on is no change."""
    complaint = make_complaint(anonymous=True, confidential=True)
    step = run(
        facts_in(S.DITERIMA, complaint=complaint),
        Role.ADMIN_PENGHUBUNG,
        Action.VERIFIKASI,
        anonymous=True,
        confidential=True,
    )
    assert step.complaint.anonymous is None
    assert step.complaint.confidential is None
    assert "anonymous" not in step.data


def test_verifikasi_keeps_the_first_verification_time() -> None:
    """A case verified before (returned by the agency, verified again) keeps its first
    verified_at."""
    first = RECEIVED + timedelta(hours=2)
    facts = facts_in(S.DITERIMA, case=make_case(S.DITERIMA, verified_at=first))
    step = run(facts, Role.ADMIN_PENGHUBUNG, Action.VERIFIKASI)
    assert step.verified_at == first


def test_tunda_asks_the_question_and_starts_the_hold() -> None:
    """Holding sets held_at to now and sends the question to the citizen."""
    question = BODIES[Action.TUNDA]["question"]
    step = run(facts_in(S.DITERIMA), Role.ADMIN_PENGHUBUNG, Action.TUNDA)
    assert step.held_at == NOW
    assert step.due_at == VERIFICATION.due_at
    assert [n.purpose for n in step.notices] == ["question"]
    assert question in step.notices[0].text
    assert STATUS_URL in step.notices[0].text


def test_tolak_spam_sends_nothing() -> None:
    """A spam rejection is not answered."""
    step = run(facts_in(S.DITERIMA), Role.ADMIN_PENGHUBUNG, Action.TOLAK, reason="spam")
    assert step.notices == ()
    assert step.data == {"reason": "spam"}
    assert step.closed_at == NOW


@pytest.mark.parametrize("reason", ["bukan_kewenangan", "tidak_layak"])
def test_tolak_tells_the_citizen_why(reason: str) -> None:
    """Any other rejection sends one 'rejected' notice in the profile's words."""
    step = run(facts_in(S.DITERIMA), Role.ADMIN_PENGHUBUNG, Action.TOLAK, reason=reason)
    expected = PROFILE.message(
        f"notice.rejected.{reason}",
        regency=PROFILE.regency,
        short_code=PROFILE.sms.short_code,
        tracking_id="K7M2XQ9PD",
        status_url=STATUS_URL,
    )
    assert [(n.purpose, n.text) for n in step.notices] == [("rejected", expected)]


def test_arsipkan_without_an_original_is_refused() -> None:
    """A duplicate_of that names no complaint is refused."""
    with pytest.raises(InvalidField) as refused:
        run(facts_in(S.DITERIMA, original=None), Role.ADMIN_PENGHUBUNG, Action.ARSIPKAN)
    assert refused.value.field == "duplicate_of"


def test_arsipkan_as_a_duplicate_of_itself_is_refused() -> None:
    """A complaint cannot be archived as a duplicate of itself."""
    facts = facts_in(S.DITERIMA, original=make_complaint())
    with pytest.raises(InvalidField) as refused:
        run(facts, Role.ADMIN_PENGHUBUNG, Action.ARSIPKAN, duplicate_of="K7M2XQ9PD")
    assert refused.value.field == "duplicate_of"


def test_arsipkan_points_the_citizen_to_the_original() -> None:
    """Archiving records the original's tracking ID and tells the citizen to follow it."""
    step = run(facts_in(S.DITERIMA), Role.ADMIN_PENGHUBUNG, Action.ARSIPKAN)
    assert step.data == {"duplicate_of": "B3H5KQ2WT"}
    assert [n.purpose for n in step.notices] == ["archived"]
    assert "B3H5KQ2WT" in step.notices[0].text


def test_disposisi_to_someone_not_a_pejabat_is_refused() -> None:
    """The case can only go to an active pejabat_penghubung of its agency."""
    with pytest.raises(InvalidField) as refused:
        run(facts_in(S.DITERUSKAN), Role.ADMIN_OPD, Action.DISPOSISI, to="opd.pupr")
    assert refused.value.field == "to"


def test_disposisi_assigns_the_pejabat() -> None:
    step = run(facts_in(S.DITERUSKAN), Role.ADMIN_OPD, Action.DISPOSISI)
    assert step.assignee == PEJABAT_USERNAME
    assert step.data == {"to": PEJABAT_USERNAME}


def test_kembalikan_takes_the_case_from_the_agency() -> None:
    """Returned to the Admin Penghubung, the case is with no agency and no pejabat, and
    the verification deadline counts again."""
    facts = facts_in(S.DITERUSKAN, case=make_case(S.DITERUSKAN, assignee=PEJABAT_USERNAME))
    step = run(facts, Role.ADMIN_OPD, Action.KEMBALIKAN)
    assert step.to_state == "diterima"
    assert step.agency is None
    assert step.assignee is None
    assert step.due_at == VERIFICATION.due_at


@pytest.mark.parametrize(("agency", "state"), [("PUPR", S.DITERUSKAN), ("PUPR", S.DIDISPOSISI)])
def test_alihkan_to_the_same_agency_is_refused(agency: str, state: CaseState) -> None:
    with pytest.raises(InvalidField) as refused:
        run(facts_in(state), Role.ADMIN_PENGHUBUNG, Action.ALIHKAN, agency=agency)
    assert refused.value.field == "agency"


def test_alihkan_to_an_unknown_agency_is_refused() -> None:
    with pytest.raises(InvalidField) as refused:
        run(facts_in(S.DITERUSKAN), Role.ADMIN_PENGHUBUNG, Action.ALIHKAN, agency="NOPE")
    assert refused.value.field == "agency"


def test_alihkan_moves_the_case_and_drops_the_assignee() -> None:
    facts = facts_in(S.DIDISPOSISI, case=make_case(S.DIDISPOSISI, assignee=PEJABAT_USERNAME))
    step = run(facts, Role.ADMIN_PENGHUBUNG, Action.ALIHKAN, agency="DINKES")
    assert step.to_state == "diteruskan"
    assert step.agency == "DINKES"
    assert step.assignee is None
    assert step.data == {"from": "PUPR", "agency": "DINKES"}


def test_konsep_numbers_the_drafts() -> None:
    """The first draft is version 1, the next version 2, each by its author, now."""
    first = run(facts_in(S.DITINDAKLANJUTI, drafts=()), Role.ADMIN_OPD, Action.KONSEP)
    assert first.draft is not None
    assert first.draft.version == 1
    assert first.data == {"draft_version": 1}
    second = run(facts_in(S.DITINDAKLANJUTI, drafts=(first.draft,)), Role.ADMIN_OPD, Action.KONSEP)
    assert second.draft is not None
    assert second.draft.version == 2
    assert (second.draft.author, second.draft.agency) == ("opd.pupr", "PUPR")
    assert second.draft.created_at == NOW
    assert second.to_state == "ditindaklanjuti"


def test_ajukan_without_a_new_draft_is_not_allowed() -> None:
    """Submitting with no draft newer than the last approval is refused, naming what may
    be done (write a draft)."""
    for drafts, notas in [
        ((), ()),
        ((make_draft(1),), (make_nota(make_draft(1), published=True),)),
    ]:
        facts = facts_in(S.DITINDAKLANJUTI, drafts=drafts, notas=notas)
        with pytest.raises(NotAllowed) as refused:
            run(facts, Role.ADMIN_OPD, Action.AJUKAN)
        assert type(refused.value) is NotAllowed
        assert refused.value.state == "ditindaklanjuti"
        assert refused.value.allowed == ["konsep"]


def test_ajukan_submits_the_latest_draft() -> None:
    facts = facts_in(S.DITINDAKLANJUTI, drafts=(make_draft(1), make_draft(2)))
    step = run(facts, Role.ADMIN_OPD, Action.AJUKAN)
    assert step.data == {"draft_version": 2}


def test_setujui_freezes_and_signs_the_latest_draft() -> None:
    """The approval hashes exactly nota_text(perihal, isi) of the latest draft and names
    the signer as the Actor gives them; year and month are those of Pontianak: 17:30 UTC
    on 31 December 2026 is already 1 January 2027 there."""
    draft = make_draft(2, perihal="Perbaikan jalan", isi="Jalan akan ditambal\nminggu depan.")
    facts = facts_in(S.MENUNGGU_PERSETUJUAN, drafts=(make_draft(1), draft))
    new_year = Decision(PROFILE, datetime(2026, 12, 31, 17, 30, tzinfo=UTC), STATUS_URL)
    step = run(facts, Role.PEJABAT_PENGHUBUNG, Action.SETUJUI, ctx=new_year)
    approval = step.approval
    assert approval is not None
    expected_sha = hashlib.sha256(
        nota_text("Perbaikan jalan", "Jalan akan ditambal\nminggu depan.").encode()
    ).hexdigest()
    assert approval.sha256 == expected_sha
    assert step.data == {"draft_version": 2, "sha256": expected_sha}
    assert (approval.draft_version, approval.perihal, approval.isi) == (
        2,
        "Perbaikan jalan",
        "Jalan akan ditambal\nminggu depan.",
    )
    assert approval.signer == PEJABAT_USERNAME
    assert approval.signer_name == "Ir. Rahmat Hidayat"
    assert approval.signer_jabatan == "Kepala Bidang Bina Marga"
    assert approval.signer_nip == "197501012000031001"
    assert (approval.year, approval.month) == (2027, 1)
    assert approval.number_format == "{seq:03d}/ND-LAPOR/{agency}/{year}"


def test_setujui_by_a_pejabat_without_a_name_signs_with_the_username() -> None:
    facts = facts_in(S.MENUNGGU_PERSETUJUAN)
    actor = Actor(username="pejabat.dua", role=Role.PEJABAT_PENGHUBUNG, agency="PUPR")
    step = decide(facts, actor, request(Action.SETUJUI), CTX)
    assert step.approval is not None
    assert step.approval.signer_name == "pejabat.dua"
    assert step.approval.signer_jabatan is None
    assert step.approval.signer_nip is None


def test_kembalikan_konsep_returns_the_draft() -> None:
    step = run(facts_in(S.MENUNGGU_PERSETUJUAN), Role.PEJABAT_PENGHUBUNG, Action.KEMBALIKAN_KONSEP)
    assert step.to_state == "ditindaklanjuti"
    assert step.data == {"draft_version": 1}


def test_terbitkan_publishes_the_nota_and_asks_for_a_rating() -> None:
    """Publishing names the unpublished nota's number, sends the answer (the nota's text)
    and then the request to rate it."""
    draft = make_draft(1, perihal="Jalan rusak", isi="Jalan akan ditambal pekan depan.")
    nota = make_nota(draft, seq=12)
    facts = facts_in(S.DISETUJUI, drafts=(draft,), notas=(nota,))
    step = run(facts, Role.ADMIN_OPD, Action.TERBITKAN)
    assert nota.number == "012/ND-LAPOR/PUPR/2026"
    assert step.publish == nota.number
    assert step.answered_at == NOW
    assert step.data == {"number": nota.number, "sha256": nota.sha256}
    assert [n.purpose for n in step.notices] == ["answer", "rate"]
    assert nota.text in step.notices[0].text
    assert PROFILE.agency_names["PUPR"] in step.notices[0].text
    assert "K7M2XQ9PD" in step.notices[1].text


# -- what every step writes -------------------------------------------------------------


@pytest.mark.parametrize("to", list(CaseState))
def test_begin_sets_due_date_and_closed_at_for_each_state(to: CaseState) -> None:
    """Entering diterima/ditunda: the verification deadline; diteruskan..disetujui: the
    completion deadline; dijawab and the final states: none. Only selesai, ditolak and
    diarsipkan set closed_at."""
    case = make_case(S.DITERIMA)
    step = begin(case, to, "x", NOW, "sistem")
    assert step.due_at == EXPECTED_DUE[to]
    assert step.closed_at == (NOW if to in CLOSING else None)
    assert step.outbox_kind == f"case.{to.value}"
    assert step.kind == "case.x"
    assert step.expect_version == VERSION
    assert step.role is None
    assert step.actor == "sistem"


def test_begin_keeps_held_at_only_on_hold() -> None:
    """held_at survives a step that stays on hold and is cleared by any other."""
    held = RECEIVED + timedelta(days=1)
    case = make_case(S.DITUNDA, held_at=held)
    assert begin(case, S.DITUNDA, "late", NOW, "sistem").held_at == held
    assert begin(case, S.DITERIMA, "jawaban_warga", NOW, "warga").held_at is None
