"""Replies through Kannel's smsbox `sendsms` HTTP interface (GET with CGI parameters).

Kannel answers 202 when the bearerbox took the message ("0: Accepted for delivery", or
"3: Queued for later delivery" when no SMSC is connected yet, which Kannel delivers
later by itself), 403 for bad credentials or an unroutable message, 400 for a rejected
field, and 500/503 when it could not pass the message on. It gives no message id.

Long text goes whole, and the sendsms-user group decides what the phone gets (sendsms has
no parameter for either): smsbox cuts it into at most `max-messages` SMS and silently
drops the rest, so the group needs 3, our longest; and only with `concatenation = true`
do the SMS carry the UDH that has the phone join them. Kannel's default is false: separate
SMS, cut mid-word. README "Connecting a gateway" has the group, and
tests/channels/sms/kannel_real runs it.
"""

from __future__ import annotations

from channels.sms.models import OutgoingSms, SendResult
from channels.sms.outbound_http import ProviderHttp, answer_excerpt
from channels.sms.segments import encoding_for

# Kannel's DC_7BIT and DC_UCS2. The text is always sent as UTF-8 and labelled so: with
# coding=2 and no charset Kannel would read the bytes as UTF-16BE.
_CODING = {"gsm7": "0", "ucs2": "2"}
_CHARSET = "UTF-8"


class KannelSender:
    name = "kannel"

    def __init__(
        self,
        username: str,
        password: str,
        *,
        sendsms_url: str,
        sender: str | None = None,
        smsc: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self._password = password
        self._fixed = {"username": username, "password": password, "charset": _CHARSET}
        # Without `from` Kannel uses the sendsms-user's default-sender or the global one;
        # `smsc` picks the route when several SMSCs are connected.
        if sender:
            self._fixed["from"] = sender
        if smsc:
            self._fixed["smsc"] = smsc
        self._url = sendsms_url
        self._http = ProviderHttp(self.name, timeout)

    async def send(self, message: OutgoingSms) -> SendResult:
        params = {
            **self._fixed,
            # E.164 keeps its "+" (sent as %2B): a bare "+" in a query would read as a space.
            "to": message.to,
            "text": message.text,
            "coding": _CODING[encoding_for(message.text)],
        }
        answer = await self._http.request("GET", self._url, recipient=message.to, params=params)
        if 200 <= answer.status < 300:
            return SendResult()
        reason = answer_excerpt(answer.text, hide=(self._password, message.text))
        raise self._http.refused(message.to, answer, reason)

    async def close(self) -> None:
        await self._http.close()
