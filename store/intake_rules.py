"""What intake decides alike on every backend: a message taken in before is answered with
its complaint (or refused when it now asks for something else), and a draft whose
duplicate key matches a complaint received within the window gets that complaint."""

from __future__ import annotations

from datetime import timedelta

from normalizer.models import Complaint, ComplaintDraft
from store.base import IdempotencyConflict, IntakeResult


def first_within(
    candidates: list[Complaint] | None, draft: ComplaintDraft, window: timedelta
) -> Complaint | None:
    """The first complaint received no longer than `window` before the draft."""
    since = draft.received_at - window
    return next((c for c in candidates or () if c.received_at >= since), None) if window else None


def replay(prior: Complaint, draft: ComplaintDraft) -> IntakeResult | IdempotencyConflict:
    if draft.request_hash and prior.request_hash and draft.request_hash != prior.request_hash:
        return IdempotencyConflict(
            f"{draft.channel.value} message {draft.external_id!r} was already used "
            "for a different request"
        )
    return IntakeResult(complaint=prior, created=False)
