"""The admin console (`/admin/`): the unified queue, each case with the actions the
signed-in person may take, the nota dinas, the recap and the staff accounts, in Bahasa
Indonesia. It calls the same services as the API (workflow/service.py, gateway/queue.py,
gateway/case_detail.py), so both always agree."""

from __future__ import annotations

from aiohttp import web

from gateway.console import case, login, nota, queue, recap, staff


def route_tables() -> list[web.RouteTableDef]:
    return [login.routes, queue.routes, case.routes, nota.routes, recap.routes, staff.routes]
