"""What every HTTP-based SMS sender shares: one attempt per call, a bounded wait, and
errors that say whether trying again may help without ever carrying a secret, the text
or a full phone number (operators read them in logs; citizens' numbers are personal data).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import quote, quote_plus

import aiohttp

from channels.sms.models import SendError

# 408 and 429 are the client errors that say "not now" rather than "never".
_RETRY_LATER: Final = frozenset({408, 429})
_EXCERPT_CHARS: Final = 80
# Seven or more digits in a row are taken to be a phone number (the shortest Indonesian
# subscriber numbers have seven digits after the area code).
_DIGIT_RUN: Final = re.compile(r"\+?\d{7,}")


def mask_phone(number: str) -> str:
    """`+6281234567890` → `+62812****7890`: enough for an operator to tell numbers apart."""
    if len(number) < 10:
        return "****" + number[-2:]
    return number[:6] + "****" + number[-4:]


def basic_auth(user: str, password: str) -> dict[str, str]:
    """An HTTP Basic `Authorization` header (aiohttp's BasicAuth is deprecated)."""
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return {"Authorization": f"Basic {token}"}


def retry_may_help(status: int) -> bool:
    """Whether an HTTP error status is the provider's "later" (overload, outage, throttle)."""
    return status >= 500 or status in _RETRY_LATER


def answer_excerpt(body: str, *, hide: Iterable[str]) -> str:
    """The first line of a provider's answer, short, phone numbers masked; empty when the
    answer echoes any value of `hide` (a proxy's error page may quote the request URL, and
    Kannel's carries the password)."""
    for value in hide:
        if value and any(form in body for form in (value, quote(value), quote_plus(value))):
            return ""
    first_line = body.strip().split("\n", 1)[0].strip()
    masked = _DIGIT_RUN.sub(lambda match: mask_phone(match.group()), first_line)
    return masked[:_EXCERPT_CHARS]


@dataclass(frozen=True)
class Answer:
    status: int
    text: str


class ProviderHttp:
    """One provider's HTTP session, made on first use so a sender can be built before the
    event loop runs, and one request per call: the outbound worker owns retries."""

    def __init__(self, provider: str, timeout: float) -> None:
        self.provider = provider
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def request(
        self,
        method: str,
        url: str,
        *,
        recipient: str,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Answer:
        """Send and read the whole answer within the timeout; any failure to get an answer
        is a transient SendError (the provider may have been briefly unreachable)."""
        try:
            async with self._client().request(
                method, url, params=params, data=data, headers=headers
            ) as response:
                return Answer(response.status, await response.text(errors="replace"))
        except aiohttp.InvalidURL:
            # A configuration mistake: retrying cannot fix it. The URL itself is left out
            # because Kannel's carries credentials in its query.
            raise self.error(recipient, "the configured URL is invalid", transient=False) from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            # The exception's own message may quote the request URL; its type is enough.
            reason = (
                "no answer in time"
                if isinstance(exc, TimeoutError)
                else f"connection failed ({type(exc).__name__})"
            )
            raise self.error(recipient, reason, transient=True) from None

    def error(self, recipient: str, reason: str, *, transient: bool) -> SendError:
        return SendError(
            f"{self.provider}: not sent to {mask_phone(recipient)}: {reason}", transient=transient
        )

    def refused(self, recipient: str, answer: Answer, *reasons: str) -> SendError:
        """An HTTP error answer, transient when the status says "later"; empty reasons
        (an answer with nothing safe to quote) are left out."""
        detail = ", ".join([f"HTTP {answer.status}", *filter(None, reasons)])
        return self.error(recipient, detail, transient=retry_may_help(answer.status))

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
            # aiohttp silently sends a GET again when the connection drops before an answer
            # (aiohttp#10790). A sendsms GET is no idempotent read: the first may have gone
            # out as an SMS. Only this private switch (aiohttp >= 3.11) turns that off.
            self._session._retry_connection = False
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
