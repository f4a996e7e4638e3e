"""Who is behind a staff request: a bearer token of the API, or the desk's session.

No token, or one nobody holds → 401; a role the route does not serve → 403.
"""

from __future__ import annotations

from collections.abc import Iterable

from aiohttp import web

from channels.http import json_error
from gateway.context import gateway_of
from workflow.roles import Actor, Role


def bearer(request: web.Request) -> str | None:
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    return secret.strip() if scheme.lower() == "bearer" and secret.strip() else None


async def require_staff(request: web.Request, roles: Iterable[Role] | None = None) -> Actor:
    """The person behind the request's bearer token, if their role is one of `roles`."""
    token = bearer(request)
    if token is None:
        raise json_error(
            401,
            "unauthorized",
            "Token petugas diperlukan.",
            headers={"WWW-Authenticate": 'Bearer realm="lapor"'},
        )
    actor = await gateway_of(request).accounts.actor(token)
    if actor is None:
        raise json_error(
            401,
            "unauthorized",
            "Token petugas tidak dikenal atau sudah tidak berlaku.",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    if roles is not None and actor.role not in set(roles):
        raise json_error(403, "forbidden", "Peran Anda tidak berwenang untuk layanan ini.")
    return actor


STAFF_READERS = frozenset(
    {Role.ADMIN_INSTANSI, Role.ADMIN_PENGHUBUNG, Role.ADMIN_OPD, Role.PEJABAT_PENGHUBUNG}
)
"""Everyone who works the queue (the front desk does not)."""
