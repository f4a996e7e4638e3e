"""The two endpoints `make bench` measures the gateway against, each in a process of its
own: `python bench/references.py bare|floor`. Both serve the gateway's Twilio path and
/healthz on LAPOR_PORT.

- bare: only reads the Twilio form and answers 200. The ceiling any aiohttp handler can
  reach on this machine; whatever the gateway does per SMS costs on top of it.
- floor: the least any endpoint must do that keeps the gateway's first invariant. It
  checks the Twilio signature with the gateway's own `verify_signature`, and commits the
  message, one row, through the gateway's own group-commit writer to a SQLite file in
  WAL mode with `synchronous=FULL` (LAPOR_DATABASE_URL), answering only after that
  commit. No normalising, no duplicate check, no outbox event, no dispatcher, no reply.
  floor ÷ bare bounds the ratio any gateway built on aiohttp and sqlite3 can reach. It
  reads LAPOR_PUBLIC_BASE_URL and LAPOR_TWILIO_AUTH_TOKEN, as the gateway does.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from collections.abc import AsyncIterator, Sequence
from urllib.parse import parse_qsl

from aiohttp import web

from channels.sms.models import ForbiddenSms
from channels.sms.twilio.inbound import twiml, verify_signature
from store.sqlite_writer import GroupCommitWriter

WRITER = web.AppKey("writer", GroupCommitWriter)
# What the floor signs with, read once as the gateway reads its settings: (public base
# URL, auth token).
SIGNING = web.AppKey("signing", tuple[str, str])
QUEUE_LIMIT = 10_000


async def form_of(request: web.Request) -> list[tuple[str, str]]:
    return parse_qsl((await request.read()).decode("utf-8"), keep_blank_values=True)


async def bare(request: web.Request) -> web.Response:
    form = await form_of(request)
    status = 200 if form else 400
    return web.Response(status=status, text=twiml(None), content_type="application/xml")


async def floor(request: web.Request) -> web.Response:
    form = await form_of(request)
    base_url, token = request.app[SIGNING]
    try:
        verify_signature(
            token, base_url + request.path_qs, form, request.headers.get("X-Twilio-Signature")
        )
    except ForbiddenSms:
        return web.Response(status=403)
    fields = dict(form)
    await request.app[WRITER].submit(keep, (fields["MessageSid"], fields["Body"]))
    return web.Response(text=twiml(None), content_type="application/xml")


def keep(conn: sqlite3.Connection, messages: Sequence[tuple[str, str]]) -> list[None]:
    conn.executemany("INSERT INTO messages (sid, body) VALUES (?, ?)", messages)
    return [None] * len(messages)


async def writer(app: web.Application) -> AsyncIterator[None]:
    path = os.environ["LAPOR_DATABASE_URL"].removeprefix("sqlite:///")
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE IF NOT EXISTS messages (sid TEXT PRIMARY KEY, body TEXT)")
    app[WRITER] = GroupCommitWriter(conn, QUEUE_LIMIT)
    app[WRITER].start()
    yield
    await app[WRITER].close()
    conn.close()


async def healthz(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def main(name: str) -> None:
    app = web.Application()
    if name == "floor":
        app[SIGNING] = (os.environ["LAPOR_PUBLIC_BASE_URL"], os.environ["LAPOR_TWILIO_AUTH_TOKEN"])
        app.cleanup_ctx.append(writer)
    app.router.add_post("/webhooks/sms/twilio", {"bare": bare, "floor": floor}[name])
    app.router.add_get("/healthz", healthz)
    web.run_app(
        app, host="127.0.0.1", port=int(os.environ["LAPOR_PORT"]), access_log=None, print=None
    )


if __name__ == "__main__":
    main(sys.argv[1])
