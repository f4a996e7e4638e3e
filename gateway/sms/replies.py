"""The words of every SMS reply, from the profile's message catalogue (`sms.*`)."""

from __future__ import annotations

from config.profile import Profile
from gateway.views import long_date
from normalizer.commands import Command
from normalizer.models import Case, Complaint
from normalizer.tracking import TRACKING_ID_LENGTH

EXAMPLE_ID = "K7M2XQ9PD"
ACK_KEYS = ("sms.ack", "sms.ack_too_short")


class SmsReplies:
    def __init__(self, profile: Profile) -> None:
        self._profile = profile

    def render(self, key: str, **values: object) -> str:
        p = self._profile
        return p.message(key, regency=p.regency, short_code=p.sms.short_code, **values)

    def ack(self, complaint: Complaint, too_short: bool) -> str:
        key = "sms.ack_too_short" if too_short else "sms.ack"
        return self.render(key, tracking_id=complaint.tracking_id)

    def status(self, complaint: Complaint, case: Case | None) -> str:
        if case is None:
            return self.render("sms.status_pending", tracking_id=complaint.tracking_id)
        return self.render(
            "sms.status",
            tracking_id=complaint.tracking_id,
            state=self._profile.message(f"state.{case.state}"),
            completion_due=long_date(case.completion_due),
        )

    def not_found(self, tracking_id: str) -> str:
        return self.render("sms.not_found", tracking_id=tracking_id)

    def bad_id(self, command: Command) -> str:
        """The reply to `CEK`/`TAMBAH` without a usable tracking ID."""
        if command.id_problem == "missing":
            verb = "CEK" if command.intent == "status" else "TAMBAH"
            return self.render("sms.id_missing", example=f"{verb} {EXAMPLE_ID}")
        # Echo only what could be an ID: the rest of a long message is not repeated back.
        given = command.text.split()[0][: TRACKING_ID_LENGTH + 2] if command.text else ""
        return self.render("sms.mistyped", given=given)

    def followup_added(self, complaint: Complaint) -> str:
        return self.render("sms.followup_added", tracking_id=complaint.tracking_id)

    def help(self) -> str:
        return self.render("sms.help")

    def incomplete_marker(self, missing: list[int], total: int) -> str:
        return self.render(
            "sms.incomplete_marker", missing=", ".join(map(str, missing)), total=total
        )
