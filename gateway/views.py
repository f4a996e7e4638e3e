"""Shared pieces of the HTML pages: the catalogue in templates, error texts for fields."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web
from pydantic import ValidationError

from config.locale import local_time, long_date
from config.profile import Profile
from gateway.context import gateway_of
from gateway.errors import field_problems

# pydantic error types → catalogue keys, so the citizen reads Bahasa Indonesia.
_FIELD_TEXTS = {
    "missing": "field.required",
    "string_too_short": "field.too_short",
    "string_too_long": "field.too_long",
}


# The queue's channel marks: short words, not emoji (a browser without an emoji font, as on
# many office PCs, would show empty boxes); the full name is beside each for screen readers.
_CHANNEL_MARKS = {
    "web": "Web", "app": "App", "walkin": "Loket", "phone": "Telp", "sms": "SMS",
    "email": "Surel", "fax": "Faks", "x": "X", "telegram": "TG", "messenger": "FB",
}  # fmt: skip


def state_name(state: str) -> str:
    """A case state as staff say it: 'menunggu_persetujuan' → 'Menunggu persetujuan'."""
    return state.replace("_", " ").capitalize()


def channel_icon(channel: str) -> str:
    return _CHANNEL_MARKS.get(channel, channel)


FILTERS = {"state_name": state_name, "channel_icon": channel_icon}


def field_errors(exc: ValidationError, profile: Profile) -> dict[str, str]:
    errors: dict[str, str] = {}
    for err, problem in zip(exc.errors(), field_problems(exc), strict=True):
        key = _FIELD_TEXTS.get(err["type"])
        ctx = err.get("ctx", {})
        if key:
            text = profile.message(key, min=ctx.get("min_length"), max=ctx.get("max_length"))
        elif problem.field == "contact":
            text = profile.message("field.contact_required")
        else:
            text = profile.message("field.invalid")
        errors.setdefault(problem.field, text)
    return errors


def render(
    request: web.Request, template: str, context: dict[str, Any], status: int = 200
) -> web.Response:
    gw = gateway_of(request)
    base = {
        "profile": gw.profile,
        "t": gw.profile.message,
        "long_date": long_date,
        "local_time": lambda value: local_time(value, gw.profile.zone),
    }
    return aiohttp_jinja2.render_template(template, request, base | context, status=status)
