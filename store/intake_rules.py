"""What intake decides alike on every backend: a message taken in before is answered with
its complaint (or refused when it now asks for something else), and a draft whose
duplicate key matches a complaint received within the window gets that complaint."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import uuid6

from normalizer.models import Complaint, ComplaintDraft
from normalizer.tracking import generate_tracking_id
from store.base import IdempotencyConflict, IntakeResult

Known = dict[tuple[str, str | None], Complaint]
"""Complaints already taken in, by (channel, external id)."""
Recent = dict[str, list[Complaint]]
"""Complaints received lately, by duplicate key, oldest first."""


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


def decide(
    items: Sequence[tuple[ComplaintDraft, timedelta]],
    known: Known,
    recent: Recent,
    now: datetime,
    rng: random.Random,
) -> tuple[list[Any], list[tuple[ComplaintDraft, Complaint]]]:
    """Each draft's answer, in order (a replay, the complaint it duplicates, a conflict, or
    a new complaint), and the new complaints with their drafts, to be written. `known` and
    `recent` grow with the new ones, so a draft later in the batch finds an earlier one."""
    results: list[Any] = []
    created: list[tuple[ComplaintDraft, Complaint]] = []
    for draft, window in items:
        key = (draft.channel.value, draft.external_id)
        prior = known.get(key) if draft.external_id else None
        if prior is not None:
            results.append(replay(prior, draft))
            continue
        earlier = first_within(recent.get(draft.duplicate_key or ""), draft, window)
        if earlier is not None:
            results.append(IntakeResult(complaint=earlier, created=False))
            continue
        complaint = Complaint(
            **{**draft.__dict__, "raw": None},  # the payload is stored, not carried
            # Time-ordered (UUIDv7), not random: five indexes are keyed by it (the
            # complaints', raw payloads', cases', case events' and SMS records'), and a
            # random key dirties a page anywhere in each on every insert. Its time part
            # is no clock: past 1000 ids a second the library moves it on to keep order.
            id=uuid6.uuid7().hex,
            tracking_id=generate_tracking_id(rng),
            created_at=now,
        )
        if draft.external_id:
            known[key] = complaint
        if draft.duplicate_key:
            recent.setdefault(draft.duplicate_key, []).append(complaint)
        created.append((draft, complaint))
        results.append(IntakeResult(complaint=complaint, created=True))
    return results, created
