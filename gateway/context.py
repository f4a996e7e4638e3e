"""What every route and channel needs, built once per application: the gateway is the
`ChannelHost` every channel plugin gets (channels/plugin.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from aiohttp import web

from channels.plugin import ChannelPlugin
from config.profile import Profile
from config.settings import Settings
from gateway.accounts import Accounts
from gateway.clients import client_address
from gateway.forms import FormLimits
from gateway.intake import IntakeService
from gateway.limits import Allowance
from gateway.signing import Signer
from store.base import Store
from store.blobs import BlobStore
from workflow.codes import StatusCodes
from workflow.commands import CitizenCommands
from workflow.service import WorkflowService


@dataclass
class Gateway:
    settings: Settings
    profile: Profile
    store: Store
    intake: IntakeService
    citizen: CitizenCommands
    workflow: WorkflowService
    accounts: Accounts
    codes: StatusCodes
    blobs: BlobStore
    signer: Signer
    clock: Callable[[], datetime]
    upload_allowance: Allowance
    channels: list[ChannelPlugin] = field(default_factory=list)

    @property
    def form_limits(self) -> FormLimits:
        s = self.settings
        return FormLimits(s.max_request_bytes, s.max_upload_bytes, s.max_upload_files)

    @property
    def base_url(self) -> str:
        """The address citizens reach: LAPOR_PUBLIC_BASE_URL, else this host and port;
        never the request's own Host header, which anyone can set."""
        s = self.settings
        return s.public_base_url or f"http://{s.host}:{s.port}"

    def public_url(self, path: str) -> str:
        return self.base_url + path

    def status_url(self, tracking_id: str) -> str:
        return self.public_url(f"/status/{tracking_id}")

    def secure_cookies(self) -> bool:
        return self.settings.public_base_url.startswith("https://")

    def client_of(self, request: web.Request) -> str | None:
        """The client's address, behind LAPOR_TRUSTED_PROXIES as they name it."""
        return client_address(request, self.settings.trusted_proxies)

    def channel(self, name: str) -> ChannelPlugin | None:
        return next((c for c in self.channels if c.name == name), None)


GATEWAY = web.AppKey("gateway", Gateway)


def gateway_of(request: web.Request) -> Gateway:
    return request.app[GATEWAY]
