"""`/lapor`: the citizen web form and its receipt."""

from __future__ import annotations

from aiohttp import web

from channels.complaint_fields import ComplaintFields
from gateway.complaint_form import FormPage, receipt_page, submit_complaint_form
from gateway.context import gateway_of
from normalizer.models import Channel

PAGE = FormPage(template="lapor.html", same_site="Lax", context={})

routes = web.RouteTableDef()


@routes.get("/lapor")
async def show_form(request: web.Request) -> web.Response:
    return PAGE.show(request)


@routes.post("/lapor")
async def submit_form(request: web.Request) -> web.Response:
    outcome = await submit_complaint_form(
        request, PAGE, ComplaintFields, channel_of=lambda _: Channel.WEB
    )
    if isinstance(outcome, web.Response):
        return outcome
    return receipt_page(request, gateway_of(request), outcome)
