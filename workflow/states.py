"""The case states of the SP4N-LAPOR! workflow.

The values are the Indonesian terms the Admin Penghubung and the agencies already use,
and they are what the store keeps, so they must not be renamed.
"""

from __future__ import annotations

from enum import StrEnum


class CaseState(StrEnum):
    DITERIMA = "diterima"
    """Received, awaiting verification by the Admin Penghubung."""
    DITUNDA = "ditunda"
    """On hold: the Admin Penghubung asked the citizen a question."""
    DITERUSKAN = "diteruskan"
    """Verified and forwarded to the responsible agency (OPD)."""
    DIDISPOSISI = "didisposisi"
    """The agency's admin passed it to its Pejabat Penghubung."""
    DITINDAKLANJUTI = "ditindaklanjuti"
    """The Pejabat decided the follow-up; the answer is being drafted."""
    MENUNGGU_PERSETUJUAN = "menunggu_persetujuan"
    """The draft answer (nota dinas) waits for the Pejabat's approval."""
    DISETUJUI = "disetujui"
    """The answer is approved and signed, not yet published."""
    DIJAWAB = "dijawab"
    """The answer is published and sent to the citizen."""
    SELESAI = "selesai"
    """Closed: answered (and rated, or not rated in time)."""
    DITOLAK = "ditolak"
    """Closed: rejected (not the regency's authority, not actionable, spam)."""
    DIARSIPKAN = "diarsipkan"
    """Closed: a duplicate, or a question the citizen never answered."""


FINAL_STATES: frozenset[CaseState] = frozenset(
    {CaseState.SELESAI, CaseState.DITOLAK, CaseState.DIARSIPKAN}
)
"""Entering one sets the case's `closed_at`; "closed" means exactly these, everywhere."""

VERIFICATION_STATES: frozenset[CaseState] = frozenset({CaseState.DITERIMA, CaseState.DITUNDA})
"""The current deadline is verification (a hold pauses no deadline)."""

COMPLETION_STATES: frozenset[CaseState] = frozenset(
    {
        CaseState.DITERUSKAN,
        CaseState.DIDISPOSISI,
        CaseState.DITINDAKLANJUTI,
        CaseState.MENUNGGU_PERSETUJUAN,
        CaseState.DISETUJUI,
    }
)
"""The current deadline is completion; once answered (`dijawab`) there is none."""
