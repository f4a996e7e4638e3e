"""Which SMS gateways this deployment has, from its `LAPOR_*` settings.

A gateway's webhook is open only when the secret that authenticates it is set, and its
sender exists only when its credentials are: nothing is reachable half-configured.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from channels.sms.gammu.database import GammuDatabase
from channels.sms.gammu.outbox import GammuSender
from channels.sms.kannel.outbound import KannelSender
from channels.sms.models import SmsSender
from channels.sms.texts import check_reply_lengths
from channels.sms.twilio.outbound import TwilioSender
from channels.sms.vonage.outbound import VonageSender
from config.profile import Profile
from config.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class SmsGateways:
    """The webhooks that are open and the senders that can answer."""

    webhooks: frozenset[str]
    senders: dict[str, SmsSender] = field(default_factory=dict)
    gammu: GammuDatabase | None = None

    async def close(self) -> None:
        for sender in self.senders.values():
            await sender.close()
        if self.gammu is not None:
            await self.gammu.close()


def sms_gateways(settings: Settings, profile: Profile) -> SmsGateways:
    """Raises ValueError (the CLI exits 2 with it) for a setting that cannot work."""
    check_reply_lengths(profile)
    s = settings
    webhooks = {
        name
        for name, on in (
            ("twilio", s.twilio_auth_token is not None),
            ("vonage", bool(s.vonage_api_key or s.vonage_signature_secret)),
            ("kannel", s.kannel_secret is not None),
        )
        if on
    }
    gateways = SmsGateways(webhooks=frozenset(webhooks))
    short_code = profile.sms.short_code
    if s.twilio_auth_token and s.twilio_account_sid and s.twilio_from:
        gateways.senders["twilio"] = _twilio(settings)
    if s.vonage_api_key and s.vonage_api_secret:
        gateways.senders["vonage"] = VonageSender(
            s.vonage_api_key,
            s.vonage_api_secret.get_secret_value(),
            sender=s.vonage_from or short_code,
            base_url=s.vonage_api_url,
        )
    if s.kannel_sendsms_url:
        gateways.senders["kannel"] = KannelSender(
            s.kannel_username,
            s.kannel_password.get_secret_value() if s.kannel_password else "",
            sendsms_url=s.kannel_sendsms_url,
            sender=s.kannel_from or short_code,
            smsc=s.kannel_smsc or None,
        )
    if s.gammu_database_url:
        gateways.gammu = GammuDatabase.from_url(s.gammu_database_url.get_secret_value())
        gateways.senders["gammu"] = GammuSender(gateways.gammu)
    _warn_unanswerable(gateways)
    if "vonage" in webhooks and s.vonage_signature_secret is None:
        if s.vonage_allow_unsigned:
            log.warning(
                "LAPOR_VONAGE_ALLOW_UNSIGNED is on: anyone who finds the Vonage webhook can "
                "file SMS complaints in any number's name and have replies sent to it"
            )
        else:
            log.error(
                "LAPOR_VONAGE_SIGNATURE_SECRET is not set: every Vonage delivery is refused "
                "(403) until it is (or LAPOR_VONAGE_ALLOW_UNSIGNED=true, not recommended)"
            )
    if "twilio" in webhooks and not s.public_base_url:
        log.warning(
            "LAPOR_PUBLIC_BASE_URL is not set: Twilio signs the public URL it calls, and "
            "behind a proxy every Twilio SMS would be refused (403)"
        )
    return gateways


def _twilio(settings: Settings) -> TwilioSender:
    s = settings
    assert s.twilio_auth_token is not None
    # A Messaging Service SID (MG…) picks the number itself; anything else is a number.
    service = s.twilio_from if s.twilio_from.startswith("MG") else None
    return TwilioSender(
        s.twilio_account_sid,
        s.twilio_auth_token.get_secret_value(),
        from_number=None if service else s.twilio_from,
        messaging_service_sid=service,
        base_url=s.twilio_api_url,
    )


def _warn_unanswerable(gateways: SmsGateways) -> None:
    # Twilio and Kannel answer in the webhook's reply, but later news (a status, the
    # agency's answer) and Vonage's replies need a sender.
    for name in sorted(gateways.webhooks - set(gateways.senders)):
        log.warning(
            "SMS via %s comes in, but no %s sender is configured to answer later", name, name
        )
