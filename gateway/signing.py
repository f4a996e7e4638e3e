"""Signed, time-limited tokens: the HTML forms' CSRF tokens (gateway/csrf.py)."""

from __future__ import annotations

from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer


class Signer:
    def __init__(self, secret: str) -> None:
        self._csrf = URLSafeTimedSerializer(secret, salt="lapor.csrf")

    def csrf_token(self, nonce: str, purpose: str) -> str:
        return self._csrf.dumps({"n": nonce, "s": purpose})

    def check_csrf(self, token: str, nonce: str, max_age: int) -> str | None:
        """What the form was issued for, or None if the token is not good for `nonce`."""
        try:
            data: Any = self._csrf.loads(token, max_age=max_age)
        except BadSignature:
            return None
        if not isinstance(data, dict) or data.get("n") != nonce:
            return None
        purpose = data.get("s")
        return purpose if isinstance(purpose, str) else None
