"""Who acts in the workflow: the staff roles and the person behind a request."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class Role(StrEnum):
    ADMIN_INSTANSI = "admin_instansi"
    """Admin Utama of the regency: reads everything, manages accounts, makes the recap."""
    ADMIN_PENGHUBUNG = "admin_penghubung"
    """The regency's liaison admin: verifies, holds, rejects, archives, forwards."""
    ADMIN_OPD = "admin_opd"
    """An agency's LAPOR! admin: disposes, returns, drafts, submits, publishes."""
    PEJABAT_PENGHUBUNG = "pejabat_penghubung"
    """An agency's liaison official: decides the follow-up, approves or returns the draft."""
    PETUGAS_LOKET = "petugas_loket"
    """Front-desk staff: the desk intake only."""


AGENCY_ROLES: frozenset[Role] = frozenset({Role.ADMIN_OPD, Role.PEJABAT_PENGHUBUNG})
"""Roles bound to one agency: they see only the cases forwarded to it."""

REGENCY_READERS: frozenset[Role] = frozenset({Role.ADMIN_INSTANSI, Role.ADMIN_PENGHUBUNG})
"""Roles that read every case, confidential ones included, and the recap."""


class Actor(BaseModel):
    """The person behind a request, as authenticated.

    `may_act` is False for the operator tokens of the environment (`LAPOR_ADMIN_TOKENS`,
    `LAPOR_DESK_TOKENS`): every workflow action is done by a named account."""

    model_config = ConfigDict(frozen=True)

    username: str
    role: Role
    agency: str | None = None
    name: str | None = None
    jabatan: str | None = None
    """The official's position, printed on the nota dinas they sign."""
    nip: str | None = None
    may_act: bool = True
    may_manage: bool = False

    @property
    def label(self) -> str:
        return self.name or self.username
