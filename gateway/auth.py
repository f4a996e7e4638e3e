"""Staff tokens by role: no token is 401, a token of another role is 403."""

from __future__ import annotations

import hmac
from enum import StrEnum

from aiohttp import web

from config.settings import Settings, StaffToken
from gateway.errors import json_error


class Role(StrEnum):
    DESK = "desk"
    ADMIN = "admin"


class StaffDirectory:
    def __init__(self, tokens: dict[Role, list[StaffToken]]) -> None:
        self._tokens = tokens

    @classmethod
    def from_settings(cls, settings: Settings) -> StaffDirectory:
        return cls({Role.DESK: settings.desk_tokens, Role.ADMIN: settings.admin_tokens})

    def identify(self, secret: str) -> tuple[Role, str] | None:
        """(role, staff id) of a token; compares every token in constant time."""
        found: tuple[Role, str] | None = None
        for role, tokens in self._tokens.items():
            for token in tokens:
                if hmac.compare_digest(token.secret.encode(), secret.encode()):
                    found = (role, token.staff_id)
        return found

    def has(self, role: Role, staff_id: str) -> bool:
        """Whether `staff_id` still holds a token of `role`: a session outlives its token
        only as long as the token is configured."""
        return any(token.staff_id == staff_id for token in self._tokens.get(role, []))

    def require(self, request: web.Request, role: Role) -> str:
        """The staff id behind the request's bearer token, or an HTTP error to raise."""
        header = request.headers.get("Authorization", "")
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise json_error(
                401,
                "unauthorized",
                "Token petugas diperlukan.",
                headers={"WWW-Authenticate": 'Bearer realm="lapor"'},
            )
        who = self.identify(secret.strip())
        if who is None:
            raise json_error(
                401,
                "unauthorized",
                "Token petugas tidak dikenal.",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        if who[0] is not role:
            raise json_error(403, "forbidden", "Token ini tidak berwenang untuk layanan ini.")
        return who[1]
