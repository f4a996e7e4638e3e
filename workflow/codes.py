"""The citizen's 6-digit code for the public status page.

A tracking ID travels in public replies on X, so on the status page it only reads:
answering the Admin Penghubung's question or rating the answer also needs a code, sent on
request to the complaint's reply address (valid 30 minutes, used once) or printed on the
desk's receipt (valid as long as the case). Codes are kept only as hashes, and five
wrong tries end a code.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from enum import StrEnum

from config.profile import Profile
from normalizer.models import Complaint
from store.base import Store
from store.workflow import CitizenCode

SENT_VALID = timedelta(minutes=30)
RESEND_AFTER = timedelta(minutes=2)
MAX_ATTEMPTS = 5
DESK, SENT = "desk", "sent"


class CodeCheck(StrEnum):
    OK = "ok"
    WRONG = "wrong"
    LOCKED = "locked"


class CodeRequest(StrEnum):
    SENT = "sent"
    WAIT = "wait"
    UNREACHABLE = "unreachable"


def code_hash(complaint_id: str, code: str) -> str:
    return hashlib.sha256(f"{complaint_id}:{code}".encode()).hexdigest()


class StatusCodes:
    def __init__(self, store: Store, profile: Profile, clock: Callable[[], datetime]) -> None:
        self._store = store
        self._profile = profile
        self._clock = clock

    async def for_desk(self, complaint: Complaint) -> str:
        """A new code to print on the desk's receipt (it replaces an earlier receipt's)."""
        code = _new_code()
        await self._store.set_citizen_code(
            CitizenCode(
                complaint_id=complaint.id,
                kind=DESK,
                code_hash=code_hash(complaint.id, code),
                created_at=self._clock(),
            )
        )
        return code

    async def send(self, complaint: Complaint) -> CodeRequest:
        """Send a new code to the complaint's reply address, at most every two minutes."""
        if complaint.reply_to is None:
            return CodeRequest.UNREACHABLE
        now = self._clock()
        for known in await self._store.citizen_codes(complaint.id):
            if known.kind == SENT and now - known.created_at < RESEND_AFTER:
                return CodeRequest.WAIT
        code = _new_code()
        await self._store.set_citizen_code(
            CitizenCode(
                complaint_id=complaint.id,
                kind=SENT,
                code_hash=code_hash(complaint.id, code),
                created_at=now,
                expires_at=now + SENT_VALID,
            )
        )
        p = self._profile
        text = p.message(
            "notice.code", regency=p.regency, tracking_id=complaint.tracking_id, code=code
        )
        await self._store.add_notice(complaint.id, "code", text, now)
        return CodeRequest.SENT

    async def check(self, complaint: Complaint, given: str) -> CodeCheck:
        now = self._clock()
        usable = [
            c
            for c in await self._store.citizen_codes(complaint.id)
            if c.expires_at is None or now < c.expires_at
        ]
        if usable and all(c.attempts >= MAX_ATTEMPTS for c in usable):
            return CodeCheck.LOCKED
        wanted = code_hash(complaint.id, given.strip())
        for code in usable:
            if code.attempts < MAX_ATTEMPTS and hmac.compare_digest(code.code_hash, wanted):
                await self._store.count_code_attempt(complaint.id, code.kind, success=True)
                return CodeCheck.OK
        for code in usable:
            await self._store.count_code_attempt(complaint.id, code.kind, success=False)
        return CodeCheck.WRONG


def _new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"
