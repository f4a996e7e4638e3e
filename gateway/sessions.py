"""Signed-in staff pages (the desk, the console): one session cookie each, naming a session
kept on the server (gateway/accounts.py), so that signing out or a new password ends it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from aiohttp import web

from gateway.accounts import Issued
from gateway.context import gateway_of
from workflow.roles import Actor, Role


@dataclass(frozen=True)
class SessionCookie:
    name: str
    same_site: Literal["Lax", "Strict"]
    max_age: int = 12 * 3600  # one working day

    async def actor(self, request: web.Request, roles: Iterable[Role]) -> Actor | None:
        """Who this browser is signed in as, if their role is one of `roles`."""
        cookie = request.cookies.get(self.name, "")
        actor = await gateway_of(request).accounts.session_actor(cookie) if cookie else None
        return actor if actor is not None and actor.role in set(roles) else None

    def keep(self, request: web.Request, response: web.StreamResponse, issued: Issued) -> None:
        response.set_cookie(
            self.name,
            issued.token,
            httponly=True,
            samesite=self.same_site,
            secure=gateway_of(request).secure_cookies(),
            max_age=self.max_age,
            path="/",
        )

    async def end(self, request: web.Request, response: web.StreamResponse) -> None:
        """Sign out: every session of the account (or operator) ends, on every browser."""
        cookie = request.cookies.get(self.name, "")
        if cookie:
            await gateway_of(request).accounts.end_sessions(cookie)
        response.del_cookie(self.name, path="/")


DESK = SessionCookie("lapor_desk", "Strict")
# The console is opened from links in e-mail and chat (a case's address), so Lax.
CONSOLE = SessionCookie("lapor_admin", "Lax")
