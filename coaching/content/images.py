"""Check an uploaded image by its content, never by its name: PNG, JPEG, WebP and GIF are recognised by
their first bytes, walked to their last byte (nothing may follow the image) and decoded with Pillow; an SVG
is parsed as XML (no DTD, no entities) and refused when it holds script, event handlers, foreignObject or
references to anything outside itself. Pure: bytes in, an ImageInfo or an ImageRefused out."""

from __future__ import annotations

import io
import re
import struct
import warnings
from dataclasses import dataclass

MAX_IMAGE_BYTES = 2 * 1024 * 1024
MAX_PIXELS = 40_000_000  # far beyond any lesson picture; stops decompression bombs before decoding
SVG_NS = "{http://www.w3.org/2000/svg}"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
# Markup that has no business inside a picture: a file holding it is a polyglot (an image that is also HTML).
_MARKUP = re.compile(rb"<\s*(?:script|html|body|iframe|object|embed|svg|!doctype|\?php)\b|javascript:", re.I)
_FORBIDDEN_SVG = {"script", "foreignobject", "iframe", "embed", "object", "handler", "listener"}
_EMBEDDED_PICTURE = re.compile(r"^data:image/(?:png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]*$")
_ANIMATION = {"set", "animate", "animatemotion", "animatetransform", "animatecolor"}
_PI = re.compile(r"<\?(?!xml\s)", re.I)
_CSS_URL = re.compile(r"url\(\s*['\"]?\s*(?!#)|@import|expression\s*\(", re.I)


class ImageRefused(Exception):
    """An upload that is not an acceptable image; `code` names the reason (see REASONS)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


REASONS = {
    "empty": "the file is empty",
    "too_large": "the file is larger than 2 MB",
    "unknown_type": "the file is not a PNG, JPEG, WebP, GIF or SVG image (whatever its name says)",
    "broken": "the image cannot be read; export it again from your image program",
    "trailing_data": "something is attached after the end of the picture (a file that is an image and something "
                     "else at once)",
    "markup": "the file holds web page code (HTML or script) besides the picture",
    "too_many_pixels": "the picture has too many pixels",
    "svg_invalid": "the SVG is not well-formed XML (or uses a DTD or entities)",
    "svg_script": "the SVG holds script, event handlers (on...), animations of links or embedded documents",
    "svg_external": "the SVG refers to files or addresses outside itself",
}


@dataclass(frozen=True, slots=True)
class ImageInfo:
    """What an accepted upload is: its type, the extension to save it under, and its size in pixels."""

    kind: str  # png, jpeg, webp, gif, svg
    ext: str
    width: int | None
    height: int | None


def sniff(data: bytes) -> str | None:
    """The image type the first bytes say, or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith((b"<?xml", b"<svg", b"<!--")) and b"<svg" in data[:4096]:
        return "svg"
    return None


def inspect_image(data: bytes) -> ImageInfo:
    """Accept `data` as one of the supported image types or raise ImageRefused."""
    if not data:
        raise ImageRefused("empty")
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageRefused("too_large")
    kind = sniff(data)
    if kind is None:
        raise ImageRefused("unknown_type")
    if kind == "svg":
        return _svg(data)
    _ends_cleanly(kind, data)
    if _MARKUP.search(data):
        raise ImageRefused("markup")
    return _raster(kind, data)


def _ends_cleanly(kind: str, data: bytes) -> None:
    """Walk the file's structure to its end: trailing bytes mean a second file is hidden behind the picture."""
    try:
        end = {"png": _png_end, "gif": _gif_end, "webp": _webp_end, "jpeg": _jpeg_end}[kind](data)
    except (IndexError, struct.error, ValueError) as error:
        raise ImageRefused("broken", str(error)) from None
    if data[end:].strip(b"\x00"):
        raise ImageRefused("trailing_data")


def _png_end(data: bytes) -> int:
    """The offset after the IEND chunk."""
    pos = 8
    while True:
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        pos += 12 + length
        if pos > len(data):
            raise ValueError("truncated PNG chunk")
        if kind == b"IEND":
            return pos


def _gif_end(data: bytes) -> int:
    """The offset after the GIF trailer (0x3B), walking every block."""
    flags = data[10]
    pos = 13 + (3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0)
    while True:
        block = data[pos]
        if block == 0x3B:
            return pos + 1
        if block == 0x21:  # extension: label, then sub-blocks
            pos = _sub_blocks(data, pos + 2)
        elif block == 0x2C:  # image descriptor, local colour table, LZW code size, sub-blocks
            local = data[pos + 9]
            pos += 10 + (3 * 2 ** ((local & 7) + 1) if local & 0x80 else 0)
            pos = _sub_blocks(data, pos + 1)
        else:
            raise ValueError("unknown GIF block")


def _sub_blocks(data: bytes, pos: int) -> int:
    """Skip GIF data sub-blocks up to and including the zero-length terminator."""
    while True:
        size = data[pos]
        pos += 1 + size
        if size == 0:
            return pos
        if pos > len(data):
            raise ValueError("truncated GIF block")


def _webp_end(data: bytes) -> int:
    """The offset after the RIFF container."""
    size = struct.unpack("<I", data[4:8])[0]
    if 8 + size > len(data):
        raise ValueError("truncated WebP")
    return 8 + size + (size & 1)


def _jpeg_end(data: bytes) -> int:
    """The offset after the last end-of-image marker (a thumbnail holds its own, earlier one)."""
    end = data.rfind(b"\xff\xd9")
    if end < 0:
        raise ValueError("no JPEG end marker")
    return end + 2


def _raster(kind: str, data: bytes) -> ImageInfo:
    """Decode the whole picture with Pillow; it must be the type its first bytes claim."""
    from PIL import Image, UnidentifiedImageError

    expected = {"png": "PNG", "jpeg": "JPEG", "gif": "GIF", "webp": "WEBP"}[kind]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[expected]) as image:
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise ImageRefused("too_many_pixels")
                image.verify()
            with Image.open(io.BytesIO(data), formats=[expected]) as image:
                image.load()
    except ImageRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRefused("too_many_pixels") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, struct.error) as error:
        raise ImageRefused("broken", str(error)) from None
    return ImageInfo(kind, "jpg" if kind == "jpeg" else kind, width, height)


def _svg(data: bytes) -> ImageInfo:
    """Parse an SVG safely and refuse active content and outside references."""
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import ParseError, fromstring

    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImageRefused("svg_invalid", "not UTF-8") from None
    if _PI.search(text):
        raise ImageRefused("svg_external", "processing instruction")
    try:
        root = fromstring(text, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (ParseError, DefusedXmlException, ValueError) as error:
        raise ImageRefused("svg_invalid", str(error)) from None
    if root.tag != f"{SVG_NS}svg":
        raise ImageRefused("svg_invalid", "the root element is not <svg>")
    for element in root.iter():
        _svg_element(element)
    return ImageInfo("svg", "svg", None, None)


def _local(name: str) -> str:
    """An element or attribute name without its namespace, lower case."""
    return name.rsplit("}", 1)[-1].lower()


def _svg_element(element: object) -> None:
    """Refuse one element's active content or outside references."""
    raw_tag = getattr(element, "tag", "")
    tag = _local(raw_tag) if isinstance(raw_tag, str) else ""
    if tag in _FORBIDDEN_SVG:
        raise ImageRefused("svg_script", tag)
    attributes = getattr(element, "attrib", {})
    if tag in _ANIMATION and _local(attributes.get("attributeName", "")) in ("href", "xlink:href"):
        raise ImageRefused("svg_script", tag)
    if tag == "style" and _CSS_URL.search(getattr(element, "text", None) or ""):
        raise ImageRefused("svg_external", "style")
    for name, value in attributes.items():
        local = _local(name)
        if local.startswith("on"):
            raise ImageRefused("svg_script", local)
        if (local == "href" or name == XLINK_HREF) and not _inside(tag, value.strip()):
            raise ImageRefused("svg_external", value[:80])
        if local == "style" and _CSS_URL.search(value):
            raise ImageRefused("svg_external", "style")
        if "javascript:" in value.replace(" ", "").lower():
            raise ImageRefused("svg_script", local)


def _inside(tag: str, href: str) -> bool:
    """True for a reference that stays inside the file: `#id`, or a raster picture embedded in an <image>."""
    return href.startswith("#") or (tag == "image" and bool(_EMBEDDED_PICTURE.match(href)))
