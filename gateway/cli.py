"""`lapor-gateway`: the command line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sqlite3
import sys

from aiohttp import web
from pydantic import ValidationError

from config.profile import Profile, ProfileError, load_profile
from config.settings import Settings
from gateway.app import create_app
from gateway.errors import Handler

log = logging.getLogger(__name__)

SHUTDOWN_TIMEOUT = 30.0  # seconds the requests in flight may take to finish once told to stop
RESPONSE_TIMEOUT = 5.0  # then, seconds to finish sending their answers before closing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lapor-gateway", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="start the gateway")
    serve.add_argument("--host", help="overrides LAPOR_HOST")
    serve.add_argument("--port", type=int, help="overrides LAPOR_PORT")
    serve.add_argument("--profile", help="overrides LAPOR_PROFILE (a name or a TOML path)")
    check = commands.add_parser("check-profile", help="validate a profile and exit")
    check.add_argument("profile", help="a shipped profile's name or a TOML path")
    args = parser.parse_args(argv)

    try:
        overrides = {
            k: v
            for k, v in vars(args).items()
            if k in ("host", "port", "profile") and v is not None
        }
        settings = Settings(**overrides)
        profile = load_profile(getattr(args, "profile", None) or settings.profile)
    except ValidationError as exc:
        print(f"lapor-gateway: invalid settings:\n{_settings_problems(exc)}", file=sys.stderr)
        return 2
    except ProfileError as exc:
        print(f"lapor-gateway: {exc}", file=sys.stderr)
        return 2
    if args.command == "check-profile":
        print(
            f"{profile.key}: ok ({len(profile.agencies)} agencies, "
            f"{len(profile.categories)} categories)"
        )
        return 0
    return _serve(settings, profile)


def _serve(settings: Settings, profile: Profile) -> int:
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        app = create_app(settings, profile)
    except ValueError as exc:
        print(f"lapor-gateway: {exc}", file=sys.stderr)
        return 2
    base = settings.public_base_url or f"http://{settings.host}:{settings.port}"
    banner = (
        f"LAPOR! gateway ({profile.regency}) on {base}\n"
        f"  formulir warga   {base}/lapor\n"
        f"  meja layanan     {base}/desk\n"
        f"  cek status       {base}/status\n"
        f"  API aplikasi     {base}/api/v1/complaints  (OpenAPI: {base}/api/v1/openapi.json)\n"
        f"  kesehatan        {base}/healthz"
    )
    try:
        asyncio.run(_run(app, settings, banner))
    except sqlite3.Error as exc:
        print(f"lapor-gateway: cannot open {settings.database_url}: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # the port is taken, a directory cannot be created, …
        print(f"lapor-gateway: cannot start: {exc}", file=sys.stderr)
        return 1
    return 0


async def _run(app: web.Application, settings: Settings, banner: str) -> None:
    """Serve until SIGTERM or SIGINT, then stop gracefully.

    aiohttp's own shutdown (`web.run_app`) stops reading from every connection as soon as
    it starts, so a request whose body is still arriving (a photo on a slow line) can
    never finish and is cancelled at the timeout. Here a stop first closes the listening
    socket, then waits for the requests in flight to be answered, and only then closes
    the connections and the store.
    """
    in_flight = _InFlight()
    app.middlewares.insert(0, in_flight.middleware)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=RESPONSE_TIMEOUT)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await runner.setup()  # opens the store
        try:
            site = web.TCPSite(runner, settings.host, settings.port)
            await site.start()
            print(banner, flush=True)  # only once the socket listens
            await stop.wait()
            log.info("stopping: no new connections; finishing %d request(s)", in_flight.count)
            await site.stop()
            try:
                async with asyncio.timeout(SHUTDOWN_TIMEOUT):
                    await in_flight.drained()
            except TimeoutError:
                log.warning("stopping with %d request(s) unfinished", in_flight.count)
        finally:
            await runner.cleanup()  # closes the connections, then the store
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


class _InFlight:
    """Counts the requests being handled, so a stop can wait until they are answered."""

    def __init__(self) -> None:
        self.count = 0
        self.stopping = False
        self._idle = asyncio.Event()
        self._idle.set()

        @web.middleware
        async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
            self.count += 1
            self._idle.clear()
            try:
                response = await handler(request)
                if self.stopping and not response.prepared:
                    response.force_close()  # no further request on this keep-alive connection
                return response
            finally:
                self.count -= 1
                if not self.count:
                    self._idle.set()

        self.middleware = middleware

    async def drained(self) -> None:
        """Return once no request is being handled; later answers close their connection."""
        self.stopping = True
        await asyncio.sleep(0)  # let requests already read from the sockets reach the handler
        await self._idle.wait()


def _settings_problems(exc: ValidationError) -> str:
    return "\n".join(
        f"  LAPOR_{'_'.join(str(p) for p in e['loc']).upper()}: "
        f"{e['msg'].removeprefix('Value error, ')}"
        for e in exc.errors()
    )


if __name__ == "__main__":
    sys.exit(main())
