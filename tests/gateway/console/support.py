"""The console as a person's browser uses it: its own cookies, the page's CSRF token taken
from the page it submits from, redirects followed or not as asked."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape
from typing import Any

from aiohttp import ClientSession, CookieJar

from tests.conftest import Running
from tests.gateway.workflow_support import PASSWORD, Team, team

COOKIE = "lapor_admin"


@dataclass(frozen=True)
class Page:
    status: int
    html: str
    url: str
    """Where the browser ended up (after any redirects it followed)."""
    location: str | None = None
    """The Location of an answer whose redirect was not followed."""

    def csrf(self) -> str:
        match = re.search(r'name="csrf_token" value="([^"]+)"', self.html)
        assert match, f"no CSRF token on {self.url}"
        return match.group(1)

    def buttons(self) -> list[str]:
        """The names of the case page's action buttons, in the page's order."""
        found = re.findall(
            r'<button type="submit" data-action="[a-z_]+">([^<]+)</button>', self.html
        )
        return [unescape(b) for b in found]

    def images(self) -> list[str]:
        return re.findall(r'<img src="([^"]+)"', self.html)

    def videos(self) -> list[str]:
        return re.findall(r'<video controls preload="metadata" src="([^"]+)"', self.html)

    def version(self) -> str:
        """The case version the page's action forms were decided on."""
        match = re.search(r'name="version" value="(\d+)"', self.html)
        assert match, f"no action form on {self.url}"
        return match.group(1)

    def text(self) -> str:
        """The page's words without its markup, spaces collapsed (for asserting on)."""
        words = re.sub(r"<[^>]+>", " ", re.sub(r"(?s)<(script|style)\b.*?</\1>", "", self.html))
        return " ".join(unescape(words).split())


class Console:
    """One person's browser on a running gateway."""

    def __init__(self, running: Running) -> None:
        self.running = running
        # unsafe=True: keep cookies from 127.0.0.1, as a browser does.
        self.http = ClientSession(
            base_url=running.server.make_url(""), cookie_jar=CookieJar(unsafe=True)
        )

    async def close(self) -> None:
        await self.http.close()

    async def get(self, path: str, *, follow: bool = True) -> Page:
        async with self.http.get(path, allow_redirects=follow) as response:
            return Page(
                response.status,
                await response.text(),
                str(response.url.relative()),
                response.headers.get("Location"),
            )

    async def post(self, path: str, fields: dict[str, Any], *, follow: bool = True) -> Page:
        data = {k: v for k, v in fields.items() if v is not None}
        async with self.http.post(path, data=data, allow_redirects=follow) as response:
            return Page(
                response.status,
                await response.text(),
                str(response.url.relative()),
                response.headers.get("Location"),
            )

    async def submit(
        self, page_path: str, action: str, fields: dict[str, Any], *, follow: bool = True
    ) -> Page:
        """Open `page_path` and post `fields` to `action` with that page's CSRF token."""
        token = (await self.get(page_path)).csrf()
        return await self.post(action, {"csrf_token": token, **fields}, follow=follow)

    async def act(self, tracking_id: str, action: str, **fields: str) -> Page:
        """Take `action` with the case page's form as it stands now (its version)."""
        path = f"/admin/cases/{tracking_id}"
        shown = await self.get(path)
        assert shown.status == 200, shown.text()
        body = {"csrf_token": shown.csrf(), "action": action, "version": shown.version()}
        return await self.post(f"{path}/actions", body | fields)

    async def sign_in(self, username: str, password: str = PASSWORD) -> Page:
        return await self.submit(
            "/admin/login", "/admin/login", {"username": username, "password": password}
        )

    @property
    def session(self) -> str | None:
        cookies = self.http.cookie_jar.filter_cookies(self.running.server.make_url("/admin/"))
        morsel = cookies.get(COOKIE)
        return morsel.value if morsel is not None and morsel.value else None


@dataclass(frozen=True)
class People:
    """The four roles of the procedure, each signed in to the console in a browser of
    their own; `team` holds their API tokens for setting a case up quickly."""

    team: Team
    utama: Console
    penghubung: Console
    opd: Console
    pejabat: Console

    async def close(self) -> None:
        for console in (self.utama, self.penghubung, self.opd, self.pejabat):
            await console.close()


async def people(running: Running) -> People:
    t = await team(running)
    consoles = []
    for staff in (t.utama, t.penghubung, t.opd, t.pejabat):
        console = Console(running)
        signed = await console.sign_in(staff.username)
        assert signed.status == 200 and console.session, signed.html
        consoles.append(console)
    return People(t, *consoles)
