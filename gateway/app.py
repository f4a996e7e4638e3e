"""The aiohttp application: routes, the store and the dispatcher, started and stopped together."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from config.profile import Profile
from config.settings import Settings
from gateway import openapi
from gateway.auth import StaffDirectory
from gateway.context import GATEWAY, Gateway
from gateway.dispatcher import Dispatcher
from gateway.errors import error_middleware
from gateway.intake import IntakeService
from gateway.routes import admin, api, desk, public, webform
from gateway.signing import Signer
from store.base import Store
from store.blobs import BlobStore
from store.factory import store_from_url
from store.sqlite import utcnow

log = logging.getLogger(__name__)


def create_app(
    settings: Settings,
    profile: Profile,
    *,
    store: Store | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> web.Application:
    store = store or store_from_url(
        settings.database_url,
        write_queue_limit=settings.write_queue_limit,
        busy_timeout_ms=settings.db_busy_timeout_ms,
        clock=clock,
    )
    app = web.Application(
        middlewares=[error_middleware], client_max_size=settings.max_request_bytes
    )
    app[GATEWAY] = Gateway(
        settings=settings,
        profile=profile,
        store=store,
        intake=IntakeService(
            store, profile, clock, timedelta(seconds=settings.duplicate_window_seconds)
        ),
        blobs=BlobStore(Path(settings.upload_dir)),
        signer=Signer(_secret(settings)),
        staff=StaffDirectory.from_settings(settings),
        clock=clock,
    )
    _warn_without_staff(settings)
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.PackageLoader("gateway", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
    )
    for module in (public, webform, api, desk, admin, openapi):
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
    task = None
    # An intake-only process (dispatch off) lets another process drive the workflow.
    if gw.settings.dispatch_enabled:
        dispatcher = Dispatcher(gw.store, gw.profile, gw.clock, gw.settings.dispatch_poll_seconds)
        task = asyncio.create_task(dispatcher.run(), name="dispatcher")
    yield
    if task:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    await gw.store.close()
