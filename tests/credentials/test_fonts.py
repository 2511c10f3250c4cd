"""Certificate fonts parsed once per process and DejaVu Serif prepared once: same look, same bytes, no stale files."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import threading
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader

from coaching.credentials import fonts
from coaching.credentials import pdf as certificate_pdf
from coaching.credentials.pdf import LABELS, MONTHS, clean_text, format_date, render_certificate_pdf

from .conftest import make_snapshot, require_tool

TOKEN = "a.eyJ4IjoxfQ.c"  # the attachment's payload only has to be base64url JSON


def whole_font_render(snap) -> bytes:
    """The PDF drawn with the whole fonts (the path any text outside COMMON takes)."""
    texts = [clean_text(snap.recipient_name)]
    return certificate_pdf._render(snap, TOKEN, snap.language, texts, prepared=False)


def embedded_font_lengths(pdf: bytes) -> set[int]:
    """The uncompressed sizes (Length1) of the font programs a PDF embeds."""
    reader = PdfReader(io.BytesIO(pdf))
    sizes = set()
    for ref in reader.pages[0]["/Resources"]["/Font"].values():
        descriptor = ref.get_object()["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
        sizes.add(int(descriptor["/FontFile2"].get_object()["/Length1"]))
    return sizes


def prepared_lengths() -> set[int]:
    """The sizes of the prepared DejaVu Serif programs."""
    return {len(fonts.face(name, prepared=True).data) for name in fonts.PREPARED_FACES}


def test_labels_dates_and_latin_names_lie_in_common():
    """Every label and month name of every language, digits and typical European names are in COMMON."""
    texts = [text for labels in LABELS.values() for text in labels.values()]
    texts += [name for months in MONTHS.values() for name in months]
    texts += [format_date(datetime(2026, 3, 5, tzinfo=UTC), lang) for lang in LABELS]
    texts += ["Zoë Müller-Lüdenscheidt Ñúñez", "Łukasz Żółkiewski", "Şükrü Çağlar", "Ștefan Țurcanu",
              "Ærøskøbing Ødegård", "Dvořák Ľubomír", "Ő Ű", "https://academy.example/verify/K7QF-2M9X", "…"]
    assert fonts.covers(texts)
    assert not fonts.covers(["Анна"]) and not fonts.covers(["שרה"]) and not fonts.covers(["a\u200db"])


def test_prepared_faces_hold_every_common_character():
    """The prepared subsets map all of COMMON, with the whole font's glyph widths."""
    for name in fonts.PREPARED_FACES:
        prepared, whole = fonts.face(name, prepared=True), fonts.face(name)
        assert set(prepared.template.cmap) >= fonts.COMMON
        assert all(prepared.template.cw[c] == whole.template.cw[c] for c in fonts.COMMON)
        assert prepared.template.name == whole.template.name  # the same /BaseFont in the PDF


def test_latin_certificates_embed_the_prepared_fonts_and_others_the_whole_ones():
    """A Latin name embeds the prepared programs; a Cyrillic one subsets the whole fonts as before."""
    latin = render_certificate_pdf(make_snapshot(), credential_jwt=TOKEN)
    assert embedded_font_lengths(latin) == prepared_lengths()
    cyrillic = render_certificate_pdf(make_snapshot(recipient_name="Анна Петрова"), credential_jwt=TOKEN)
    assert embedded_font_lengths(cyrillic).isdisjoint(prepared_lengths())
    assert "Анна Петрова" in PdfReader(io.BytesIO(cyrillic)).pages[0].extract_text()


def test_prepared_and_whole_fonts_give_the_same_page_and_text(tmp_path):
    """The same certificate drawn with prepared or whole fonts rasterizes to identical pixels, same text."""
    pdftoppm = require_tool("pdftoppm")
    snap = make_snapshot(language="de", recipient_name="Łukasz Żółkiewski-Ørsted", signer_role="Leiterin „Partner“ – Süd")
    prepared = render_certificate_pdf(snap, credential_jwt=TOKEN)
    whole = whole_font_render(snap)
    assert prepared != whole and embedded_font_lengths(prepared) == prepared_lengths()
    pages = []
    for name, data in (("prepared", prepared), ("whole", whole)):
        (tmp_path / f"{name}.pdf").write_bytes(data)
        subprocess.run([pdftoppm, "-r", "110", "-png", "-singlefile", f"{name}.pdf", name], cwd=tmp_path, check=True)
        pages.append((tmp_path / f"{name}.png").read_bytes())
    assert pages[0] == pages[1]
    texts = [PdfReader(io.BytesIO(data)).pages[0].extract_text() for data in (prepared, whole)]
    assert texts[0] == texts[1] and "Łukasz Żółkiewski-Ørsted" in texts[0]


def test_a_glyph_missing_from_the_prepared_fonts_falls_back_to_the_whole_ones(monkeypatch):
    """Should text outside COMMON reach the prepared fonts, the page is drawn again with the whole fonts."""
    snap = make_snapshot(recipient_name="Анна Петрова")
    expected = render_certificate_pdf(snap, credential_jwt=TOKEN)
    monkeypatch.setattr(fonts, "covers", lambda texts: True)
    assert render_certificate_pdf(snap, credential_jwt=TOKEN) == expected


def test_concurrent_renders_share_the_parsed_fonts_safely():
    """Documents rendered at once in threads come out exactly as rendered one by one."""
    names = ["Zoë Müller", "Анна Петрова", "Łukasz Żółkiewski", "שרה כהן", "Al", "O'Brien – Smith"]
    snaps = [make_snapshot(recipient_name=name) for name in names]
    expected = [render_certificate_pdf(snap, credential_jwt=TOKEN) for snap in snaps]
    results: dict[int, bytes] = {}
    errors: list[BaseException] = []

    def work(index: int) -> None:
        try:
            for _ in range(3):
                results[index] = render_certificate_pdf(snaps[index % len(snaps)], credential_jwt=TOKEN)
        except BaseException as error:  # reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert all(results[i] == expected[i % len(snaps)] for i in range(12))


def test_rendering_leaves_the_shared_metrics_untouched():
    """Characters no font has do not grow the per-process width table; each document gets its own copy."""
    whole = fonts.face("DejaVuSerif-Bold.ttf")
    before = dict(whole.template.cw)
    render_certificate_pdf(make_snapshot(recipient_name="王小明 😀 שרה"), credential_jwt=TOKEN)
    assert ord("王") not in before
    assert dict(whole.template.cw) == before


@pytest.fixture
def font_copy(tmp_path, monkeypatch):
    """FONT_DIR and PREPARED_DIR pointed at copies in a temporary folder, with an empty parse cache."""
    folder = tmp_path / "fonts"
    shutil.copytree(fonts.FONT_DIR, folder)
    monkeypatch.setattr(fonts, "FONT_DIR", folder)
    monkeypatch.setattr(fonts, "PREPARED_DIR", tmp_path / "prepared")
    monkeypatch.setattr(fonts, "_faces", {})
    return folder


def test_faces_are_parsed_once_until_the_file_changes(font_copy):
    """The same face object serves every document; a font file replaced on disk is parsed again."""
    first = fonts.face("DejaVuSerif.ttf")
    assert fonts.face("DejaVuSerif.ttf") is first
    path = font_copy / "DejaVuSerif.ttf"
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    again = fonts.face("DejaVuSerif.ttf")
    assert again is not first and again.data == first.data


def test_missing_prepared_files_are_prepared_once_and_saved(font_copy):
    """Without build output a process prepares the subset itself and saves it, named by its inputs."""
    face = fonts.face("DejaVuSerif.ttf", prepared=True)
    source = (font_copy / "DejaVuSerif.ttf").read_bytes()
    saved = fonts.PREPARED_DIR / fonts.prepared_name("DejaVuSerif.ttf", source)
    assert saved.read_bytes() == face.data == fonts.prepare(source)
    assert [p.name for p in fonts.PREPARED_DIR.iterdir()] == [saved.name]  # no temporary file left


def test_a_read_only_install_still_renders(font_copy, monkeypatch):
    """When the prepared folder cannot be written, the subset is prepared in memory and the PDF is the same."""
    expected = render_certificate_pdf(make_snapshot(), credential_jwt=TOKEN)

    def refuse(path, data):
        raise PermissionError(13, "read-only", str(path))

    monkeypatch.setattr(fonts, "_write_atomically", refuse)
    monkeypatch.setattr(fonts, "_faces", {})
    monkeypatch.setattr(fonts, "PREPARED_DIR", font_copy.parent / "elsewhere")
    assert render_certificate_pdf(make_snapshot(), credential_jwt=TOKEN) == expected
    assert not (font_copy.parent / "elsewhere").exists()


def test_build_step_writes_current_files_and_removes_stale_ones(font_copy, tmp_path):
    """`python -m coaching.credentials.fonts DIR` writes one file per prepared face and drops older ones."""
    target = tmp_path / "built"
    target.mkdir()
    (target / "DejaVuSerif.0000000000.ttf").write_bytes(b"stale")
    assert fonts.main([str(target)]) == 0
    expected = {fonts.prepared_name(name, (font_copy / name).read_bytes()) for name in fonts.PREPARED_FACES}
    assert {p.name for p in target.iterdir()} == expected


def test_prepared_names_change_with_the_source_font():
    """Another source font (or COMMON, options, fontTools version) gives another file name: never a stale file."""
    source = (fonts.FONT_DIR / "DejaVuSerif.ttf").read_bytes()
    assert fonts.prepared_name("DejaVuSerif.ttf", source) == fonts.prepared_name("DejaVuSerif.ttf", source)
    assert fonts.prepared_name("DejaVuSerif.ttf", source) != fonts.prepared_name("DejaVuSerif.ttf", source + b"\0")
