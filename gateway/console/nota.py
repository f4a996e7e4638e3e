"""`/admin/cases/{tracking_id}/nota` and `…/nota.pdf`: the nota dinas as a document to
print or download.

One version of the draft (`?draft=N`, else the latest) becomes one `NotaDocument`: the
office's letterhead from the profile, the number given at approval, the date, *perihal*,
the text and, once that version is approved, the signer with the SHA-256 of the approved
text; a version not approved is marked KONSEP. The HTML view and the PDF are both drawn
from that one object, so they always carry the same facts.

Who may open it: whoever sees the whole case (workflow/visibility.py `Sight.FULL`) and may
read its drafts (gateway/case_detail.py); anyone else gets a 404 page, as for a case that
does not exist.
"""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass
from datetime import datetime

from aiohttp import web

from config.locale import local_time, long_date
from config.profile import Profile
from gateway.case_detail import AdminComplaintDetail, detail
from gateway.console.access import page, refused, signed_in
from gateway.context import gateway_of
from normalizer.casework import Draft, NotaDinas
from normalizer.models import TimelineEntry
from workflow.roles import Actor
from workflow.service import NotFound
from workflow.visibility import Sight

routes = web.RouteTableDef()

NO_DRAFT = "Belum ada nota dinas yang dikonsep untuk laporan ini."
UNKNOWN_VERSION = "Versi konsep nota dinas itu tidak ada."
NOT_SHOWN = "Laporan tidak ditemukan."


@dataclass(frozen=True)
class Signature:
    """What approval froze: who signed, when, and the SHA-256 of the exact text."""

    name: str
    jabatan: str | None
    nip: str | None
    signed_at: str
    """The approval's time in the regency's words: 'Jumat, 14 Agustus 2026, 10.00 WIB'."""
    sha256: str


@dataclass(frozen=True)
class NotaDocument:
    tracking_id: str
    version: int
    versions: tuple[tuple[int, bool], ...]
    """Every version of the draft, and whether it was approved (for the view's links)."""
    government: str
    department: str
    office_lines: tuple[str, ...]
    """The letterhead's address line, and its telephone and e-mail line when set."""
    number: str | None
    """Given at approval; None for a draft."""
    date: str
    """The approval's date, else the draft's: 'Jumat, 14 Agustus 2026'."""
    kepada: str
    dari: str
    sifat: str
    perihal: str
    isi: str
    rujukan: str
    signature: Signature | None
    returned: bool
    """This version went back to its author (`kembalikan_konsep`)."""
    published: str | None
    """When the approved answer went out to the citizen."""

    @property
    def konsep(self) -> bool:
        """Not approved: marked KONSEP, on screen, on paper and in the PDF."""
        return self.signature is None

    @property
    def status(self) -> str:
        if self.signature is not None:
            if self.published is not None:
                return f"Disetujui; diterbitkan {self.published}"
            return "Disetujui, belum diterbitkan"
        if self.returned:
            return f"KONSEP versi {self.version}: dikembalikan untuk diperbaiki"
        return f"KONSEP versi {self.version}: belum disetujui"

    @property
    def head(self) -> tuple[tuple[str, str], ...]:
        """The lines under the title, label and value, in the order a nota dinas has them."""
        return (
            ("Kepada", self.kepada),
            ("Dari", self.dari),
            ("Tanggal", self.date),
            ("Sifat", self.sifat),
            ("Perihal", self.perihal),
            ("Rujukan", self.rujukan),
        )

    @property
    def number_text(self) -> str:
        return self.number or "—"

    @property
    def filename(self) -> str:
        return f"nota-dinas-{self.tracking_id}-v{self.version}.pdf"


def kepada(profile: Profile) -> str:
    """Whom an agency's nota dinas on a LAPOR! complaint is addressed to: the regency's
    liaison admin, who forwarded the complaint and answers for the service."""
    return f"Admin Penghubung SP4N-LAPOR! {profile.regency}"


def document(
    profile: Profile,
    case: AdminComplaintDetail,
    draft: Draft,
    nota: NotaDinas | None,
) -> NotaDocument:
    """The printable nota dinas of one draft version (approved as `nota`, or not)."""
    office = profile.office
    contact = [f"Telepon {office.phone}" if office.phone else "", office.email or ""]
    lines = (office.address, " · ".join(c for c in contact if c))
    approved = {n.draft_version for n in case.notas}
    signature = None
    if nota is not None:
        signature = Signature(
            name=nota.signer_name,
            jabatan=nota.signer_jabatan,
            nip=nota.signer_nip,
            signed_at=local_time(nota.approved_at, profile.zone),
            sha256=nota.sha256,
        )
    dated: datetime = nota.approved_at if nota is not None else draft.created_at
    published = nota.published_at if nota is not None else None
    return NotaDocument(
        tracking_id=case.tracking_id,
        version=draft.version,
        versions=tuple((d.version, d.version in approved) for d in case.drafts),
        government=office.government,
        department=office.department,
        office_lines=tuple(line for line in lines if line),
        number=nota.number if nota is not None else None,
        date=long_date(dated.astimezone(profile.zone).date()),
        kepada=kepada(profile),
        dari=profile.agency_names.get(draft.agency, draft.agency),
        sifat="Rahasia" if case.confidential else "Biasa",
        # Approval froze the text: the approved words are the ones printed.
        perihal=nota.perihal if nota is not None else draft.perihal,
        isi=nota.isi if nota is not None else draft.isi,
        rujukan=f"Laporan SP4N-LAPOR! nomor pelacakan {case.tracking_id}",
        signature=signature,
        returned=nota is None and draft.version in returned_versions(case.timeline),
        published=local_time(published, profile.zone) if published is not None else None,
    )


def returned_versions(timeline: list[TimelineEntry]) -> set[int]:
    """The draft versions the Pejabat Penghubung sent back. Every `konsep` step adds the
    next version and `kembalikan_konsep` returns the latest; the timeline keeps the steps
    in the order they were taken."""
    latest = 0
    returned: set[int] = set()
    for entry in timeline:
        if entry.kind == "case.konsep":
            latest += 1
        elif entry.kind == "case.kembalikan_konsep" and latest:
            returned.add(latest)
    return returned


class Missing(Exception):
    """Nothing to show: the 404 page says why."""

    def __init__(self, message: str, case_link: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.case_link = case_link


async def _document(request: web.Request, actor: Actor) -> NotaDocument:
    gw = gateway_of(request)
    try:
        view = await gw.workflow.view(request.match_info["tracking_id"], actor)
    except NotFound as exc:
        raise Missing(exc.message) from None
    if view.sight is not Sight.FULL:
        raise Missing(NOT_SHOWN)
    case = await detail(gw, view, actor)
    link = f"/admin/cases/{case.tracking_id}"
    if not case.drafts:
        # None yet, or none this person may read (a confidential complaint's).
        raise Missing(NO_DRAFT, link)
    given = request.query.get("draft")
    if given is None:
        draft = max(case.drafts, key=lambda d: d.version)
    else:
        wanted = given.strip()
        draft_or_none = next((d for d in case.drafts if wanted == str(d.version)), None)
        if draft_or_none is None:
            raise Missing(UNKNOWN_VERSION, link)
        draft = draft_or_none
    nota = next((n for n in case.notas if n.draft_version == draft.version), None)
    return document(gw.profile, case, draft, nota)


def _missing(request: web.Request, actor: Actor, missing: Missing) -> web.Response:
    back = (missing.case_link, "Kembali ke kasus") if missing.case_link else None
    title = "Nota dinas tidak ditemukan"
    if back is None:
        return refused(request, actor, 404, title, missing.message)
    return refused(request, actor, 404, title, missing.message, back)


@routes.get("/admin/cases/{tracking_id}/nota")
async def nota_page(request: web.Request) -> web.Response:
    actor = await signed_in(request)
    try:
        doc = await _document(request, actor)
    except Missing as missing:
        return _missing(request, actor, missing)
    return page(request, "nota.html", actor, {"doc": doc})


@routes.get("/admin/cases/{tracking_id}/nota.pdf")
async def nota_pdf_download(request: web.Request) -> web.Response:
    actor = await signed_in(request)
    try:
        doc = await _document(request, actor)
    except Missing as missing:
        return _missing(request, actor, missing)
    # Laying out the pages and embedding the font take a tenth of a second or so: off the
    # event loop, which goes on serving everyone else meanwhile.
    body = await asyncio.to_thread(_pdf, doc)
    return web.Response(
        body=body,
        content_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{doc.filename}"',
            "Cache-Control": "private, no-store",
        },
    )


@functools.lru_cache(maxsize=64)
def _pdf(doc: NotaDocument) -> bytes:
    """A document's PDF, kept for the next download: a version of a nota dinas never
    changes, and what does (approved, returned, published) is part of the document."""
    # fpdf2 brings Pillow and fontTools: about a second and 35 MB to import, so a process
    # pays for them only once someone asks for a PDF (an intake-only process never does).
    from gateway.console.nota_pdf import render

    return render(doc)
