"""The ceiling: an aiohttp endpoint that only reads the Twilio form and answers 200.

Whatever the gateway does per SMS costs on top of this; `make bench` drives both with
the same requests and reports gateway ÷ bare. It listens on LAPOR_PORT, as the gateway.
"""

from __future__ import annotations

import os
from urllib.parse import parse_qsl

from aiohttp import web

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response />'


async def twilio(request: web.Request) -> web.Response:
    form = parse_qsl((await request.read()).decode("utf-8"), keep_blank_values=True)
    status = 200 if form else 400
    return web.Response(status=status, text=EMPTY_TWIML, content_type="application/xml")


async def healthz(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def main() -> None:
    app = web.Application()
    app.router.add_post("/webhooks/sms/twilio", twilio)
    app.router.add_get("/healthz", healthz)
    web.run_app(
        app, host="127.0.0.1", port=int(os.environ["LAPOR_PORT"]), access_log=None, print=None
    )


if __name__ == "__main__":
    main()
