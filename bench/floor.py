"""The floor: the least any endpoint must do that keeps the gateway's first invariant.

It checks the Twilio signature with the gateway's own `verify_signature` and commits the
message, one row, through the gateway's own group-commit writer to a SQLite file in WAL
mode with `synchronous=FULL`, and answers only after that commit. No normalising, no
duplicate check, no outbox event, no dispatcher, no reply.

`make bench` drives it beside the bare endpoint and the gateway: bare ÷ floor is what
checking and keeping a message costs at the least on this machine, so floor ÷ bare bounds
the ratio any gateway built on aiohttp and sqlite3 can reach. It reads the gateway's
LAPOR_PORT, LAPOR_DATABASE_URL, LAPOR_PUBLIC_BASE_URL and LAPOR_TWILIO_AUTH_TOKEN.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import AsyncIterator, Sequence
from urllib.parse import parse_qsl

from aiohttp import web

from channels.sms.models import ForbiddenSms
from channels.sms.twilio.inbound import twiml, verify_signature
from store.sqlite_writer import GroupCommitWriter

WRITER = web.AppKey("writer", GroupCommitWriter)
QUEUE_LIMIT = 10_000


def keep(conn: sqlite3.Connection, messages: Sequence[tuple[str, str]]) -> list[None]:
    conn.executemany("INSERT INTO messages (sid, body) VALUES (?, ?)", messages)
    return [None] * len(messages)


async def twilio(request: web.Request) -> web.Response:
    form = parse_qsl((await request.read()).decode("utf-8"), keep_blank_values=True)
    url = os.environ["LAPOR_PUBLIC_BASE_URL"] + request.path_qs
    try:
        verify_signature(
            os.environ["LAPOR_TWILIO_AUTH_TOKEN"],
            url,
            form,
            request.headers.get("X-Twilio-Signature"),
        )
    except ForbiddenSms:
        return web.Response(status=403)
    fields = dict(form)
    await request.app[WRITER].submit(keep, (fields["MessageSid"], fields["Body"]))
    return web.Response(text=twiml(None), content_type="application/xml")


async def healthz(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


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


def main() -> None:
    app = web.Application()
    app.cleanup_ctx.append(writer)
    app.router.add_post("/webhooks/sms/twilio", twilio)
    app.router.add_get("/healthz", healthz)
    web.run_app(
        app, host="127.0.0.1", port=int(os.environ["LAPOR_PORT"]), access_log=None, print=None
    )


if __name__ == "__main__":
    main()
