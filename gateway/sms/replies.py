"""The words of every SMS reply, from the profile's message catalogue (`sms.*`)."""

from __future__ import annotations

from config.profile import Profile
from gateway.views import long_date
from normalizer.commands import Command
from normalizer.models import Case, Complaint
from normalizer.tracking import TRACKING_ID_LENGTH

EXAMPLE_ID = "K7M2XQ9PD"


class SmsReplies:
    def __init__(self, profile: Profile) -> None:
        self._profile = profile

    def _say(self, key: str, **values: object) -> str:
        p = self._profile
        return p.message(key, regency=p.regency, short_code=p.sms.short_code, **values)

    def ack(self, complaint: Complaint, too_short: bool) -> str:
        key = "sms.ack_too_short" if too_short else "sms.ack"
        return self._say(key, tracking_id=complaint.tracking_id)

    def status(self, complaint: Complaint, case: Case | None) -> str:
        if case is None:
            return self._say("sms.status_pending", tracking_id=complaint.tracking_id)
        return self._say(
            "sms.status",
            tracking_id=complaint.tracking_id,
            state=self._profile.message(f"state.{case.state}"),
            completion_due=long_date(case.completion_due),
        )

    def not_found(self, tracking_id: str) -> str:
        return self._say("sms.not_found", tracking_id=tracking_id)

    def bad_id(self, command: Command) -> str:
        """The reply to `CEK`/`TAMBAH` without a usable tracking ID."""
        if command.id_problem == "missing":
            verb = "CEK" if command.intent == "status" else "TAMBAH"
            return self._say("sms.id_missing", example=f"{verb} {EXAMPLE_ID}")
        # Echo only what could be an ID: the rest of a long message is not repeated back.
        given = command.text.split()[0][: TRACKING_ID_LENGTH + 2] if command.text else ""
        return self._say("sms.mistyped", given=given)

    def followup_added(self, complaint: Complaint) -> str:
        return self._say("sms.followup_added", tracking_id=complaint.tracking_id)

    def help(self) -> str:
        return self._say("sms.help")

    def incomplete_marker(self, missing: list[int], total: int) -> str:
        return self._say("sms.incomplete_marker", missing=", ".join(map(str, missing)), total=total)
