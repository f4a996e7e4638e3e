"""The aiohttp application: routes, the store, every channel and the background loops,
started and stopped together."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator, Callable, Coroutine
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web

from channels.plugin import Loop
from channels.registry import PLUGINS
from config.profile import Profile
from config.settings import Settings
from events.relay import EventRelay, RelayConfig
from gateway import console, openapi, views
from gateway.accounts import Accounts
from gateway.context import GATEWAY, Gateway
from gateway.dispatcher import Dispatcher
from gateway.errors import error_middleware, security_headers
from gateway.intake import IntakeService
from gateway.limits import Allowance
from gateway.loops import keep_running
from gateway.notifier import Notifier
from gateway.routes import admin, api, auth, desk, public, recap, webform
from gateway.signing import Signer
from normalizer import classify
from store.base import Store
from store.blobs import BlobStore
from store.factory import store_from_url
from store.sqlite import utcnow
from workflow.calendar import case_deadlines
from workflow.codes import StatusCodes
from workflow.commands import CitizenCommands
from workflow.service import WorkflowService

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"


def create_app(
    settings: Settings,
    profile: Profile,
    *,
    store: Store | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> web.Application:
    """Raises ValueError (the command line exits 2 with it) for settings that cannot work."""
    store = store or store_from_url(
        settings.database_url,
        write_queue_limit=settings.write_queue_limit,
        busy_timeout_ms=settings.db_busy_timeout_ms,
        clock=clock,
    )
    app = web.Application(
        middlewares=[security_headers, error_middleware],
        client_max_size=settings.max_request_bytes,
    )
    gw = build_gateway(settings, profile, store, clock, _secret(settings))
    gw.channels = [p for cls in PLUGINS if (p := cls.create(gw)) is not None]
    app[GATEWAY] = gw
    _warn_without_staff(settings)
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.PackageLoader("gateway", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        filters=views.FILTERS,
    )
    for module in (public, webform, api, desk, auth, admin, recap, openapi):
        app.add_routes(module.routes)
    for table in console.route_tables():
        app.add_routes(table)
    for channel in gw.channels:
        app.add_routes(channel.routes())
    app.router.add_static("/static", STATIC, append_version=False)
    app[openapi.DOCUMENT] = openapi.build_openapi(app)
    app.cleanup_ctx.append(_run_store_and_loops)
    return app


def build_gateway(
    settings: Settings,
    profile: Profile,
    store: Store,
    clock: Callable[[], datetime],
    secret: str,
) -> Gateway:
    """Everything but the channels and the web application: also what the command line
    uses to act on the store (accounts, the sweep). `secret` signs forms and sessions."""
    intake = IntakeService(
        store, profile, clock, timedelta(seconds=settings.duplicate_window_seconds)
    )
    base = settings.public_base_url or f"http://{settings.host}:{settings.port}"
    workflow = WorkflowService(store, profile, clock, lambda t: f"{base}/status/{t}")
    return Gateway(
        settings=settings,
        profile=profile,
        store=store,
        intake=intake,
        citizen=CitizenCommands(store, profile, profile.sms.min_complaint_chars),
        workflow=workflow,
        accounts=Accounts(store, settings, profile, clock),
        codes=StatusCodes(store, profile, clock),
        blobs=BlobStore(Path(settings.upload_dir)),
        signer=Signer(secret),
        clock=clock,
        upload_allowance=Allowance(settings.uploads_per_hour, timedelta(hours=1)),
    )


def _warn_without_staff(settings: Settings) -> None:
    # Not an error: staff may sign in with accounts (lapor-gateway staff add).
    if not settings.desk_tokens and not settings.admin_tokens:
        log.info("no LAPOR_DESK_TOKENS or LAPOR_ADMIN_TOKENS: staff sign in with their accounts")


def _secret(settings: Settings) -> str:
    if settings.secret_key:
        return settings.secret_key.get_secret_value()
    log.warning("LAPOR_SECRET_KEY is not set: forms and desk sessions will not survive a restart")
    return secrets.token_urlsafe(32)


async def _run_store_and_loops(app: web.Application) -> AsyncIterator[None]:
    gw = app[GATEWAY]
    await gw.store.open()
    # The holiday tables and the category matcher are built on first use (about 150 ms
    # and 10 ms here): at start, not on the first complaint.
    case_deadlines(gw.profile, gw.clock())
    classify.prepare(gw.profile)
    tasks = [
        asyncio.create_task(
            gw.store.once_per_installation(name, start) if once else start(), name=name
        )
        for name, start, once in _background(gw)
    ]
    yield
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for channel in gw.channels:
        await channel.close()
    await gw.store.close()


Start = Callable[[], Coroutine[Any, Any, None]]


def _background(gw: Gateway) -> list[tuple[str, Start, bool]]:
    """The loops that run beside the routes, each as long as the application: (name, how
    to start it, whether it runs once per installation).

    The dispatcher and the notifier run in every process: they claim their work row by
    row. The others (the sweep, the file sweep, the event relay, every channel's senders
    and pollers) run in one process of the installation at a time (the store's
    `once_per_installation`). An intake-only process (LAPOR_DISPATCH_ENABLED=false) runs
    none of them."""
    if not gw.settings.dispatch_enabled:
        return []
    settings = gw.settings
    dispatcher = Dispatcher(
        gw.store, gw.profile, gw.workflow, gw.clock, settings.dispatch_poll_seconds
    )
    notifier = Notifier(gw.store, gw.channels, gw.clock, settings.dispatch_poll_seconds)
    sweep_every = settings.sweep_seconds
    # Often enough that an orphaned file outlives its grace period by little.
    blobs_every = min(3600.0, settings.orphan_grace_seconds / 4)
    loops: list[tuple[str, Start, bool]] = [
        ("dispatcher", dispatcher.run, False),
        ("notifier", notifier.run, False),
        (
            "sweep",
            lambda: keep_running(lambda: _sweep(gw), lambda: asyncio.sleep(sweep_every), "sweep"),
            True,
        ),
        (
            "orphaned-files",
            lambda: keep_running(
                lambda: _sweep_files(gw), lambda: asyncio.sleep(blobs_every), "orphaned files"
            ),
            True,
        ),
    ]
    if settings.nats_url is not None:
        # Once per installation, as the dispatcher: the process that dispatches relays.
        relay = EventRelay(
            gw.store,
            RelayConfig.from_settings(settings, gw.profile.key),
            poll_seconds=settings.dispatch_poll_seconds,
        )
        loops.append(("event-relay", relay.run, True))
    for channel in gw.channels:
        for loop in channel.loops():
            loops.append((loop.name, _keep(loop), True))
    return loops


def _keep(loop: Loop) -> Start:
    return lambda: keep_running(loop.round, loop.idle, loop.name)


async def _sweep_files(gw: Gateway) -> int:
    removed = await gw.blobs.sweep(gw.settings.orphan_grace_seconds, gw.store.referenced_blobs)
    if removed:
        log.info("removed %d stored file(s) no complaint references", removed)
    return 0  # once per period


async def _sweep(gw: Gateway) -> int:
    steps = await gw.workflow.sweep(gw.clock(), apply=True)
    for step in steps:
        log.info(
            "sweep: %s %s (%s -> %s)", step.tracking_id, step.kind, step.from_state, step.to_state
        )
    return 0  # once per period, however much it did
