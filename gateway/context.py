"""What every route needs, built once per application."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from aiohttp import web

from config.profile import Profile
from config.settings import Settings
from gateway.auth import StaffDirectory
from gateway.forms import FormLimits
from gateway.intake import IntakeService
from gateway.signing import Signer
from store.base import Store
from store.blobs import BlobStore

if TYPE_CHECKING:  # the SMS service's replies use the pages' date format, which needs this
    from gateway.sms.service import SmsService
    from gateway.sms.wiring import SmsGateways


@dataclass
class Gateway:
    settings: Settings
    profile: Profile
    store: Store
    intake: IntakeService
    blobs: BlobStore
    signer: Signer
    staff: StaffDirectory
    clock: Callable[[], datetime]
    sms: SmsService
    sms_gateways: SmsGateways

    @property
    def form_limits(self) -> FormLimits:
        s = self.settings
        return FormLimits(s.max_request_bytes, s.max_upload_bytes, s.max_upload_files)

    def public_url(self, request: web.Request, path: str) -> str:
        base = self.settings.public_base_url or f"{request.scheme}://{request.host}"
        return base + path

    def secure_cookies(self) -> bool:
        return self.settings.public_base_url.startswith("https://")


GATEWAY = web.AppKey("gateway", Gateway)


def gateway_of(request: web.Request) -> Gateway:
    return request.app[GATEWAY]
