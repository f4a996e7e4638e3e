"""The workflow as a service: what the API, the console, the dispatcher and the command
line call, so that they always agree. It reads what a step needs, has the pure rules
decide it (actions.py, citizen.py, sweep.py) and has the store commit it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from config.profile import Profile
from normalizer.casework import Transition
from normalizer.models import Case, Complaint
from normalizer.tracking import InvalidTrackingId, parse_tracking_id
from store.base import Store
from store.workflow import CaseRecord, StaleCase
from workflow.actions import (
    Action,
    Arsipkan,
    Disposisi,
    Facts,
    NotAllowed,
    Refused,
    StaleVersion,
    _Request,
    allowed_actions,
    decide,
)
from workflow.citizen import citizen_step
from workflow.roles import REGENCY_READERS, Actor
from workflow.sweep import sweep_steps
from workflow.transition import Decision
from workflow.visibility import Sight, sight

log = logging.getLogger(__name__)
SWEEP_BATCH = 500
CITIZEN_RETRIES = 3


class NotFound(Refused):
    """No such complaint, or one the actor may not know of (404)."""

    status = 404


@dataclass(frozen=True)
class CaseView:
    """A complaint as one actor may see it, with what they may do to it now."""

    complaint: Complaint
    record: CaseRecord | None
    sight: Sight
    allowed: list[Action]


class WorkflowService:
    def __init__(
        self,
        store: Store,
        profile: Profile,
        clock: Callable[[], datetime],
        status_url: Callable[[str], str],
    ) -> None:
        self._store = store
        self._profile = profile
        self._clock = clock
        self._status_url = status_url

    def decision(self, tracking_id: str, now: datetime | None = None) -> Decision:
        return Decision(self._profile, now or self._clock(), self._status_url(tracking_id))

    async def view(self, tracking_id: str, actor: Actor) -> CaseView:
        """The case for `actor`; NotFound if it does not exist or is none of their business."""
        complaint = await self._complaint(tracking_id)
        record = await self._store.case_record(complaint.id)
        if record is None:
            # Not opened yet (the dispatcher is a moment behind): only the regency's
            # readers know of it, as no agency holds it.
            seen = Sight.FULL if actor.role in REGENCY_READERS else Sight.NONE
        else:
            seen = sight(actor, record)
        if seen is Sight.NONE:
            raise NotFound("Laporan tidak ditemukan.")
        allowed = (
            allowed_actions(self._facts(record), actor)
            if record is not None and seen is Sight.FULL
            else []
        )
        return CaseView(complaint, record, seen, allowed)

    async def act(self, tracking_id: str, actor: Actor, request: _Request) -> Case:
        """Take one action as `actor`; a Refused (NotFound, Forbidden, NotAllowed,
        StaleVersion, InvalidField) says why it was not taken."""
        view = await self.view(tracking_id, actor)
        if view.record is None:
            raise NotAllowed("Kasus belum dibuka; coba lagi sebentar lagi.", "", [])
        facts = self._facts(view.record)
        if isinstance(request, Disposisi) and facts.case.agency:
            facts = _with(facts, pejabat=await self._store.pejabat_of(facts.case.agency))
        if isinstance(request, Arsipkan):
            facts = _with(facts, original=await self._original(request.duplicate_of))
        transition = decide(facts, actor, request, self.decision(tracking_id))
        try:
            return await self._store.apply(transition)
        except StaleCase as exc:
            current = exc.case
            allowed = (
                allowed_actions(_with(facts, case=current), actor) if current is not None else []
            )
            raise StaleVersion(
                "Kasus sudah diubah oleh orang lain. Muat ulang.",
                current.state if current else "",
                [a.value for a in allowed],
            ) from None

    async def take_citizen_reply(self, followup_id: int) -> Transition | None:
        """The workflow's side of a citizen's reply or rating (from the outbox): the step
        it makes, committed, or None when it makes none. Retried on a case that changed
        meanwhile; idempotent, as a step never applies twice to one state."""
        reply = await self._store.citizen_reply(followup_id)
        if reply is None:
            return None
        for _ in range(CITIZEN_RETRIES):
            record = await self._store.case_record(reply.complaint_id)
            if record is None:
                return None
            step = citizen_step(record, reply, self.decision(record.case.tracking_id))
            if step is None:
                return None
            try:
                await self._store.apply(step)
            except StaleCase:
                continue
            return step
        log.warning("citizen reply %d not applied: the case kept changing", followup_id)
        return None

    async def sweep(self, now: datetime, *, apply: bool) -> list[Transition]:
        """What time does to open cases as of `now`; committed only with `apply`."""
        done: list[Transition] = []
        for case in await self._store.sweep_candidates(now, SWEEP_BATCH):
            for step in sweep_steps(case, self.decision(case.tracking_id, now)):
                if apply:
                    try:
                        await self._store.apply(step)
                    except StaleCase:
                        break  # someone acted meanwhile; the next sweep looks again
                done.append(step)
        return done

    async def _complaint(self, tracking_id: str) -> Complaint:
        try:
            canonical = parse_tracking_id(tracking_id)
        except InvalidTrackingId:
            raise NotFound("Nomor pelacakan tidak valid.") from None
        complaint = await self._store.get_complaint(canonical)
        if complaint is None:
            raise NotFound("Laporan tidak ditemukan.")
        return complaint

    async def _original(self, given: str) -> Complaint | None:
        try:
            return await self._store.get_complaint(parse_tracking_id(given))
        except InvalidTrackingId:
            return None

    def _facts(self, record: CaseRecord) -> Facts:
        return Facts(
            case=record.case,
            complaint=record.complaint,
            drafts=record.drafts,
            notas=record.notas,
        )


def _with(facts: Facts, **changes: Any) -> Facts:
    return replace(facts, **changes)
