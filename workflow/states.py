"""The case states of the SP4N-LAPOR! workflow.

The values are the Indonesian terms the Admin Penghubung and the agencies already use,
and they are what the store keeps, so they must not be renamed.
"""

from __future__ import annotations

from enum import StrEnum


class CaseState(StrEnum):
    DITERIMA = "diterima"
    """Received, awaiting verification by the Admin Penghubung."""
    DIVERIFIKASI = "diverifikasi"
    """Verified as a complaint the regency can act on."""
    DITERUSKAN = "diteruskan"
    """Forwarded to the responsible agency (OPD)."""
    DITINDAKLANJUTI = "ditindaklanjuti"
    """Being followed up by the agency."""
    SELESAI = "selesai"
    """Answered and closed."""
    DITOLAK = "ditolak"
    """Rejected: not actionable."""


FINAL_STATES: frozenset[CaseState] = frozenset({CaseState.SELESAI, CaseState.DITOLAK})
