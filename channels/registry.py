"""Every channel the gateway mounts, in one list. Adding a channel is a folder under
`channels/` with its plugin, fixtures and tests, and one line here."""

from __future__ import annotations

from channels.desk.plugin import DeskPlugin
from channels.plugin import ChannelPlugin
from channels.sms.plugin import SmsPlugin

PLUGINS: tuple[type[ChannelPlugin], ...] = (
    SmsPlugin,
    DeskPlugin,
)
