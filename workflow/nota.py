"""Approving a nota dinas: the exact text of the draft, frozen with its signer and a
SHA-256, numbered by the store from the agency's sequence of the year."""

from __future__ import annotations

import hashlib
from datetime import datetime

from config.profile import Profile
from normalizer.casework import Approval, Draft, nota_text
from workflow.roles import Actor


def approval_of(draft: Draft, signer: Actor, now: datetime, profile: Profile) -> Approval:
    local = now.astimezone(profile.zone)
    return Approval(
        draft_version=draft.version,
        agency=draft.agency,
        perihal=draft.perihal,
        isi=draft.isi,
        sha256=hashlib.sha256(nota_text(draft.perihal, draft.isi).encode()).hexdigest(),
        signer=signer.username,
        signer_name=signer.label,
        signer_jabatan=signer.jabatan,
        signer_nip=signer.nip,
        approved_at=now,
        year=local.year,
        month=local.month,
        number_format=profile.nota_dinas.number_format,
    )
