"""Render a certificate as a one-page A4 landscape PDF people can frame.

User text (names, titles) is only ever drawn with ``cell``: no markup parser, no page-number
alias, no resource fetching. The same snapshot and token give byte-identical output.

Fonts come parsed from `coaching.credentials.fonts` (once per process); a certificate whose text lies in
`fonts.COMMON` embeds DejaVu Serif prepared once as a subset, any other uses the whole fonts.
"""

from __future__ import annotations

import base64
import json
import math
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import segno
from fpdf import FPDF
from fpdf.enums import ResourceAccessPolicy
from fpdf.errors import FPDFResourceAccessError

from coaching.credentials import fonts
from coaching.credentials.snapshot import CertificateSnapshot

SERIF = "serif"  # DejaVu Serif: every line of the certificate
FALLBACK = "fallback"  # DejaVu Sans, loaded only when a name needs glyphs Serif lacks
_FONT_FILES = {
    (SERIF, ""): "DejaVuSerif.ttf",
    (SERIF, "B"): "DejaVuSerif-Bold.ttf",
    (FALLBACK, ""): "DejaVuSans.ttf",
    (FALLBACK, "B"): "DejaVuSans-Bold.ttf",
}

PAGE_W, PAGE_H = 297.0, 210.0  # A4 landscape, mm
TEXT_W = 237.0  # width of the centered text column
ACCENT = (30, 58, 95)  # the one accent colour: deep navy
INK = (33, 37, 41)
MUTED = (96, 103, 112)
RULE = (190, 196, 204)
PT = 25.4 / 72  # mm per point
LOGO_MAX_W, LOGO_MAX_H = 60.0, 16.0
QR_SIZE = 24.0

LABELS = {
    "en": {
        "certifies": "This certifies that",
        "before_course": "has successfully completed the course",
        "after_course": "",
        "issued": "Date of issue",
        "valid_until": "Valid until {date}",
        "issued_by": "Issued by",
        "certificate_id": "Certificate ID",
        "verify": "Verify at",
        "attachment": "Signed Open Badges 3.0 credential (VC-JWT)",
        "attachment_json": "Decoded payload of credential.jwt (the signature is in credential.jwt)",
    },
    "de": {
        "certifies": "Hiermit wird bestätigt, dass",
        "before_course": "den Kurs",
        "after_course": "erfolgreich abgeschlossen hat.",
        "issued": "Ausstellungsdatum",
        "valid_until": "Gültig bis {date}",
        "issued_by": "Ausgestellt von",
        "certificate_id": "Zertifikats-ID",
        "verify": "Prüfen unter",
        "attachment": "Signierter Open-Badges-3.0-Nachweis (VC-JWT)",
        "attachment_json": "Entschlüsselter Inhalt von credential.jwt (die Signatur steht in credential.jwt)",
    },
}
MONTHS = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
    "de": ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August",
           "September", "Oktober", "November", "Dezember"),
}
# Characters that may legitimately shape a name; every other format/control character goes,
# so a name cannot reorder itself with bidi overrides or hide text with invisible marks.
_KEEP_FORMAT = {"\u200c", "\u200d"}  # zero-width (non-)joiner


def format_date(moment, language: str) -> str:
    """Format a date as "25 November 2026" (en) or "25. November 2026" (de)."""
    month = MONTHS[language][moment.month - 1]
    if language == "de":
        return f"{moment.day}. {month} {moment.year}"
    return f"{moment.day} {month} {moment.year}"


def clean_text(text: str | None) -> str:
    """Return user text as one NFC line without control or bidi-override characters."""
    text = unicodedata.normalize("NFC", text or "")
    kept = (
        " " if ch.isspace() else ch
        for ch in text
        if ch.isspace() or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co")
        or ch in _KEEP_FORMAT
    )
    return " ".join("".join(kept).split())


# --- fitting text into a box ------------------------------------------------------------------


@dataclass(frozen=True)
class Fit:
    """A block of text laid out at one size: its lines and font size in points."""

    size: float
    lines: tuple[str, ...]


def _break_points(text: str) -> list[tuple[str, str]]:
    """Return every (first line, second line) split at a space, else after a hyphen."""
    # Spaces first: text extractors join "Müller-\nLüdenscheidt" as "MüllerLüdenscheidt".
    at_spaces = [(text[:i], text[i + 1 :]) for i, ch in enumerate(text) if ch == " "]
    return at_spaces or [
        (text[: i + 1], text[i + 1 :])
        for i, ch in enumerate(text[:-1])
        if ch in "-‐–/" and i > 0
    ]


def _hard_wrap(width_at: Callable[[str], float], text: str, limit: float, max_lines: int) -> tuple[str, ...]:
    """Wrap by characters into at most ``max_lines`` lines, ending with … if cut."""
    lines, current = [], ""
    for ch in text:
        if width_at(current + ch) > limit and current:
            lines.append(current.rstrip())
            current = ch.lstrip()
            if len(lines) == max_lines:
                break
        else:
            current += ch
    else:
        lines.append(current)
        return tuple(lines)
    last = lines[-1]
    while last and width_at(last + "…") > limit:
        last = last[:-1]
    return tuple(lines[:-1]) + (last.rstrip() + "…",)


def _floor(size: float) -> float:
    """Round a font size down to 1/100 pt (rounding up could overflow the box)."""
    return math.floor(size * 100) / 100


def fit_text(width_of: Callable[[str], float], text: str, *, box_width: float, max_size: float,
             min_size: float, max_lines: int = 2, one_line_min: float | None = None) -> Fit:
    """Pick the largest size (and one- or two-line split) at which ``text`` fits ``box_width``.

    ``width_of(s)`` gives the width of ``s`` at 1 pt; widths scale linearly with the size
    because no kerning or shaping is applied. One line is preferred down to ``one_line_min``;
    text too long for two lines at ``min_size`` is wrapped by characters and ends in "…".
    """
    full = width_of(text)
    one_line_size = _floor(min(max_size, box_width / full) if full else max_size)
    prefer_one_line = one_line_min if max_lines > 1 and one_line_min else min_size
    if one_line_size >= prefer_one_line:
        return Fit(one_line_size, (text,))
    if max_lines >= 2:
        best = min(
            _break_points(text),
            key=lambda pair: max(width_of(pair[0]), width_of(pair[1])),
            default=None,
        )
        if best is not None:
            size = _floor(min(max_size, box_width / max(width_of(best[0]), width_of(best[1]))))
            if size >= min_size:
                return Fit(size, best)
    if one_line_size >= min_size:
        return Fit(one_line_size, (text,))
    lines = _hard_wrap(lambda s: width_of(s) * min_size, text, box_width, max_lines)
    return Fit(min_size, lines)


# --- the document -----------------------------------------------------------------------------


class _CertificatePDF(FPDF):
    """FPDF with the vendored fonts, no external resources, and no page-number alias.

    ``prepared`` draws with DejaVu Serif prepared as a subset of `fonts.COMMON` (only for text within it),
    else with the whole fonts.
    """

    def __init__(self, *, prepared: bool = True) -> None:
        """Set up an empty A4 landscape page in millimetres."""
        super().__init__(orientation="L", unit="mm", format="A4")
        self.resource_access_policy = ResourceAccessPolicy.NONE
        self.alias_nb_pages(None)  # or a name containing "{nb}" would print as "1"
        self.set_auto_page_break(False)
        self.set_margins(0, 0, 0)
        self.c_margin = 0
        self.prepared = prepared
        for (family, style), filename in _FONT_FILES.items():
            if family == SERIF:
                self._add_face(family, style, fonts.face(filename, prepared=prepared))

    def _add_face(self, family: str, style: str, face: fonts.Face) -> None:
        """What ``add_font`` does, from a face parsed once per process instead of the file."""
        fontkey = f"{family}{style}"
        self.fonts[fontkey] = face.instance(self, fontkey, style)

    def close_fonts(self) -> None:
        """Close the fontTools objects of the fonts (each document has its own)."""
        for font in self.fonts.values():
            font.close()

    def ensure_glyphs(self, texts: list[str]) -> bool:
        """Load DejaVu Sans as a fallback when some text has characters Serif cannot draw; False instead when
        the fonts are prepared subsets (the page is then drawn with the whole fonts)."""
        cmap = self.fonts[SERIF].cmap
        if all(ord(ch) in cmap for text in texts for ch in text if not ch.isspace()):
            return True  # the common case: no other font
        if self.prepared:
            return False
        for (family, style), filename in _FONT_FILES.items():
            if family == FALLBACK:
                self._add_face(family, style, fonts.face(filename))
        self.set_fallback_fonts([FALLBACK], exact_match=False)
        return True

    def lacks_glyphs(self) -> bool:
        """True when some character drawn so far had no glyph in its font."""
        return any(font.missing_glyphs for font in self.fonts.values())

    def width_per_point(self, style: str = "") -> Callable[[str], float]:
        """Return a function giving a string's width in mm at 1 pt in the serif font."""

        def width(text: str) -> float:
            """Measure at 100 pt (set each time: drawing in between changes the font)."""
            self.set_font(SERIF, style, 100)
            return self.get_string_width(text) / 100

        return width

    def centered(self, y: float, text: str, size: float, *, style: str = "",
                 color=INK, x: float = (PAGE_W - TEXT_W) / 2, w: float = TEXT_W) -> float:
        """Draw one centered line with its top at ``y``; return the y below it."""
        self.set_font(SERIF, style, size)
        self.set_text_color(*color)
        line_h = size * PT * 1.25
        self.set_xy(x, y)
        self.cell(w=w, h=line_h, text=text, align="C")
        return y + line_h

    def block(self, top: float, height: float, fit: Fit, *, style: str = "", color=INK) -> None:
        """Draw fitted lines centered vertically in the band [top, top + height]."""
        line_h = fit.size * PT * 1.25
        y = top + (height - line_h * len(fit.lines)) / 2
        for line in fit.lines:
            y = self.centered(y, line, fit.size, style=style, color=color)

    def rule(self, y: float, width: float, color=RULE, x_center: float = PAGE_W / 2,
             thickness: float = 0.25) -> None:
        """Draw a thin horizontal line centered on ``x_center``."""
        self.set_draw_color(*color)
        self.set_line_width(thickness)
        self.line(x_center - width / 2, y, x_center + width / 2, y)


def _draw_border(pdf: _CertificatePDF) -> None:
    """Draw the thin double frame."""
    pdf.set_draw_color(*ACCENT)
    pdf.set_line_width(0.6)
    pdf.rect(10, 10, PAGE_W - 20, PAGE_H - 20)
    pdf.set_line_width(0.2)
    pdf.rect(12.5, 12.5, PAGE_W - 25, PAGE_H - 25)


def _logo_bytes(path: Path) -> bytes:
    """Read a PNG, JPEG or SVG logo from the operator's path (never from a URL)."""
    if path.suffix.lower() not in (".png", ".jpg", ".jpeg", ".svg"):
        raise ValueError(f"logo must be PNG, JPEG or SVG: {path.name}")
    return path.read_bytes()


def _draw_header(pdf: _CertificatePDF, snap: CertificateSnapshot) -> None:
    """Draw the logo (or the issuer's name as a word mark) at the top center."""
    if snap.logo_path is not None:
        # Bytes, and a NONE access policy on the document: an SVG cannot pull in other files.
        path = Path(snap.logo_path)
        try:
            pdf.image(_logo_bytes(path), x=(PAGE_W - LOGO_MAX_W) / 2, y=20,
                      w=LOGO_MAX_W, h=LOGO_MAX_H, keep_aspect_ratio=True)
        except FPDFResourceAccessError:
            raise ValueError(f"logo {path.name} refers to other files or URLs") from None
        return
    issuer = clean_text(snap.issuer_name)
    fit = fit_text(pdf.width_per_point(), issuer, box_width=TEXT_W, max_size=12,
                   min_size=7, max_lines=1)
    pdf.block(20, 10, fit, color=ACCENT)


def _draw_body(pdf: _CertificatePDF, snap: CertificateSnapshot, labels: dict) -> None:
    """Draw the title, the recipient's name and the course in the middle of the page."""
    bold = pdf.width_per_point("B")
    title = fit_text(bold, clean_text(snap.certificate_title), box_width=TEXT_W,
                     max_size=30, min_size=14, one_line_min=20)
    pdf.block(38, 22, title, style="B", color=ACCENT)
    pdf.rule(62, 40, color=ACCENT, thickness=0.4)
    pdf.centered(67, labels["certifies"], 13, color=MUTED)
    name = fit_text(bold, clean_text(snap.recipient_name), box_width=TEXT_W,
                    max_size=36, min_size=12, one_line_min=24)
    pdf.block(75, 28, name, style="B")
    pdf.rule(105, 150)
    pdf.centered(109, labels["before_course"], 13, color=MUTED)
    course = fit_text(pdf.width_per_point(), clean_text(snap.course_title), box_width=TEXT_W,
                      max_size=20, min_size=11, one_line_min=15)
    pdf.block(116, 20, course)
    if labels["after_course"]:
        pdf.centered(138.5, labels["after_course"], 13, color=MUTED)


def _signature_column(pdf: _CertificatePDF, center: float, value: str, caption: list[str],
                      *, style: str = "") -> None:
    """Draw a value above a rule with one or two caption lines below it (x-centered)."""
    x, w = center - 40, 80.0
    fit = fit_text(pdf.width_per_point(style), value, box_width=w, max_size=13, min_size=7,
                   max_lines=1)
    pdf.centered(158 - fit.size * PT * 1.25, value, fit.size, style=style, x=x, w=w)
    pdf.rule(160, 66, color=MUTED, x_center=center)
    y = 161.5
    for line in caption:
        fit = fit_text(pdf.width_per_point(), line, box_width=w, max_size=9, min_size=5,
                       max_lines=1)
        y = pdf.centered(y, line, fit.size, color=MUTED, x=x, w=w)


def _draw_signatures(pdf: _CertificatePDF, snap: CertificateSnapshot, lang: str) -> None:
    """Draw the date of issue (left) and the signer or issuer (right)."""
    labels = LABELS[lang]
    caption = [labels["issued"]]
    if snap.valid_until is not None:
        caption.append(labels["valid_until"].format(date=format_date(snap.valid_until, lang)))
    _signature_column(pdf, 85, format_date(snap.issued_at, lang), caption)
    issuer = clean_text(snap.issuer_name)
    signer = clean_text(snap.signer_name)
    if signer:
        role = clean_text(snap.signer_role)
        _signature_column(pdf, PAGE_W - 85, signer, [part for part in (role, issuer) if part],
                          style="B")
    else:
        _signature_column(pdf, PAGE_W - 85, issuer, [labels["issued_by"]], style="B")


def _draw_qr(pdf: _CertificatePDF, url: str, x: float, y: float, size: float) -> None:
    """Draw the URL as a vector QR code, one rectangle per run of dark modules."""
    qr = segno.make(url, error="m", micro=False)
    rows = [list(row) for row in qr.matrix_iter(scale=1, border=0)]
    module = size / len(rows)
    pdf.set_fill_color(0, 0, 0)
    for r, row in enumerate(rows):
        c = 0
        while c < len(row):
            if not row[c]:
                c += 1
                continue
            start = c
            while c < len(row) and row[c]:
                c += 1
            pdf.rect(x + start * module, y + r * module, (c - start) * module, module, style="F")


def _draw_footer(pdf: _CertificatePDF, snap: CertificateSnapshot, labels: dict) -> None:
    """Draw the QR code, the certificate id and the full verification URL at the bottom edge."""
    qr_x, qr_y = 19.0, PAGE_H - 19.0 - QR_SIZE
    url = clean_text(snap.verify_url)
    _draw_qr(pdf, url, qr_x, qr_y, QR_SIZE)
    x = qr_x + QR_SIZE + 5
    w = PAGE_W - 19.0 - x
    lines = [
        (f"{labels['certificate_id']}: {clean_text(snap.id)}", "B"),
        (f"{labels['verify']}: {url}", ""),
        (f"{labels['issued_by']}: {clean_text(snap.issuer_name)} · {clean_text(snap.issuer_url)}", ""),
    ]
    y = qr_y + 7
    for text, style in lines:
        fit = fit_text(pdf.width_per_point(style), text, box_width=w, max_size=8, min_size=4,
                       max_lines=1)
        pdf.set_font(SERIF, style, fit.size)
        pdf.set_text_color(*MUTED)
        pdf.set_xy(x, y)
        pdf.cell(w=w, h=4.2, text=fit.lines[0], align="L")
        y += 4.6


def _attach_credential(pdf: _CertificatePDF, snap: CertificateSnapshot, token: str,
                       labels: dict) -> None:
    """Embed the signed token and its decoded payload as file attachments."""
    dates = {"creation_date": snap.issued_at, "modification_date": snap.issued_at}
    pdf.embed_file(bytes=token.encode("ascii"), basename="credential.jwt",
                   mime_type="application/jwt", desc=labels["attachment"], compress=True, **dates)
    payload = token.split(".")[1]
    decoded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    text = json.dumps(decoded, ensure_ascii=False, indent=2) + "\n"
    pdf.embed_file(bytes=text.encode("utf-8"), basename="credential.json",
                   mime_type="application/json", desc=labels["attachment_json"], compress=True,
                   **dates)


def _set_metadata(pdf: _CertificatePDF, snap: CertificateSnapshot) -> None:
    """Set title, author, subject, language and a creation date fixed to the issue time."""
    pdf.set_title(f"{clean_text(snap.certificate_title)} – {clean_text(snap.recipient_name)}")
    pdf.set_author(clean_text(snap.issuer_name))
    pdf.set_subject(clean_text(snap.course_title))
    pdf.set_creator(clean_text(snap.issuer_name))
    pdf.set_keywords(f"certificate {snap.id}")
    pdf.set_lang(snap.language)
    pdf.set_creation_date(snap.issued_at)  # not "now": the same snapshot gives the same bytes


def render_certificate_pdf(snapshot: CertificateSnapshot, *, credential_jwt: str,
                           labels_lang: str | None = None) -> bytes:
    """Render the certificate PDF (with the signed credential attached) as bytes."""
    lang = labels_lang or snapshot.language
    texts = [clean_text(t) for t in (
        snapshot.recipient_name, snapshot.course_title, snapshot.certificate_title, snapshot.issuer_name,
        snapshot.signer_name, snapshot.signer_role, snapshot.id, snapshot.verify_url, snapshot.issuer_url)]
    if fonts.covers(texts):  # labels and dates are in COMMON (tests/credentials/test_fonts.py)
        pdf = _render(snapshot, credential_jwt, lang, texts, prepared=True)
        if pdf is not None:
            return pdf
    pdf = _render(snapshot, credential_jwt, lang, texts, prepared=False)
    assert pdf is not None
    return pdf


def _render(snapshot: CertificateSnapshot, credential_jwt: str, lang: str, texts: list[str], *,
            prepared: bool) -> bytes | None:
    """The PDF drawn with prepared or whole fonts; None when prepared fonts lacked a glyph (drawn again whole)."""
    labels = LABELS[lang]
    pdf = _CertificatePDF(prepared=prepared)
    try:
        if not pdf.ensure_glyphs(texts):
            return None
        _set_metadata(pdf, snapshot)
        pdf.add_page()
        _draw_border(pdf)
        _draw_header(pdf, snapshot)
        _draw_body(pdf, snapshot, labels)
        _draw_signatures(pdf, snapshot, lang)
        _draw_footer(pdf, snapshot, labels)
        if prepared and pdf.lacks_glyphs():
            return None
        _attach_credential(pdf, snapshot, credential_jwt, labels)
        return bytes(pdf.output(output_producer_class=fonts.PreparedFontsOutput))
    finally:
        pdf.close_fonts()
