"""The citizen's own steps in the workflow: an answer to the Admin Penghubung's question
returns the case for verification, and a rating closes the answered case, or (the first
time they are not satisfied) sends it back to the agency's Pejabat Penghubung.

The citizen hears nothing more from these steps: the channel they wrote on already
thanked them (workflow/commands.py), as the status page does."""

from __future__ import annotations

from normalizer.casework import CitizenReply, Transition
from normalizer.models import Case
from store.workflow import CaseRecord
from workflow.states import CaseState
from workflow.transition import CITIZEN, Decision, begin

PUAS, TIDAK_PUAS = "puas", "tidak_puas"


def citizen_step(record: CaseRecord, reply: CitizenReply, ctx: Decision) -> Transition | None:
    """The step the reply makes, if any. A follow-up on a case not on hold, or a rating of
    a case not (or no longer) waiting for one, is only kept on the timeline."""
    case = record.case
    state = CaseState(case.state)
    if reply.kind == "followup" and state is CaseState.DITUNDA:
        step = begin(case, CaseState.DITERIMA, "jawaban_warga", ctx.now, CITIZEN)
        return step.with_(note=reply.text, data={"channel": reply.channel.value})
    if reply.kind != "rating" or state is not CaseState.DIJAWAB:
        return None
    data = {"rating": reply.rating, "channel": reply.channel.value}
    if reply.rating == PUAS:
        return _closed(case, ctx, reply).with_(rating=PUAS, data=data)
    if case.dissatisfied == 0:
        # Not satisfied, the first time: the agency's Pejabat decides a new follow-up.
        step = begin(case, CaseState.DIDISPOSISI, "penilaian", ctx.now, CITIZEN)
        return step.with_(note=reply.text or None, data=data, rating=TIDAK_PUAS, dissatisfied=1)
    # Not satisfied again: recorded, and the case closes.
    return _closed(case, ctx, reply).with_(
        rating=TIDAK_PUAS, dissatisfied=case.dissatisfied + 1, data=data
    )


def _closed(case: Case, ctx: Decision, reply: CitizenReply) -> Transition:
    step = begin(case, CaseState.SELESAI, "penilaian", ctx.now, CITIZEN)
    return step.with_(note=reply.text or None)
