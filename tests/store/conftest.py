"""The PostgreSQL server the PostgreSQL store is tested on, a fresh database per test
(tests/servers.py)."""

from tests.servers import postgresql, postgresql_database

__all__ = ["postgresql", "postgresql_database"]
