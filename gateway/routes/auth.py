"""`/api/v1/auth/token` and `/api/v1/auth/logout`: staff accounts sign in for a token."""

from __future__ import annotations

from aiohttp import web
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from channels.http import json_error
from gateway.accounts import BadLogin, LockedOut
from gateway.apidoc import operation
from gateway.auth import bearer, require_staff
from gateway.context import gateway_of
from gateway.errors import read_json, validation_error

routes = web.RouteTableDef()
MAX_LOGIN_BYTES = 4096


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class TokenIssued(BaseModel):
    token: str = Field(description="Send as `Authorization: Bearer <token>`.")
    expires_at: AwareDatetime
    role: str
    agency: str | None


@routes.post("/api/v1/auth/token")
@operation(
    "Sign in with a staff account for a bearer token",
    {200: (TokenIssued, "Signed in")},
    body=TokenRequest,
    errors=(400, 401, 413, 415, 422, 429, 503),
)
async def token(request: web.Request) -> web.Response:
    gw = gateway_of(request)
    body = await read_json(request, MAX_LOGIN_BYTES)
    try:
        login = TokenRequest.model_validate(body)
    except ValidationError as exc:
        raise validation_error(exc, "Nama pengguna dan kata sandi diperlukan.") from None
    try:
        account = await gw.accounts.sign_in(login.username, login.password, gw.client_of(request))
    except LockedOut as exc:
        raise json_error(
            429,
            "too_many_attempts",
            "Terlalu banyak percobaan masuk yang gagal. Coba lagi nanti.",
            headers={"Retry-After": str(exc.retry_after)},
        ) from None
    except BadLogin:
        raise json_error(401, "bad_login", "Nama pengguna atau kata sandi salah.") from None
    issued = await gw.accounts.issue_token(account)
    body_out = TokenIssued(
        token=issued.token, expires_at=issued.expires_at, role=account.role, agency=account.agency
    )
    return web.Response(text=body_out.model_dump_json(), content_type="application/json")


@routes.post("/api/v1/auth/logout")
@operation(
    "Revoke the bearer token",
    {204: (None, "Revoked")},
    secured=True,
    errors=(400, 401, 503),
)
async def logout(request: web.Request) -> web.Response:
    await require_staff(request)
    secret = bearer(request)
    assert secret is not None
    accounts = gateway_of(request).accounts
    if accounts.env_actor(secret) is not None:
        raise json_error(
            400,
            "not_revocable",
            "Token operator dicabut dengan menghapusnya dari pengaturan "
            "(LAPOR_ADMIN_TOKENS, LAPOR_DESK_TOKENS).",
        )
    await accounts.revoke_token(secret)
    return web.Response(status=204)
