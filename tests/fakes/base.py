"""What every fake SMS provider shares: a real HTTP server on 127.0.0.1, a record of the
messages it accepted, and failures a test can order for the next requests.

    async with FakeTwilio("AC…", "token") as fake:
        fake.fail_next(status=503, times=2)   # the next two requests get a 503
        fake.fail_next(drop=True)             # then one whose connection is closed unanswered
        fake.fail_next(hold=True)             # then one never answered (the client times out)
        ...
        fake.sent       # what the provider accepted, one dict of fields per message
        fake.requests   # every request that reached it, refused or failed ones included

Failures apply in the order ordered, one per request, before any checking: a provider
that is down does not look at what it is sent.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass
from types import TracebackType
from typing import Self

from aiohttp import web


@dataclass(frozen=True)
class Failure:
    status: int | None
    drop: bool
    hold: bool


class FakeProvider:
    """A subclass names its one endpoint (`method`, `path`), checks and answers a request
    as the provider would in `accept`, and refuses in the provider's shape in
    `error_response`."""

    method = "POST"
    path = "/"

    def __init__(self) -> None:
        self.sent: list[dict[str, str]] = []
        self.requests = 0
        self.base_url = ""
        self._failures: deque[Failure] = deque()
        self._runner: web.AppRunner | None = None
        self._stopping = asyncio.Event()

    def fail_next(
        self, status: int | None = None, *, times: int = 1, drop: bool = False, hold: bool = False
    ) -> None:
        if (status is not None) + drop + hold != 1:
            raise ValueError("give exactly one of status, drop or hold")
        self._failures.extend([Failure(status, drop, hold)] * times)

    async def accept(self, request: web.Request) -> web.Response:
        raise NotImplementedError

    def error_response(self, status: int) -> web.Response:
        raise NotImplementedError

    async def _handle(self, request: web.Request) -> web.Response:
        self.requests += 1
        if not self._failures:
            return await self.accept(request)
        failure = self._failures.popleft()
        if failure.status is not None:
            return self.error_response(failure.status)
        if failure.hold:
            # Held until the fake stops, so a client with any sane timeout gives up first.
            await self._stopping.wait()
        assert request.transport is not None
        request.transport.close()
        return web.Response()  # never reaches the closed connection

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_route(self.method, self.path, self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stopping.set()
        if self._runner is not None:
            await self._runner.cleanup()
