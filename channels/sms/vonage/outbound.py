"""Replies through the Vonage (Nexmo) SMS API (`POST {base_url}/sms/json`).

Vonage answers HTTP 200 even when it refuses a message: the verdict is the `status` of
each entry of `messages`, one entry per part of a long text, and every part must be "0".
Vonage splits long text itself but must be told `type=unicode` for text GSM-7 cannot carry,
or it replaces those characters.
"""

from __future__ import annotations

import json
from typing import Any, Final

from channels.sms.models import OutgoingSms, SendError, SendResult
from channels.sms.outbound_http import Answer, ProviderHttp
from channels.sms.segments import encoding_for

DEFAULT_BASE_URL = "https://rest.nexmo.com"

# The SMS API's status codes (developer.vonage.com/messaging/sms/guides/troubleshooting-sms
# and /api-errors/sms), each with whether the same message may go through later.
STATUSES: Final[dict[str, tuple[str, bool]]] = {
    "1": ("throttled", True),
    "2": ("missing parameters", False),
    "3": ("invalid parameters", False),
    "4": ("invalid credentials", False),
    "5": ("internal error", True),
    "6": ("invalid message (unroutable)", False),
    "7": ("number barred", False),
    "8": ("partner account barred", False),
    # Vonage's own advice is "top up and retry": a reply should survive an empty balance
    # until an operator tops up, rather than be dropped at once.
    "9": ("partner quota exceeded", True),
    "10": ("too many existing binds", True),
    "11": ("account not enabled for HTTP", False),
    "12": ("message too long", False),
    "13": ("communication failed", True),
    "14": ("invalid signature", False),
    "15": ("invalid sender address", False),
    "16": ("invalid TTL", False),
    "19": ("facility not allowed", False),
    "20": ("invalid message class", False),
    "22": ("invalid network code", False),
    "23": ("invalid callback URL", False),
    "29": ("non-whitelisted destination", False),
    "32": ("signature and API secret disallowed", False),
    "33": ("number de-activated", False),
    "34": ("invalid or missing MSISDN", False),
}


class VonageSender:
    name = "vonage"

    def __init__(
        self,
        api_key: str,
        api_secret: str,
        *,
        sender: str,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = 10.0,
    ) -> None:
        self._credentials = {"api_key": api_key, "api_secret": api_secret}
        self._sender = sender
        self._url = f"{base_url.rstrip('/')}/sms/json"
        self._http = ProviderHttp(self.name, timeout)

    async def send(self, message: OutgoingSms) -> SendResult:
        form = {
            **self._credentials,
            "from": self._sender,
            "to": message.to.removeprefix("+"),
            "text": message.text,
            "type": "unicode" if encoding_for(message.text) == "ucs2" else "text",
            # Comes back on every delivery receipt, so a receipt leads to our reply.
            "client-ref": message.id,
        }
        answer = await self._http.request("POST", self._url, recipient=message.to, data=form)
        if answer.status != 200:
            raise self._http.refused(message.to, answer)
        entries = self._entries(message, answer)
        statuses = [str(entry.get("status")) for entry in entries]
        for part, status in enumerate(statuses, start=1):
            if status != "0":
                raise self._refusal(message, status, part, len(statuses))
        return SendResult(provider_id=_message_id(entries[0]))

    def _entries(self, message: OutgoingSms, answer: Answer) -> list[dict[str, Any]]:
        try:
            document = json.loads(answer.text)
            entries = [entry for entry in document["messages"] if isinstance(entry, dict)]
        except (ValueError, TypeError, KeyError):
            entries = []
        if not entries:
            # We cannot tell whether Vonage took the message; a later attempt can.
            raise self._http.error(message.to, "unreadable answer", transient=True)
        return entries

    def _refusal(self, message: OutgoingSms, code: str, part: int, parts: int) -> SendError:
        # An unknown code is taken as a refusal: retrying blindly could repeat a charge.
        meaning, transient = STATUSES.get(code, ("unknown status", False))
        where = f" (part {part} of {parts})" if parts > 1 else ""
        return self._http.error(message.to, f"status {code}, {meaning}{where}", transient=transient)

    async def close(self) -> None:
        await self._http.close()


def _message_id(entry: dict[str, Any]) -> str | None:
    # The first part's id: delivery receipts of the other parts carry our client-ref too.
    value = entry.get("message-id")
    return None if value is None else str(value)
