"""The Gammu SMSD databases every test here runs on (tests/channels/sms/gammu/smsd.py)."""

from tests.channels.sms.gammu.smsd import backend, db, host_in_ketapang

__all__ = ["backend", "db", "host_in_ketapang"]
