"""The nota dinas as a PDF (A4), drawn with fpdf2 from the same `NotaDocument` as the HTML
view, so both carry the same facts.

Text is Unicode (citizens and staff write anything): the PDF embeds DejaVu Sans from
Debian's fonts-dejavu-core (`make run` and `make test` install it where it is missing).
A character the font has no glyph for is printed as "�" rather than dropped silently. Where
the font is missing or unreadable the PDF is still made, with the PDF's own Helvetica: the
text then keeps to Latin-1 (other letters lose their accents or become "?"), and the
gateway logs a warning saying so.
"""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import TTFFont

if TYPE_CHECKING:
    from gateway.console.nota import NotaDocument

log = logging.getLogger(__name__)

FONT_DIRS: tuple[Path, ...] = (
    Path("/usr/share/fonts/truetype/dejavu"),  # Debian, Ubuntu: fonts-dejavu-core
    Path("/usr/share/fonts/dejavu-sans-fonts"),  # Fedora
    Path("/usr/share/fonts/TTF"),  # Arch
    Path("/usr/share/fonts/dejavu"),
)
"""Where DejaVu Sans is looked for, first match wins."""

REGULAR, BOLD = "DejaVuSans.ttf", "DejaVuSans-Bold.ttf"
FALLBACK = "helvetica"
GREY_MARK = 205
"""The KONSEP watermark's grey: plain on screen, light enough to read the text through."""

# Latin-1 stand-ins for what Helvetica lacks, when the Unicode font is missing.
_ASCII = str.maketrans(
    {"—": "-", "–": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "…": "...", "•": "*"}
)
_SPACES = str.maketrans({"\t": "    ", "\r": None, "\u2028": "\n", "\u2029": "\n"})


@dataclass(frozen=True)
class _Fonts:
    text: str
    mono: str
    unicode: bool


def _find(name: str) -> Path | None:
    return next((d / name for d in FONT_DIRS if (d / name).is_file()), None)


class _Nota(FPDF):
    """One nota dinas; every page gets the KONSEP mark of a draft and a footer."""

    def __init__(self, doc: NotaDocument) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.doc = doc
        self.set_margins(left=25, top=20, right=20)
        self.set_auto_page_break(auto=True, margin=20)
        self.fonts_used = self._load_fonts()

    def _load_fonts(self) -> _Fonts:
        regular, bold = _find(REGULAR), _find(BOLD)
        if regular is None:
            log.warning(
                "nota dinas PDF: %s not found in %s; using Helvetica (Latin-1 only). "
                "Install Debian's fonts-dejavu-core.",
                REGULAR,
                ", ".join(str(d) for d in FONT_DIRS),
            )
            return _Fonts(FALLBACK, "courier", unicode=False)
        try:
            self.add_font("dejavu", "", str(regular))
            self.add_font("dejavu", "B", str(bold or regular))
        except Exception:  # a damaged font file must not cost the document
            log.warning("nota dinas PDF: cannot read %s; using Helvetica", regular, exc_info=True)
            return _Fonts(FALLBACK, "courier", unicode=False)
        # The SHA-256 is hexadecimal: the PDF's own Courier prints it without a third font
        # to read (each TTF costs a tenth of a second per document).
        return _Fonts("dejavu", "courier", unicode=True)

    def fit(self, text: str) -> str:
        """The text as the current font can print it (see the module's docstring)."""
        text = unicodedata.normalize("NFC", text.translate(_SPACES))
        text = "".join(c for c in text if c == "\n" or unicodedata.category(c) != "Cc")
        font = self.current_font
        if isinstance(font, TTFFont):
            glyphs = font.cmap
            unknown = "\ufffd" if 0xFFFD in glyphs else "?"
            return "".join(
                c if c == "\n" or ord(c) in glyphs else _missing(c, unknown) for c in text
            )
        return "".join(_latin1(c) for c in text.translate(_ASCII))

    def use(self, style: str = "", size: float = 11, *, mono: bool = False) -> None:
        family = self.fonts_used.mono if mono else self.fonts_used.text
        self.set_font(family, "" if mono else style, size)

    def line_of(self, text: str, height: float, align: str = "L") -> None:
        self.multi_cell(0, height, self.fit(text), align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def header(self) -> None:
        if not self.doc.konsep:
            return
        # A large grey KONSEP across the middle of every page, under the text.
        self.use("B", 110)
        self.set_text_color(GREY_MARK)
        width = self.get_string_width("KONSEP")
        cx, cy = self.w / 2, self.h / 2
        with self.rotation(angle=50, x=cx, y=cy):
            self.text(cx - width / 2, cy + 110 * 0.3528 / 3, "KONSEP")
        self.set_text_color(0)

    def footer(self) -> None:
        self.set_y(-14)
        self.use("", 8)
        self.set_text_color(110)
        mark = "KONSEP · " if self.doc.konsep else ""
        words = (
            f"{mark}Nota dinas laporan {self.doc.tracking_id} · versi {self.doc.version} · "
            f"halaman {self.page_no()}/{{nb}}"
        )
        self.cell(0, 5, self.fit(words), align="C")
        self.set_text_color(0)


def _latin1(char: str) -> str:
    """A character as Helvetica can print it: itself, else without its accents ("ā" → "a",
    "ﬁ" → "fi"), else "?"."""
    if ord(char) < 256:
        return char
    plain = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    return plain if plain and all(ord(c) < 256 for c in plain) else "?"


def _missing(char: str, unknown: str) -> str:
    # Marks and invisible joiners (emoji sequences) have nothing to show when missing.
    return "" if unicodedata.category(char) in ("Mn", "Me", "Cf") else unknown


def render(doc: NotaDocument) -> bytes:
    """The nota dinas as PDF bytes."""
    pdf = _Nota(doc)
    pdf.set_lang("id")
    pdf.set_title(f"Nota Dinas {doc.number or 'KONSEP'} · {doc.tracking_id}")
    pdf.set_author(doc.dari)
    pdf.set_subject(doc.perihal)
    pdf.set_creator("LAPOR! gateway")
    pdf.add_page()
    _letterhead(pdf, doc)
    _title(pdf, doc)
    _head(pdf, doc)
    pdf.use("", 11)
    pdf.line_of(doc.isi, 6)
    if doc.signature is None:
        _unsigned(pdf, doc)
    else:
        _signed(pdf, doc)
    return bytes(pdf.output())


def _letterhead(pdf: _Nota, doc: NotaDocument) -> None:
    pdf.use("B", 13)
    pdf.line_of(doc.government.upper(), 6.5, "C")
    pdf.use("B", 12)
    pdf.line_of(doc.department.upper(), 6, "C")
    pdf.use("", 9)
    for line in doc.office_lines:
        pdf.line_of(line, 4.5, "C")
    y = pdf.get_y() + 2
    right = pdf.w - pdf.r_margin
    pdf.set_line_width(0.8)
    pdf.line(pdf.l_margin, y, right, y)
    pdf.set_line_width(0.2)
    pdf.line(pdf.l_margin, y + 1.2, right, y + 1.2)
    pdf.set_y(y + 6)


def _title(pdf: _Nota, doc: NotaDocument) -> None:
    pdf.use("B", 14)
    pdf.line_of("NOTA DINAS", 7, "C")
    pdf.use("", 11)
    pdf.line_of(f"Nomor: {doc.number_text}", 6, "C")
    pdf.use("B" if doc.konsep else "", 10)
    pdf.set_text_color(90 if doc.konsep else 60)
    pdf.line_of(doc.status, 5.5, "C")
    pdf.set_text_color(0)
    pdf.ln(4)


def _head(pdf: _Nota, doc: NotaDocument) -> None:
    pdf.use("", 11)
    for label, value in doc.head:
        pdf.cell(25, 6, pdf.fit(label))
        pdf.cell(5, 6, ":")
        pdf.multi_cell(0, 6, pdf.fit(value), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    y = pdf.get_y() + 2
    pdf.set_line_width(0.3)
    pdf.line(pdf.l_margin, y, pdf.w - pdf.r_margin, y)
    pdf.set_y(y + 4)


def _signed(pdf: _Nota, doc: NotaDocument) -> None:
    signature = doc.signature
    assert signature is not None
    pdf.ln(8)
    if pdf.get_y() > pdf.page_break_trigger - 55:
        pdf.add_page()  # the signature block stays in one piece
    column = pdf.l_margin + 70
    lines: list[tuple[str, str]] = [
        ("", "Disetujui dan ditandatangani secara elektronik"),
        ("", signature.signed_at),
    ]
    if signature.jabatan:
        lines.append(("B", signature.jabatan))
    lines.append(("", ""))
    lines.append(("B", signature.name))
    if signature.nip:
        lines.append(("", f"NIP. {signature.nip}"))
    for style, text in lines:
        pdf.set_x(column)
        pdf.use(style, 11 if style else 10)
        pdf.multi_cell(0, 5.5, pdf.fit(text), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(6)
    pdf.use("", 8)
    pdf.line_of("Sidik teks yang disetujui (perihal dan isi):", 4.5)
    pdf.use(size=8, mono=True)
    pdf.line_of(f"SHA-256: {signature.sha256}", 4.5)


def _unsigned(pdf: _Nota, doc: NotaDocument) -> None:
    pdf.ln(8)
    pdf.use("B", 10)
    pdf.set_text_color(90)
    pdf.line_of(
        "KONSEP: belum disetujui dan belum ditandatangani. Nomor nota dinas diberikan "
        "saat Pejabat Penghubung menyetujuinya.",
        5.5,
    )
    pdf.set_text_color(0)
