"""The aiohttp application: routes, the store and the dispatcher, started and stopped together."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web

from channels.sms.gammu.inbox import GammuInbox
from config.profile import Profile
from config.settings import Settings
from gateway import openapi
from gateway.auth import StaffDirectory
from gateway.context import GATEWAY, Gateway
from gateway.dispatcher import Dispatcher
from gateway.errors import error_middleware
from gateway.intake import IntakeService
from gateway.loops import keep_running
from gateway.routes import admin, api, desk, public, sms, webform
from gateway.signing import Signer
from gateway.sms import wiring as sms_wiring
from gateway.sms.outbound import OutboundSmsWorker
from gateway.sms.pollers import ExpiredParts, GammuPoller
from gateway.sms.service import SmsLimits, SmsService
from store.base import Store
from store.blobs import BlobStore
from store.factory import store_from_url
from store.sqlite import utcnow
from workflow.calendar import case_deadlines

log = logging.getLogger(__name__)


def create_app(
    settings: Settings,
    profile: Profile,
    *,
    store: Store | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> web.Application:
    sms_gateways = sms_wiring.sms_gateways(settings, profile)
    store = store or store_from_url(
        settings.database_url,
        write_queue_limit=settings.write_queue_limit,
        busy_timeout_ms=settings.db_busy_timeout_ms,
        clock=clock,
    )
    app = web.Application(
        middlewares=[error_middleware], client_max_size=settings.max_request_bytes
    )
    intake = IntakeService(
        store, profile, clock, timedelta(seconds=settings.duplicate_window_seconds)
    )
    app[GATEWAY] = Gateway(
        settings=settings,
        profile=profile,
        store=store,
        intake=intake,
        blobs=BlobStore(Path(settings.upload_dir)),
        signer=Signer(_secret(settings)),
        staff=StaffDirectory.from_settings(settings),
        clock=clock,
        sms=SmsService(store, intake, profile, _sms_limits(settings), clock),
        sms_gateways=sms_gateways,
    )
    _warn_without_staff(settings)
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.PackageLoader("gateway", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
    )
    for module in (public, webform, api, desk, admin, sms, openapi):
        app.add_routes(module.routes)
    app.cleanup_ctx.append(_run_store_and_dispatcher)
    return app


def _warn_without_staff(settings: Settings) -> None:
    # Not an error: a gateway for the web form and the app alone needs no staff.
    if not settings.desk_tokens:
        log.warning("LAPOR_DESK_TOKENS is not set: no one can sign in to /desk")
    if not settings.admin_tokens:
        log.warning("LAPOR_ADMIN_TOKENS is not set: the admin queue refuses every request")


def _secret(settings: Settings) -> str:
    if settings.secret_key:
        return settings.secret_key.get_secret_value()
    log.warning("LAPOR_SECRET_KEY is not set: forms and desk sessions will not survive a restart")
    return secrets.token_urlsafe(32)


async def _run_store_and_dispatcher(app: web.Application) -> AsyncIterator[None]:
    gw = app[GATEWAY]
    await gw.store.open()
    # The holiday tables are built on first use (about 150 ms here): at start, not on the
    # first complaint's dispatch.
    case_deadlines(gw.profile, gw.clock())
    tasks = [asyncio.create_task(loop, name=name) for name, loop in _background(gw)]
    yield
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await gw.sms_gateways.close()
    await gw.store.close()


def _background(gw: Gateway) -> list[tuple[str, Coroutine[Any, Any, None]]]:
    """The loops that run beside the routes, each as long as the application."""
    gateways = gw.sms_gateways
    settings, loops = gw.settings, []
    # An intake-only process (dispatch off) lets another process drive the workflow and
    # send SMS: only one process may claim outbox events and outbound SMS.
    if settings.dispatch_enabled:
        dispatcher = Dispatcher(gw.store, gw.profile, gw.clock, settings.dispatch_poll_seconds)
        worker = OutboundSmsWorker(
            gw.store, gateways.senders, gw.clock, max_attempts=settings.sms_send_max_attempts
        )
        loops += [("dispatcher", dispatcher.run()), ("sms-outbound", worker.run())]
    timeout = timedelta(seconds=settings.sms_concat_timeout_seconds)
    expired = ExpiredParts(gw.sms, timeout, gw.clock)
    # Often enough that a message waits little past its timeout, never a busy loop.
    every_s = min(30.0, max(1.0, timeout.total_seconds() / 10))
    loops.append(("sms-parts", keep_running(expired.run_once, _sleep(every_s), "SMS parts")))
    if gateways.gammu is not None:
        poller = GammuPoller(gw.sms, GammuInbox(gateways.gammu))
        idle = _sleep(settings.gammu_poll_seconds)
        loops.append(("gammu", keep_running(poller.run_once, idle, "Gammu inbox")))
    return loops


def _sleep(seconds: float) -> Callable[[], Awaitable[None]]:
    return lambda: asyncio.sleep(seconds)


def _sms_limits(settings: Settings) -> SmsLimits:
    return SmsLimits(
        rate_limit=settings.sms_rate_limit,
        rate_window=timedelta(seconds=settings.sms_rate_window_seconds),
    )
