"""Signed, time-limited tokens: the web form's CSRF token and the desk's session cookie."""

from __future__ import annotations

from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer


class Signer:
    def __init__(self, secret: str) -> None:
        self._csrf = URLSafeTimedSerializer(secret, salt="lapor.csrf")
        self._session = URLSafeTimedSerializer(secret, salt="lapor.desk-session")

    def csrf_token(self, nonce: str, submission_id: str) -> str:
        return self._csrf.dumps({"n": nonce, "s": submission_id})

    def check_csrf(self, token: str, nonce: str, max_age: int) -> str | None:
        """The submission id the form was issued with, or None if the token is not good."""
        data = self._loads(self._csrf, token, max_age)
        if not data or data.get("n") != nonce or not isinstance(data.get("s"), str):
            return None
        submission: str = data["s"]
        return submission

    def session(self, staff_id: str, role: str) -> str:
        return self._session.dumps({"staff": staff_id, "role": role})

    def check_session(self, cookie: str, role: str, max_age: int) -> str | None:
        data = self._loads(self._session, cookie, max_age)
        if not data or data.get("role") != role or not isinstance(data.get("staff"), str):
            return None
        staff: str = data["staff"]
        return staff

    @staticmethod
    def _loads(
        serializer: URLSafeTimedSerializer, token: str, max_age: int
    ) -> dict[str, Any] | None:
        try:
            data = serializer.loads(token, max_age=max_age)
        except BadSignature:
            return None
        return data if isinstance(data, dict) else None
