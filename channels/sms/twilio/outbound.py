"""Replies through Twilio Programmable Messaging (`POST .../Messages.json`).

Twilio splits and encodes long or non-GSM text itself, so the whole text goes as `Body`.
A created message is answered 201 with the Message resource; a refusal with
`{code, message, more_info, status}` and an HTTP status that tells whether to retry.
"""

from __future__ import annotations

import json

from channels.sms.models import OutgoingSms, SendResult
from channels.sms.outbound_http import Answer, ProviderHttp, answer_excerpt, basic_auth

DEFAULT_BASE_URL = "https://api.twilio.com"


class TwilioSender:
    name = "twilio"

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        from_number: str | None = None,
        messaging_service_sid: str | None = None,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = 10.0,
    ) -> None:
        if not from_number and not messaging_service_sid:
            raise ValueError("Twilio needs a from_number or a messaging_service_sid")
        self._auth = basic_auth(account_sid, auth_token)
        self._secret = auth_token
        # A Messaging Service picks the sender from its pool; Twilio prefers it when both
        # are given, so only one is sent.
        self._origin = (
            {"MessagingServiceSid": messaging_service_sid}
            if messaging_service_sid
            else {"From": str(from_number)}
        )
        self._url = f"{base_url.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Messages.json"
        self._http = ProviderHttp(self.name, timeout)

    async def send(self, message: OutgoingSms) -> SendResult:
        form = {"To": message.to, "Body": message.text, **self._origin}
        answer = await self._http.request(
            "POST", self._url, recipient=message.to, data=form, headers=self._auth
        )
        if 200 <= answer.status < 300:
            return SendResult(provider_id=_field(answer, "sid"))
        code = _field(answer, "code")
        said = answer_excerpt(_field(answer, "message") or "", hide=(self._secret, message.text))
        raise self._http.refused(message.to, answer, f"error {code}" if code else "", said)

    async def close(self) -> None:
        await self._http.close()


def _field(answer: Answer, name: str) -> str | None:
    """A top-level field of Twilio's JSON answer, or None when the answer is not Twilio's
    JSON (a proxy's error page, say): the HTTP status alone still decides."""
    try:
        document = json.loads(answer.text)
    except ValueError:
        return None
    value = document.get(name) if isinstance(document, dict) else None
    return None if value is None else str(value)
