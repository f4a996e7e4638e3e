"""One way in for every channel: normalise, then commit through the store."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from channels.complaint_fields import ValidationContext
from config.profile import Profile
from normalizer.models import ComplaintDraft, Inbound
from normalizer.normalize import normalize
from store.base import IntakeResult, Store
from workflow.calendar import Deadline, case_deadlines


class IntakeService:
    def __init__(
        self,
        store: Store,
        profile: Profile,
        clock: Callable[[], datetime],
        duplicate_window: timedelta = timedelta(0),
    ) -> None:
        self.store = store
        self.profile = profile
        self.clock = clock
        self.duplicate_window = duplicate_window

    async def submit(self, inbound: Inbound) -> IntakeResult:
        """The committed complaint; an earlier one when this repeats it (see normalizer.dedup)."""
        return await self.store.intake(self.draft(inbound), self.duplicate_window)

    def draft(self, inbound: Inbound) -> ComplaintDraft:
        """The complaint as the store will keep it, for a channel that commits it together
        with its own records (an SMS with its reply)."""
        return normalize(inbound, self.profile)

    def validation_context(self) -> dict[str, ValidationContext]:
        today = self.clock().astimezone(self.profile.zone).date()
        context = ValidationContext(
            categories=frozenset(self.profile.category_by_code),
            agencies=frozenset(self.profile.agency_names),
            today=today,
        )
        return {"deployment": context}

    def deadlines(self, received_at: datetime) -> tuple[Deadline, Deadline]:
        """The deadlines the case will get, to promise them on the receipt."""
        return case_deadlines(self.profile, received_at)
