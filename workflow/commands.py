"""What a citizen can say on any text channel, handled once for all of them.

The first word decides (normalizer/commands.py): a new complaint, `CEK <ID>`, `INFO`,
`TAMBAH <ID> …` (an answer to a question on hold returns the case for verification),
`PUAS <ID>` / `TIDAK PUAS <ID> …`. `plan` works out, before anything is written, what the
message files and what it is answered; the channel then commits the plan together with its
own records (an SMS with its reply), so a retried delivery gets the same answer.
"""

from __future__ import annotations

from collections.abc import Callable

from config.locale import long_date
from config.profile import Profile
from normalizer.casework import CitizenReply
from normalizer.commands import CitizenPlan, CitizenText, Command, Intent, parse_command
from normalizer.models import Case, Channel, Complaint, Flag, Inbound
from normalizer.normalize import normalize
from normalizer.text import clean_text
from normalizer.tracking import TRACKING_ID_LENGTH
from store.base import Store
from workflow.citizen import PUAS, TIDAK_PUAS
from workflow.states import CaseState

EXAMPLE_ID = "K7M2XQ9PD"


def _says(text: str) -> Callable[[Complaint | None], str | None]:
    return lambda _: text


class CommandReplies:
    """The words of every answer, from the profile's catalogue (`sms.*`: short texts
    that fit an SMS, and read as well in a chat)."""

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
        """The reply to `CEK`/`TAMBAH`/`PUAS` without a usable tracking ID."""
        if command.id_problem == "missing":
            verb = {Intent.STATUS: "CEK", Intent.RATING: "PUAS"}.get(command.intent, "TAMBAH")
            return self.render("sms.id_missing", example=f"{verb} {EXAMPLE_ID}")
        # Echo only what could be an ID: the rest of a long message is not repeated back.
        given = command.text.split()[0][: TRACKING_ID_LENGTH + 2] if command.text else ""
        return self.render("sms.mistyped", given=given)

    def followup_added(self, complaint: Complaint) -> str:
        return self.render("sms.followup_added", tracking_id=complaint.tracking_id)

    def rated(self, complaint: Complaint, reopened: bool) -> str:
        key = "sms.reopened" if reopened else "sms.rated"
        return self.render(key, tracking_id=complaint.tracking_id)

    def not_rateable(self, complaint: Complaint) -> str:
        return self.render("sms.not_rateable", tracking_id=complaint.tracking_id)

    def help(self) -> str:
        return self.render("sms.help")


class CitizenCommands:
    def __init__(self, store: Store, profile: Profile, min_complaint_chars: int) -> None:
        self._store = store
        self._profile = profile
        self._min_chars = min_complaint_chars
        self.replies = CommandReplies(profile)

    async def plan(self, message: CitizenText) -> CitizenPlan:
        command = parse_command(message.text, self._min_chars)
        if command.intent is Intent.HELP:
            return CitizenPlan(Intent.HELP, _says(self.replies.help()), flags=message.flags)
        if command.intent is Intent.STATUS:
            return await self._status(command, message)
        if command.intent is Intent.RATING:
            return await self._rating(command, message)
        if command.intent is Intent.FOLLOW_UP:
            plan = await self._follow_up(command, message)
            if plan is not None:
                return plan
            # `<ID> text` where the ID is not one of this sender's: just a complaint that
            # happens to begin with a word shaped like an ID.
            command = Command(intent=Intent.COMPLAINT, text=message.text, keyword=False)
        return self._complaint(command, message)

    def _complaint(self, command: Command, message: CitizenText) -> CitizenPlan:
        # Never empty: a message without a word is a help request (normalizer.commands).
        text = clean_text(command.text)
        # A photo shows what a few words (or none) leave out.
        too_short = len(text) < self._min_chars and not message.has_media
        flags = message.flags + ((Flag.TOO_SHORT,) if too_short else ())
        inbound = Inbound(
            channel=message.channel,
            external_id=message.external_id,
            sender=message.sender,
            text=text,
            received_at=message.received_at,
            raw=message.raw,
            reporter=message.reporter,
            flags=flags,
        )

        def acknowledge(complaint: Complaint | None) -> str | None:
            # A resend within the duplicate window gets the first complaint and its reply.
            assert complaint is not None
            return self.replies.ack(complaint, Flag.TOO_SHORT in complaint.flags)

        draft = normalize(inbound, self._profile)
        return CitizenPlan(Intent.COMPLAINT, acknowledge, flags=flags, draft=draft)

    async def _status(self, command: Command, message: CitizenText) -> CitizenPlan:
        found = await self._owned_by_sender(command, message)
        if isinstance(found, CitizenPlan):
            return found
        case = await self._store.get_case(found.id)
        reply = self.replies.status(found, case)
        return CitizenPlan(Intent.STATUS, _says(reply), found.id, message.flags)

    async def _follow_up(self, command: Command, message: CitizenText) -> CitizenPlan | None:
        found = await self._owned_by_sender(command, message)
        if isinstance(found, CitizenPlan):
            return found if command.keyword or command.tracking_id is None else None
        text = clean_text(command.text)
        if not text:
            return CitizenPlan(
                Intent.FOLLOW_UP, _says(self.replies.help()), found.id, message.flags
            )
        reply = self._reply(found, message, text)
        answer = _says(self.replies.followup_added(found))
        return CitizenPlan(Intent.FOLLOW_UP, answer, found.id, message.flags, reply=reply)

    async def _rating(self, command: Command, message: CitizenText) -> CitizenPlan:
        found = await self._owned_by_sender(command, message)
        if isinstance(found, CitizenPlan):
            return found
        case = await self._store.get_case(found.id)
        if case is None or case.state != CaseState.DIJAWAB:
            answer = _says(self.replies.not_rateable(found))
            return CitizenPlan(Intent.RATING, answer, found.id, message.flags)
        rating = PUAS if command.satisfied else TIDAK_PUAS
        reopens = rating == TIDAK_PUAS and case.dissatisfied == 0
        reply = self._reply(found, message, clean_text(command.text), rating=rating)
        answer = _says(self.replies.rated(found, reopens))
        return CitizenPlan(Intent.RATING, answer, found.id, message.flags, reply=reply)

    def _reply(
        self, complaint: Complaint, message: CitizenText, text: str, rating: str | None = None
    ) -> CitizenReply:
        return CitizenReply(
            complaint_id=complaint.id,
            channel=message.channel,
            external_id=message.external_id,
            text=text,
            received_at=message.received_at,
            kind="rating" if rating else "followup",
            rating=rating,
        )

    async def _owned_by_sender(
        self, command: Command, message: CitizenText
    ) -> Complaint | CitizenPlan:
        """The complaint the command names, or the plan of the reply saying why there is none."""
        if command.tracking_id is None:
            reply = self.replies.bad_id(command)
            return CitizenPlan(command.intent, _says(reply), flags=message.flags)
        complaint = await self._store.get_complaint(command.tracking_id)
        if complaint is None or not owns(complaint, message.channel, message.sender):
            # A status is nobody else's business: another sender hears "not found", as
            # for a wrong ID.
            reply = self.replies.not_found(command.tracking_id)
            return CitizenPlan(command.intent, _says(reply), flags=message.flags)
        return complaint


def owns(complaint: Complaint, channel: Channel, sender: str) -> bool:
    """Whether `sender` on `channel` filed the complaint or gave it as their contact."""
    reply = complaint.reply_to
    if reply is not None and reply.channel is channel and reply.address == sender:
        return True
    given = {Channel.SMS: complaint.reporter.phone, Channel.EMAIL: complaint.reporter.email}
    return given.get(channel) == sender
