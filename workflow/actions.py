"""The workflow's actions: who may take which, in which state, with which fields, and what
each one changes. Pure: `decide` turns a request on a case into the `Transition` the store
commits in one transaction (the new state and version, the timeline event, the messages to
the citizen and the outbox event), so every rule here is testable without a database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from config.profile import Profile
from normalizer.casework import ComplaintChanges, Draft, NotaDinas, Transition
from normalizer.models import Case, Classification, Complaint
from workflow.nota import approval_of
from workflow.roles import AGENCY_ROLES, Actor, Role
from workflow.states import CaseState
from workflow.transition import Decision, begin

S = CaseState


class Action(StrEnum):
    VERIFIKASI = "verifikasi"
    TUNDA = "tunda"
    TOLAK = "tolak"
    ARSIPKAN = "arsipkan"
    DISPOSISI = "disposisi"
    KEMBALIKAN = "kembalikan"
    ALIHKAN = "alihkan"
    TINDAK_LANJUT = "tindak_lanjut"
    KONSEP = "konsep"
    AJUKAN = "ajukan"
    SETUJUI = "setujui"
    KEMBALIKAN_KONSEP = "kembalikan_konsep"
    TERBITKAN = "terbitkan"


@dataclass(frozen=True)
class Rule:
    states: frozenset[CaseState]
    role: Role
    to: CaseState


def _rule(states: Iterable[CaseState], role: Role, to: CaseState) -> Rule:
    return Rule(frozenset(states), role, to)


PENGHUBUNG, OPD, PEJABAT = Role.ADMIN_PENGHUBUNG, Role.ADMIN_OPD, Role.PEJABAT_PENGHUBUNG

RULES: dict[Action, Rule] = {
    Action.VERIFIKASI: _rule([S.DITERIMA], PENGHUBUNG, S.DITERUSKAN),
    Action.TUNDA: _rule([S.DITERIMA], PENGHUBUNG, S.DITUNDA),
    Action.TOLAK: _rule([S.DITERIMA], PENGHUBUNG, S.DITOLAK),
    Action.ARSIPKAN: _rule([S.DITERIMA], PENGHUBUNG, S.DIARSIPKAN),
    Action.DISPOSISI: _rule([S.DITERUSKAN], OPD, S.DIDISPOSISI),
    Action.KEMBALIKAN: _rule([S.DITERUSKAN], OPD, S.DITERIMA),
    Action.ALIHKAN: _rule([S.DITERUSKAN, S.DIDISPOSISI], PENGHUBUNG, S.DITERUSKAN),
    Action.TINDAK_LANJUT: _rule([S.DIDISPOSISI], PEJABAT, S.DITINDAKLANJUTI),
    Action.KONSEP: _rule([S.DITINDAKLANJUTI], OPD, S.DITINDAKLANJUTI),
    Action.AJUKAN: _rule([S.DITINDAKLANJUTI], OPD, S.MENUNGGU_PERSETUJUAN),
    Action.SETUJUI: _rule([S.MENUNGGU_PERSETUJUAN], PEJABAT, S.DISETUJUI),
    Action.KEMBALIKAN_KONSEP: _rule([S.MENUNGGU_PERSETUJUAN], PEJABAT, S.DITINDAKLANJUTI),
    Action.TERBITKAN: _rule([S.DISETUJUI], OPD, S.DIJAWAB),
}
"""The state table of the published procedure: from which states, by whom, to where."""


# -- requests -----------------------------------------------------------------------------

Note = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20000)]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = Field(ge=1, description="the case's version this action was decided on")


class Verifikasi(_Request):
    action: Literal["verifikasi"]
    agency: Short = Field(description="the agency (OPD) code to forward to")
    category: Short | None = None
    classification: Classification | None = None
    anonymous: bool | None = Field(default=None, description="can only be turned on")
    confidential: bool | None = Field(default=None, description="can only be turned on")
    note: Note | None = None


class Tunda(_Request):
    action: Literal["tunda"]
    question: Note = Field(description="what the citizen is asked")


class Tolak(_Request):
    action: Literal["tolak"]
    reason: Literal["bukan_kewenangan", "tidak_layak", "spam"]
    note: Note | None = None


class Arsipkan(_Request):
    action: Literal["arsipkan"]
    duplicate_of: Short = Field(description="the tracking ID of the complaint this repeats")
    note: Note | None = None


class Disposisi(_Request):
    action: Literal["disposisi"]
    to: Short = Field(description="username of a pejabat_penghubung of the agency")
    note: Note | None = None


class Kembalikan(_Request):
    action: Literal["kembalikan"]
    reason: Note


class Alihkan(_Request):
    action: Literal["alihkan"]
    agency: Short
    note: Note | None = None


class TindakLanjut(_Request):
    action: Literal["tindak_lanjut"]
    text: Note = Field(description="the follow-up decision")


class Konsep(_Request):
    action: Literal["konsep"]
    perihal: Short = Field(description="the subject of the nota dinas")
    isi: LongText = Field(description="the text of the answer")


class Ajukan(_Request):
    action: Literal["ajukan"]
    note: Note | None = None


class Setujui(_Request):
    action: Literal["setujui"]
    note: Note | None = None


class KembalikanKonsep(_Request):
    action: Literal["kembalikan_konsep"]
    note: Note


class Terbitkan(_Request):
    action: Literal["terbitkan"]


ActionRequest = Annotated[
    Verifikasi
    | Tunda
    | Tolak
    | Arsipkan
    | Disposisi
    | Kembalikan
    | Alihkan
    | TindakLanjut
    | Konsep
    | Ajukan
    | Setujui
    | KembalikanKonsep
    | Terbitkan,
    Field(discriminator="action"),
]


# -- refusals -----------------------------------------------------------------------------


class Refused(Exception):
    """An action that cannot be taken; the API answers with `status`."""

    status = 400

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class NotAllowed(Refused):
    """Not in this state (409), naming the state and what may be done in it."""

    status = 409

    def __init__(self, message: str, state: str, allowed: list[str]) -> None:
        super().__init__(message)
        self.state = state
        self.allowed = allowed


class StaleVersion(NotAllowed):
    """Someone acted first: the request was decided on an older version (409)."""


class Forbidden(Refused):
    """The wrong role, an operator token, or another agency's case (403)."""

    status = 403


class InvalidField(Refused):
    """A field that breaks a rule of the workflow (422), named."""

    status = 422

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


# -- deciding -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Facts:
    """What deciding an action needs to know about the case, read before it."""

    case: Case
    complaint: Complaint
    drafts: tuple[Draft, ...] = ()
    """Every version of the nota dinas draft, oldest first."""
    notas: tuple[NotaDinas, ...] = ()
    """Every approved nota dinas, oldest first."""
    pejabat: frozenset[str] = frozenset()
    """Usernames of the active pejabat_penghubung of the case's agency."""
    original: Complaint | None = None
    """For `arsipkan`: the complaint named by `duplicate_of`, if there is one."""

    @property
    def state(self) -> CaseState:
        return CaseState(self.case.state)

    @property
    def latest_draft(self) -> Draft | None:
        return self.drafts[-1] if self.drafts else None

    @property
    def latest_nota(self) -> NotaDinas | None:
        return self.notas[-1] if self.notas else None

    @property
    def has_new_draft(self) -> bool:
        """A draft written since the last approval (the one `ajukan` submits)."""
        draft, nota = self.latest_draft, self.latest_nota
        return draft is not None and (nota is None or draft.version > nota.draft_version)

    @property
    def unpublished_nota(self) -> NotaDinas | None:
        nota = self.latest_nota
        return nota if nota is not None and nota.published_at is None else None


def acts_on_agency(actor: Actor, case: Case) -> bool:
    """An agency role acts only on cases now with its own agency."""
    return actor.role not in AGENCY_ROLES or (
        case.agency is not None and actor.agency == case.agency
    )


def allowed_actions(facts: Facts, actor: Actor) -> list[Action]:
    """What `actor` may do to the case now, in the table's order."""
    if not actor.may_act:
        return []
    return [
        action
        for action, rule in RULES.items()
        if rule.role is actor.role
        and facts.state in rule.states
        and acts_on_agency(actor, facts.case)
        and _precondition(action, facts) is None
    ]


def _precondition(action: Action, facts: Facts) -> str | None:
    """Why an action allowed in this state still cannot be taken, if it cannot."""
    if action is Action.AJUKAN and not facts.has_new_draft:
        return "Belum ada konsep nota dinas yang baru untuk diajukan."
    if action is Action.TERBITKAN and facts.unpublished_nota is None:
        return "Tidak ada nota dinas yang disetujui untuk diterbitkan."
    return None


def decide(facts: Facts, actor: Actor, request: _Request, ctx: Decision) -> Transition:
    """The transition `request` makes, or a `Refused` saying why it makes none."""
    action = Action(getattr(request, "action"))  # noqa: B009 (every request model has one)
    rule = RULES[action]
    _authorise(facts, actor, action, rule)
    if request.version != facts.case.version:
        raise StaleVersion(
            f"Kasus sudah diubah oleh orang lain (versi {facts.case.version}, "
            f"bukan {request.version}). Muat ulang.",
            facts.state.value,
            [a.value for a in allowed_actions(facts, actor)],
        )
    if facts.state not in rule.states:
        allowed = [a.value for a in allowed_actions(facts, actor)]
        raise NotAllowed(
            f"Aksi {action.value} tidak dapat dilakukan pada status {facts.state.value}.",
            facts.state.value,
            allowed,
        )
    problem = _precondition(action, facts)
    if problem is not None:
        allowed = [a.value for a in allowed_actions(facts, actor)]
        raise NotAllowed(problem, facts.state.value, allowed)
    base = begin(facts.case, rule.to, action.value, ctx.now, actor)
    return _DECIDERS[action](facts, actor, request, ctx, base)


def _authorise(facts: Facts, actor: Actor, action: Action, rule: Rule) -> None:
    if not actor.may_act:
        raise Forbidden("Token operator hanya dapat membaca; aksi dilakukan dengan akun bernama.")
    if actor.role is not rule.role:
        raise Forbidden(f"Aksi {action.value} hanya untuk peran {rule.role.value}.")
    if not acts_on_agency(actor, facts.case):
        raise Forbidden("Kasus ini tidak berada pada instansi Anda.")


# Each decider completes the transition `base` (state, version, event, due date) with what
# its action changes and says to the citizen.


def _verifikasi(f: Facts, a: Actor, r: _Request, ctx: Decision, base: Transition) -> Transition:
    assert isinstance(r, Verifikasi)
    profile = ctx.profile
    agency = _agency(profile, r.agency, "agency")
    if r.category is not None and r.category not in profile.category_by_code:
        raise InvalidField("category", f"unknown category {r.category!r}")
    complaint = f.complaint
    for name in ("anonymous", "confidential"):
        if getattr(r, name) is False and getattr(complaint, name):
            raise InvalidField(name, "can only be turned on, not off")
    changes = ComplaintChanges(
        category=r.category,
        classification=r.classification,
        anonymous=True if r.anonymous and not complaint.anonymous else None,
        confidential=True if r.confidential and not complaint.confidential else None,
    )
    notice = ctx.notice(
        "verified", "notice.verified", f.case.tracking_id, agency=profile.agency_names[agency]
    )
    return base.with_(
        note=r.note,
        data={"agency": agency, **changes.recorded()},
        agency=agency,
        verified_at=f.case.verified_at or ctx.now,
        complaint=changes,
        notices=(notice,),
    )


def _tunda(f: Facts, a: Actor, r: _Request, ctx: Decision, base: Transition) -> Transition:
    assert isinstance(r, Tunda)
    notice = ctx.notice("question", "notice.question", f.case.tracking_id, question=r.question)
    return base.with_(
        note=r.question, data={"question": r.question}, held_at=ctx.now, notices=(notice,)
    )


def _tolak(f: Facts, a: Actor, r: _Request, ctx: Decision, base: Transition) -> Transition:
    assert isinstance(r, Tolak)
    # Spam gets no answer: answering confirms the number works and costs an SMS.
    notices = (
        ()
        if r.reason == "spam"
        else (ctx.notice("rejected", f"notice.rejected.{r.reason}", f.case.tracking_id),)
    )
    return base.with_(note=r.note, data={"reason": r.reason}, notices=notices)


def _arsipkan(f: Facts, a: Actor, r: _Request, ctx: Decision, base: Transition) -> Transition:
    assert isinstance(r, Arsipkan)
    original = f.original
    if original is None:
        raise InvalidField("duplicate_of", "no complaint has this tracking ID")
    if original.id == f.complaint.id:
        raise InvalidField("duplicate_of", "a complaint cannot duplicate itself")
    notice = ctx.notice(
        "archived", "notice.archived", f.case.tracking_id, original=original.tracking_id
    )
    return base.with_(note=r.note, data={"duplicate_of": original.tracking_id}, notices=(notice,))


def _disposisi(f: Facts, a: Actor, r: _Request, ctx: Decision, base: Transition) -> Transition:
    assert isinstance(r, Disposisi)
    if r.to not in f.pejabat:
        raise InvalidField("to", f"{r.to!r} is not an active pejabat_penghubung of {f.case.agency}")
    return base.with_(note=r.note, data={"to": r.to}, assignee=r.to)


def _kembalikan(f: Facts, a: Actor, r: _Request, ctx: Decision, base: Transition) -> Transition:
    assert isinstance(r, Kembalikan)
    # Back to the Admin Penghubung, who forwards it again: no agency holds it meanwhile.
    return base.with_(note=r.reason, data={"reason": r.reason}, agency=None, assignee=None)


def _alihkan(f: Facts, a: Actor, r: _Request, ctx: Decision, base: Transition) -> Transition:
    assert isinstance(r, Alihkan)
    agency = _agency(ctx.profile, r.agency, "agency")
    if agency == f.case.agency:
        raise InvalidField("agency", f"the case is already with {agency}")
    return base.with_(
        note=r.note, data={"from": f.case.agency, "agency": agency}, agency=agency, assignee=None
    )


def _tindak_lanjut(f: Facts, a: Actor, r: _Request, ctx: Decision, base: Transition) -> Transition:
    assert isinstance(r, TindakLanjut)
    agency = ctx.profile.agency_names.get(f.case.agency or "", f.case.agency or "")
    notice = ctx.notice("handling", "notice.handling", f.case.tracking_id, agency=agency)
    return base.with_(note=r.text, data={"text": r.text}, notices=(notice,))


def _konsep(f: Facts, a: Actor, r: _Request, ctx: Decision, base: Transition) -> Transition:
    assert isinstance(r, Konsep)
    version = (f.latest_draft.version if f.latest_draft else 0) + 1
    draft = Draft(
        version=version,
        agency=f.case.agency or "",
        perihal=r.perihal,
        isi=r.isi,
        author=a.username,
        created_at=ctx.now,
    )
    return base.with_(note=r.perihal, data={"draft_version": version}, draft=draft)


def _ajukan(f: Facts, a: Actor, r: _Request, ctx: Decision, base: Transition) -> Transition:
    assert isinstance(r, Ajukan) and f.latest_draft is not None
    return base.with_(note=r.note, data={"draft_version": f.latest_draft.version})


def _setujui(f: Facts, a: Actor, r: _Request, ctx: Decision, base: Transition) -> Transition:
    assert isinstance(r, Setujui) and f.latest_draft is not None
    approval = approval_of(f.latest_draft, a, ctx.now, ctx.profile)
    return base.with_(
        note=r.note,
        data={"draft_version": approval.draft_version, "sha256": approval.sha256},
        approval=approval,
    )


def _kembalikan_konsep(
    f: Facts, a: Actor, r: _Request, ctx: Decision, base: Transition
) -> Transition:
    assert isinstance(r, KembalikanKonsep)
    version = f.latest_draft.version if f.latest_draft else None
    return base.with_(note=r.note, data={"draft_version": version})


def _terbitkan(f: Facts, a: Actor, r: _Request, ctx: Decision, base: Transition) -> Transition:
    nota = f.unpublished_nota
    assert nota is not None
    agency = ctx.profile.agency_names.get(nota.agency, nota.agency)
    tracking_id = f.case.tracking_id
    answer = ctx.notice("answer", "notice.answer", tracking_id, agency=agency, answer=nota.text)
    return base.with_(
        data={"number": nota.number, "sha256": nota.sha256},
        answered_at=ctx.now,
        publish=nota.number,
        notices=(answer, ctx.notice("rate", "notice.rate", tracking_id)),
    )


_DECIDERS = {
    Action.VERIFIKASI: _verifikasi,
    Action.TUNDA: _tunda,
    Action.TOLAK: _tolak,
    Action.ARSIPKAN: _arsipkan,
    Action.DISPOSISI: _disposisi,
    Action.KEMBALIKAN: _kembalikan,
    Action.ALIHKAN: _alihkan,
    Action.TINDAK_LANJUT: _tindak_lanjut,
    Action.KONSEP: _konsep,
    Action.AJUKAN: _ajukan,
    Action.SETUJUI: _setujui,
    Action.KEMBALIKAN_KONSEP: _kembalikan_konsep,
    Action.TERBITKAN: _terbitkan,
}


def _agency(profile: Profile, code: str, field: str) -> str:
    if code not in profile.agency_names:
        raise InvalidField(field, f"unknown agency {code!r}")
    return code


WAITING_FOR: dict[Role, tuple[CaseState, ...]] = {
    PENGHUBUNG: (S.DITERIMA,),
    OPD: (S.DITERUSKAN, S.DITINDAKLANJUTI, S.DISETUJUI),
    PEJABAT: (S.DIDISPOSISI, S.MENUNGGU_PERSETUJUAN),
}
"""The states in which a case waits for a role's own hand (its "Tugas saya"); a case the
Admin Penghubung may still redirect (`alihkan`) waits for the agency, not for them."""
