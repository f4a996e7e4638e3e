"""The Gammu SMSD databases every test here runs on (tests/channels/sms/gammu/smsd.py), and
the MariaDB server they are made on (tests/servers.py)."""

from tests.channels.sms.gammu.smsd import backend, db, host_in_ketapang
from tests.servers import mariadb

__all__ = ["backend", "db", "host_in_ketapang", "mariadb"]
