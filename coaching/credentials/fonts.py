"""The certificate fonts, parsed once per process, and DejaVu Serif prepared once as a subset for common text.

fpdf2's `add_font` parses a TTF file with fontTools every time (about 30 ms a face), and its output subsets
each face to the glyphs the document used and writes a new font program (about 40 ms a face). Both are the
same work for every certificate, so this module does them once:

- `face(filename, prepared=False)` keeps the parsed metrics (widths, character map, glyph ids, descriptor)
  of a whole font per process, keyed by the file and its mtime; each document gets a light copy of them
  (`Face.instance`) and its own fontTools object to subset at output, as before.
- `face(filename, prepared=True)` is DejaVu Serif (regular or bold) cut down to `COMMON`, the characters of
  the certificate's labels, dates, URLs and of names in Latin scripts. A document whose text lies within
  `COMMON` embeds that prepared font program as it is, compressed once (`Face.stream`), so rendering it
  runs no fontTools code at all (`PreparedFontsOutput`). Other text (Cyrillic, Hebrew, CJK...)
  uses the whole fonts.

The prepared font programs are build output: `make install` (`python -m coaching.credentials.fonts`) writes
them to `PREPARED_DIR`, named by a digest of the source font, `COMMON`, the subsetting options and the
fontTools version, so a changed input never meets a stale file. A process that finds no file prepares the
font in memory (about 0.1 s a face, once) and tries to save it for the next process.

Fonts are the same for everyone: nothing here holds any person's data.
"""
from __future__ import annotations

import contextlib
import copy
import hashlib
import io
import os
import sys
import tempfile
import threading
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import fontTools
from fontTools import subset as ftsubset
from fontTools import ttLib
from fpdf import FPDF
from fpdf.enums import TextEmphasis
from fpdf.fonts import SubsetMap, TTFFont
from fpdf.output import CIDSystemInfo, OutputProducer, PDFFont, _build_cmap_blocks, _tt_font_widths
from fpdf.syntax import Name, PDFArray, PDFContentStream

FONT_DIR = Path(__file__).resolve().parent.parent / "static" / "fonts"
PREPARED_DIR = Path(__file__).resolve().parent / "prepared-fonts"
PREPARED_FACES = ("DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf")  # the faces every certificate draws with

_PUNCTUATION = "‐‑‒–—‘’‚“”„†‡•…‰′″‹›€™"
# Printable ASCII, Latin-1, Latin Extended-A, Romanian Ș ș Ț ț, Azerbaijani Ə ə and typographic punctuation:
# every label and month name in both languages, and names in most European languages.
COMMON: frozenset[int] = frozenset([
    *range(0x20, 0x7F), *range(0xA0, 0x180), *range(0x218, 0x21C), 0x18F, 0x259, *map(ord, _PUNCTUATION),
])
# The subsetting options fpdf2's output uses (fpdf/output.py, _add_fonts), so a prepared font is what fpdf2
# would embed for a document that used every character of COMMON.
_DROP_TABLES = ("FFTM", "GDEF", "GPOS", "GSUB", "MATH", "hdmx", "meta", "sbix", "CBDT", "CBLC", "EBDT", "EBLC",
                "EBSC", "SVG ", "CPAL", "COLR")
_PREPARE_VERSION = "2"  # bump when prepare() changes in a way the digest does not see


def covers(texts: list[str] | tuple[str, ...]) -> bool:
    """True when every character of `texts` is in COMMON (whitespace counts: clean_text leaves only spaces)."""
    return all(ord(ch) in COMMON for text in texts for ch in text)


def prepare(source: bytes) -> bytes:
    """The font program of `source` cut down to the glyphs of COMMON (and those they are built from)."""
    font = ttLib.TTFont(io.BytesIO(source), recalcTimestamp=False)
    options = ftsubset.Options(notdef_outline=True, recommended_glyphs=True)
    options.drop_tables += list(_DROP_TABLES)
    options.glyph_names = True  # keep the post table's names: without them every process that opens the
    # prepared font derives names from the Adobe Glyph List, whose import alone costs about 15 ms
    subsetter = ftsubset.Subsetter(options)
    subsetter.populate(unicodes=sorted(COMMON))
    subsetter.subset(font)
    out = io.BytesIO()
    font.save(out)
    font.close()
    return out.getvalue()


def prepared_name(filename: str, source: bytes) -> str:
    """The prepared file's name: the face, and a digest of everything its bytes depend on."""
    digest = hashlib.sha256(source)
    for part in (_PREPARE_VERSION, fontTools.version, ",".join(map(str, sorted(COMMON))), ",".join(_DROP_TABLES)):
        digest.update(b"\0" + part.encode())
    return f"{Path(filename).stem}.{digest.hexdigest()[:20]}.ttf"


def _prepared_bytes(filename: str, source: bytes) -> bytes:
    """The prepared font program: from PREPARED_DIR when built, else prepared now and saved if the folder allows."""
    path = PREPARED_DIR / prepared_name(filename, source)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    data = prepare(source)
    with contextlib.suppress(OSError):  # a read-only install: every process prepares its own copy once
        _write_atomically(path, data)
    return data


def _write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file and a rename: readers never see half a font."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".ttf")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --- parsed faces ---------------------------------------------------------------------------------------------


class FaceFont(TTFFont):
    """fpdf2's TTF font object for one document, made from a `Face` without parsing the file again."""

    __slots__ = ("face", "_ttfont")

    @property
    def ttfont(self) -> ttLib.TTFont:
        """This document's own fontTools object of the face, opened on first use (fpdf2's output subsets it in
        place; a prepared face is embedded from its ready program and never opens one)."""
        if self._ttfont is None:
            self._ttfont = ttLib.TTFont(io.BytesIO(self.face.data), recalcTimestamp=False, lazy=True)
        return self._ttfont

    @ttfont.setter
    def ttfont(self, value: ttLib.TTFont | None) -> None:
        self._ttfont = value

    def close(self) -> None:
        """Close the fontTools object, if one was opened."""
        if self._ttfont is not None:
            self._ttfont.close()
        self._hbfont = None


@dataclass(frozen=True, eq=False)
class Face:
    """One font file parsed once: fpdf2's metrics for it, and the font program a document embeds."""

    data: bytes  # the font program: the prepared subset, or the whole file
    template: TTFFont  # parsed once; never drawn with (each document gets an instance)
    stream: bytes | None  # the prepared program compressed once (FlateDecode); None for a whole font
    glyph_index: dict[str, int]  # glyph name -> glyph id in `data` (prepared faces only)
    # The fontTools object the template was parsed from (whole fonts): its tables are decompiled already, so the
    # first document that subsets the face takes it over instead of parsing the file a second time.
    spare: list[ttLib.TTFont] = field(default_factory=list)

    @property
    def prepared(self) -> bool:
        """True for a prepared subset, embedded as it is."""
        return self.stream is not None

    def instance(self, pdf: FPDF, fontkey: str, style: str) -> FaceFont:
        """A font object for one document: shared read-only metrics, its own widths, descriptor and subset map.

        The widths dict is copied because fpdf2 inserts the default width of characters a font lacks; the
        descriptor because the output names it and numbers it; the fontTools object is the document's own
        (`FaceFont.ttfont`).
        """
        template = self.template
        font = FaceFont.__new__(FaceFont)
        for name in TTFFont.__slots__:
            if name != "ttfont" and hasattr(template, name):
                setattr(font, name, getattr(template, name))
        font.face = self
        font.i = len(pdf.fonts) + 1
        font.fontkey = fontkey
        font.emphasis = TextEmphasis.coerce(style)
        font.cw = template.cw.copy()
        font.desc = copy.copy(template.desc)
        font.missing_glyphs = []
        font.biggest_size_pt = 0
        font._hbfont = None
        try:
            font.ttfont = self.spare.pop()  # atomic: only one document gets it
        except IndexError:
            font.ttfont = None  # opened when fpdf2's output asks for it
        font.subset = SubsetMap(font)
        return font


_faces: dict[tuple[str, bool], tuple[tuple[int, int], Face]] = {}
_faces_lock = threading.Lock()


def face(filename: str, *, prepared: bool = False) -> Face:
    """The parsed face of FONT_DIR/filename (the prepared subset when `prepared`), once per process and file
    version: a font file replaced on disk (another mtime or size) is parsed again."""
    path = FONT_DIR / filename
    stat = path.stat()
    stamp = (stat.st_mtime_ns, stat.st_size)
    key = (filename, prepared)
    with _faces_lock:  # one thread parses; the others wait for its result instead of parsing too
        cached = _faces.get(key)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        loaded = _load(filename, path.read_bytes(), prepared)
        _faces[key] = (stamp, loaded)
        return loaded


def _load(filename: str, source: bytes, prepared: bool) -> Face:
    """Parse a font (its prepared subset when asked) into fpdf2's metrics."""
    if prepared and filename not in PREPARED_FACES:
        raise ValueError(f"no prepared subset of {filename}")
    data = _prepared_bytes(filename, source) if prepared else source
    template = TTFFont(FPDF(), io.BytesIO(data), filename, "")
    if not prepared:
        spare, template.ttfont = template.ttfont, None
        template.cmap = dict(template.cmap)  # not fontTools' own dict: the spare object gets subset in place
        return Face(data=data, template=template, stream=None, glyph_index={}, spare=[spare])
    glyph_index = {name: gid for gid, name in enumerate(template.ttfont.getGlyphOrder())}
    template.ttfont.close()
    return Face(data=data, template=template, stream=zlib.compress(data), glyph_index=glyph_index)


# --- output -------------------------------------------------------------------------------------------------


class _FontProgram(PDFContentStream):
    """A FontFile2 stream whose bytes were compressed once, when the face was prepared."""

    def __init__(self, compressed: bytes, length1: int) -> None:
        """`compressed` is the FlateDecode of the `length1` bytes of a TrueType font program."""
        super().__init__(contents=compressed, compress=False)
        self.filter = Name("FlateDecode")
        self.length1 = length1


class PreparedFontsOutput(OutputProducer):
    """fpdf2's output, except that prepared faces are embedded from their ready font program.

    fpdf2 (fpdf/output.py, `_add_fonts`) subsets and re-saves every TrueType font of every document. When all
    the document's fonts are prepared faces this writes the very same PDF objects (Type0 font, CIDFontType2
    with widths, ToUnicode, CIDSystemInfo, descriptor, CIDToGIDMap, FontFile2), with the prepared program as
    the font file and glyph ids taken from it; any other document goes through fpdf2's own code.
    """

    def _add_fonts(self, image_objects_per_index, gfxstate_objs_per_name, pattern_objs_per_name):
        """The font objects of the document, by font index."""
        fonts = sorted(self.fpdf.fonts.values(), key=lambda font: font.i)
        if getattr(self.fpdf, "_compliance", None) or not all(
                isinstance(font, FaceFont) and font.face.prepared and not font.color_font for font in fonts):
            return super()._add_fonts(image_objects_per_index, gfxstate_objs_per_name, pattern_objs_per_name)
        return {font.i: self._add_prepared(font) for font in fonts}

    def _add_prepared(self, font: FaceFont) -> PDFFont:
        """Add the objects of one prepared face; return its Type0 font."""
        fontname = f"MPDFAA+{font.name}"
        glyph_index = font.face.glyph_index
        code_to_glyph = {code: glyph_index[glyph.glyph_name] for glyph, code in font.subset.items()
                         if glyph is not None}
        composite = PDFFont(subtype="Type0", base_font=fontname, encoding="Identity-H")
        self._add_pdf_obj(composite, "fonts")
        cid_font = PDFFont(subtype="CIDFontType2", base_font=fontname, d_w=font.desc.missing_width,
                           w=_tt_font_widths(font))
        self._add_pdf_obj(cid_font, "fonts")
        composite.descendant_fonts = PDFArray([cid_font])
        to_unicode = PDFContentStream(_to_unicode_cmap(font).encode("latin-1"))
        self._add_pdf_obj(to_unicode, "fonts")
        composite.to_unicode = to_unicode
        system_info = CIDSystemInfo()
        self._add_pdf_obj(system_info, "fonts")
        cid_font.c_i_d_system_info = system_info
        descriptor = font.desc
        descriptor.font_name = Name(fontname)
        self._add_pdf_obj(descriptor, "fonts")
        cid_font.font_descriptor = descriptor
        cid_to_gid = bytearray(256 * 256 * 2)
        for code, gid in code_to_glyph.items():
            cid_to_gid[code * 2:code * 2 + 2] = gid.to_bytes(2, "big")
        cid_to_gid_map = PDFContentStream(contents=bytes(cid_to_gid), compress=True)
        self._add_pdf_obj(cid_to_gid_map, "fonts")
        cid_font.c_i_d_to_g_i_d_map = cid_to_gid_map
        program = _FontProgram(font.face.stream, len(font.face.data))
        self._add_pdf_obj(program, "fonts")
        descriptor.font_file2 = program
        font.subset.pick.cache_clear()  # as fpdf2 does: these caches are per class and hold the subset maps
        font.subset.get_glyph.cache_clear()
        font.close()
        return composite


def _to_unicode_cmap(font: FaceFont) -> str:
    """The ToUnicode CMap of the codes a document used (text extraction and search), as fpdf2 writes it."""

    def utf16(codepoint: int) -> str:
        if codepoint > 0xFFFF:
            high, low = 0xD800 | (codepoint - 0x10000) >> 10, 0xDC00 | (codepoint & 0x3FF)
            return f"{high:04X}{low:04X}"
        return f"{codepoint:04X}"

    entries = [f"<{code:04X}> <{''.join(utf16(c) for c in glyph.unicode)}>\n" for glyph, code in font.subset.items()
               if glyph is not None and isinstance(glyph.unicode, tuple) and glyph.unicode]
    return ("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CIDSystemInfo\n"
            "<</Registry (Adobe)\n/Ordering (UCS)\n/Supplement 0\n>> def\n/CMapName /Adobe-Identity-UCS def\n"
            "/CMapType 2 def\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
            f"{_build_cmap_blocks(entries, 'bfchar')}"
            "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend")


def main(argv: list[str]) -> int:
    """`python -m coaching.credentials.fonts [DIR]`: write the prepared subsets (make install runs this)."""
    target = Path(argv[0]) if argv else PREPARED_DIR
    keep = set()
    for filename in PREPARED_FACES:
        source = (FONT_DIR / filename).read_bytes()
        path = target / prepared_name(filename, source)
        keep.add(path.name)
        if not path.exists():
            _write_atomically(path, prepare(source))
    for old in target.glob("*.ttf"):  # earlier versions of the prepared files
        if old.name not in keep:
            old.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
