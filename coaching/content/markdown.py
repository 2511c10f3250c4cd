"""Markdown -> sanitized HTML: python-markdown first, then one nh3 Cleaner.

Raw HTML written by an author is escaped (the HTML block and inline parsers are
switched off), and the Cleaner is the last word either way: python-markdown does
not sanitize anything by itself. Images from other hosts are dropped unless the
course allows them; links to other hosts get `rel="noopener noreferrer"`.

A `Renderer` owns the cache of renderings and the per-thread Markdown instances;
the content store makes one and hands it to every load. Given a `RenderCache`, it also
keeps renderings in a file that the server's other processes share (render_cache.py).
"""

from __future__ import annotations

import functools
import html as htmllib
import re
import threading
import xml.etree.ElementTree as etree
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import markdown as mdlib
import nh3
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor
from pygments.token import STANDARD_TYPES

from .catalog import TocItem
from .render_cache import RenderCache, code_fingerprint

EXTENSIONS = ["tables", "fenced_code", "codehilite", "footnotes", "admonition", "toc", "sane_lists"]
EXTENSION_CONFIGS = {
    "codehilite": {"css_class": "codehilite", "noclasses": False, "guess_lang": False},
    "toc": {"marker": "", "permalink": False},  # no [TOC] marker: the page draws its own toc
    "tables": {"use_align_attribute": True},  # align="" rather than style=""
    "footnotes": {"BACKLINK_TITLE": "Back to reference %d"},
}

ADMONITIONS = {"admonition", "note", "tip", "hint", "important", "warning", "caution",
               "attention", "danger", "error", "example", "info"}
TOKEN_CLASSES = {c for c in STANDARD_TYPES.values() if c}

CLEANER = nh3.Cleaner(
    tags={"p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "b", "i", "del",
          "sub", "sup", "code", "pre", "span", "kbd", "blockquote", "ul", "ol", "li", "table",
          "thead", "tbody", "tr", "th", "td", "a", "img", "div", "input"},
    clean_content_tags={"script", "style", "iframe", "object", "embed", "svg", "math",
                        "template", "noscript", "textarea", "title"},
    attributes={
        "a": {"href", "title"},
        "img": {"src", "alt", "title", "width", "height"},
        "ol": {"start"},
        "h1": {"id"}, "h2": {"id"}, "h3": {"id"}, "h4": {"id"}, "h5": {"id"}, "h6": {"id"},
        "li": {"id"}, "sup": {"id"},
    },
    tag_attribute_values={
        "a": {"rel": {"noopener noreferrer"}},
        "input": {"type": {"checkbox"}, "checked": {"", "checked"}, "disabled": {"", "disabled"}},
        "th": {"align": {"left", "right", "center"}},
        "td": {"align": {"left", "right", "center"}},
    },
    allowed_classes={
        "div": ADMONITIONS | {"codehilite", "footnote"},
        "p": {"admonition-title"},
        "span": TOKEN_CLASSES,
        "a": {"footnote-ref", "footnote-backref"},
        "ul": {"task-list"},
        "ol": {"task-list"},
        "li": {"task-list-item"},
    },
    url_schemes={"http", "https", "mailto"},
    strip_comments=True,
    link_rel=None,  # rel is set by _LinksAndImages on external links only
    attribute_filter=lambda tag, attr, value: _filter_attribute(tag, attr, value),
)

_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_:.\-]{0,80}$")


def _filter_attribute(tag: str, attr: str, value: str) -> str | None:
    """Keep ids simple (they become anchors) and sizes numeric."""
    if attr == "id":
        return value if _ID.match(value) else None
    if attr in ("width", "height", "start"):
        return value if value.isdigit() and len(value) <= 5 else None
    return value


@dataclass(frozen=True, slots=True)
class Rendered:
    """Sanitized HTML with its headings, the relative image paths it uses and the external images
    it holds (kept when allowed) or held (dropped otherwise)."""

    html: str
    toc: tuple[TocItem, ...]
    images: tuple[str, ...]
    external_images: tuple[str, ...] = ()
    words: int = 0  # counted once per rendering (and so cached with it), not at every load


_URL_NOISE = re.compile(r"[\t\n\r]")


def _as_browser_reads(url: str) -> str:
    """Return the URL as a browser parses it: tabs and newlines dropped, backslashes as slashes."""
    return _URL_NOISE.sub("", url).strip("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f\x10"
                                       "\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d"
                                       "\x1e\x1f ").replace("\\", "/")


def is_relative(url: str) -> bool:
    """Return True for a URL with no scheme, no host and no leading slash or '#'."""
    seen = _as_browser_reads(url)
    parts = urlsplit(seen)
    return not parts.scheme and not parts.netloc and not seen.startswith(("/", "#", "?"))


def is_external(url: str) -> bool:
    """Return True for a link to another host: http(s) or `//host` (gets rel=noopener noreferrer)."""
    seen = _as_browser_reads(url)
    parts = urlsplit(seen)
    return bool(parts.netloc) or parts.scheme.lower() in ("http", "https")


def _off_site(url: str) -> bool:
    """Return True for an image address that is not a path on this site (a scheme or a host)."""
    parts = urlsplit(_as_browser_reads(url))
    return bool(parts.scheme or parts.netloc)


class _LinksAndImages(Treeprocessor):
    """Rewrite relative image paths to the asset URL, collect them, handle external images and links."""

    def __init__(self, md: mdlib.Markdown, asset_base: str, external_images: bool):
        super().__init__(md)
        self.asset_base = asset_base
        self.allow_external = external_images
        self.images: list[str] = []
        self.external: list[str] = []

    def run(self, root: etree.Element) -> None:
        """Walk the tree once."""
        for parent in list(root.iter()):
            for el in [child for child in parent if child.tag == "img"]:
                self._image(parent, el)
        for el in root.iter("a"):
            if is_external(el.get("href", "")):
                el.set("rel", "noopener noreferrer")

    def _image(self, parent: etree.Element, el: etree.Element) -> None:
        """Rewrite a relative image; keep an external one only when allowed, else put its alt text."""
        src = el.get("src", "")
        if is_relative(src):
            path = unquote(src.split("?")[0].split("#")[0])
            path = path[2:] if path.startswith("./") else path
            self.images.append(path)
            el.set("src", self.asset_base + quote(path, safe="/"))
            return
        if not _off_site(src):
            return  # a path on this site ("/static/x.png")
        self.external.append(src)
        parts = urlsplit(_as_browser_reads(src))
        if self.allow_external and parts.scheme.lower() in ("", "http", "https") and parts.netloc:
            return
        _replace_with_text(parent, el, el.get("alt", ""))


def _replace_with_text(parent: etree.Element, el: etree.Element, text: str) -> None:
    """Remove `el` from `parent`, leaving `text` (and el's tail) in its place."""
    index = list(parent).index(el)
    joined = text + (el.tail or "")
    if index == 0:
        parent.text = (parent.text or "") + joined
    else:
        before = parent[index - 1]
        before.tail = (before.tail or "") + joined
    parent.remove(el)


_TASK = re.compile(r"^\[([ xX])\]\s+")


class _TaskLists(Treeprocessor):
    """Turn list items starting with `[ ]` or `[x]` into disabled checkboxes."""

    def run(self, root: etree.Element) -> None:
        """Walk every list item."""
        for parent in root.iter():
            if parent.tag not in ("ul", "ol"):
                continue
            found = [self._convert(li) for li in parent if li.tag == "li"]
            if any(found):
                parent.set("class", "task-list")

    def _convert(self, li: etree.Element) -> bool:
        """Convert one item in place; return True when it was a task."""
        holder = li[0] if len(li) and li[0].tag == "p" and not (li.text or "").strip() else li
        match = _TASK.match(holder.text or "")
        if not match:
            return False
        box = etree.Element("input", {"type": "checkbox", "disabled": "disabled"})
        if match.group(1) in "xX":
            box.set("checked", "checked")
        box.tail = " " + holder.text[match.end():]
        holder.text = ""
        holder.insert(0, box)
        li.set("class", "task-list-item")
        return True


class _Safety(Extension):
    """Escape raw HTML and register the tree processors above."""

    def __init__(self, asset_base: str, external_images: bool):
        super().__init__()
        self.asset_base = asset_base
        self.external_images = external_images
        self.links: _LinksAndImages | None = None

    def extendMarkdown(self, md: mdlib.Markdown) -> None:
        """Switch off raw HTML and add our processors after inline parsing."""
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")
        self.links = _LinksAndImages(md, self.asset_base, self.external_images)
        md.treeprocessors.register(_TaskLists(md), "task_lists", 12)
        md.treeprocessors.register(self.links, "links_images", 11)


CACHE_SIZE = 4096
MAX_INSTANCES = 64  # per thread: one per course folder (asset base) in use


class Renderer:
    """Render Markdown to sanitized HTML, remembering the last `cache_size` renderings.

    The content store keeps one for its lifetime and passes it to each load, so a reload renders only
    what changed. Markdown instances are not thread-safe: each thread keeps its own, per asset base,
    because building one (loading every extension) costs more than converting a short quiz text.
    """

    def __init__(self, cache_size: int = CACHE_SIZE, disk: RenderCache | None = None):
        self._local = threading.local()
        self._cached = functools.lru_cache(maxsize=cache_size)(self._render)
        self.disk = disk  # renderings shared with the server's other processes and kept across restarts

    def flush(self) -> None:
        """Store the new renderings in the shared file (the loader calls this after each load)."""
        if self.disk is not None:
            self.disk.flush()

    def document(self, text: str, *, asset_base: str, external_images: bool = False) -> Rendered:
        """Render a Markdown document."""
        return self._cached(text, asset_base, False, external_images)

    def inline(self, text: str, *, asset_base: str, external_images: bool = False) -> Rendered:
        """Render a short text (question, option) without its wrapping paragraph."""
        return self._cached(text, asset_base, True, external_images)

    def _render(self, text: str, asset_base: str, inline: bool, external_images: bool) -> Rendered:
        """Render on this thread's Markdown instance, unless the shared file has this rendering."""
        disk = self.disk
        key = disk.key(text, asset_base, str(int(inline)), str(int(external_images))) if disk else ""
        if disk is not None and (stored := _decode(disk.get(key))) is not None:
            return stored
        md, safety = self._converter(asset_base, external_images)
        rendered = convert(md, safety, text, inline)
        if disk is not None:
            disk.put(key, _encode(rendered))
        return rendered

    def _converter(self, asset_base: str, external_images: bool) -> tuple[mdlib.Markdown, _Safety]:
        """This thread's reusable Markdown instance for an asset base, reset for a new document."""
        instances = getattr(self._local, "instances", None)
        if instances is None:
            instances = self._local.instances = {}
        key = (asset_base, external_images)
        entry = instances.get(key)
        if entry is None:
            if len(instances) >= MAX_INSTANCES:
                instances.clear()
            safety = _Safety(asset_base, external_images)
            md = mdlib.Markdown(extensions=[*EXTENSIONS, safety], extension_configs=EXTENSION_CONFIGS,
                                output_format="html")
            entry = instances[key] = (md, safety)
        md, safety = entry
        md.reset()
        safety.links.images = []
        safety.links.external = []
        return md, safety


@dataclass(frozen=True, slots=True)
class RenderContext:
    """How the texts of one course render: the renderer, its asset URL and whether it allows images
    from other hosts (`allow_external_images: true` in course.md)."""

    renderer: Renderer
    asset_base: str
    external_images: bool = False

    def document(self, text: str) -> Rendered:
        """Render a Markdown document of this course."""
        return self.renderer.document(text, asset_base=self.asset_base, external_images=self.external_images)

    def inline(self, text: str) -> Rendered:
        """Render a question or option text of this course."""
        return self.renderer.inline(text, asset_base=self.asset_base, external_images=self.external_images)


def shared_renderer(path: Path | str) -> Renderer:
    """A Renderer that also keeps its renderings in the file at `path`, shared by the server's processes and
    kept across restarts; entries are keyed by this module's source among others (render_cache.py)."""
    return Renderer(disk=RenderCache(path, code_fingerprint(Path(__file__))))


def _encode(rendered: Rendered) -> dict[str, Any]:
    """A rendering as JSON for the shared file."""
    return {"html": rendered.html, "toc": [[t.level, t.anchor, t.title] for t in rendered.toc],
            "images": list(rendered.images), "external": list(rendered.external_images), "words": rendered.words}


def _decode(value: Any) -> Rendered | None:
    """A rendering read back from the shared file; None for anything not in the expected shape."""
    if not isinstance(value, dict):
        return None
    try:
        toc = tuple(TocItem(int(level), str(anchor), str(title)) for level, anchor, title in value["toc"])
        return Rendered(str(value["html"]), toc, tuple(map(str, value["images"])),
                        tuple(map(str, value["external"])), int(value["words"]))
    except (KeyError, TypeError, ValueError):
        return None


def render(text: str, *, asset_base: str, renderer: Renderer | None = None) -> tuple[str, tuple[TocItem, ...]]:
    """Render Markdown to sanitized HTML and its table of contents (external images dropped)."""
    result = (renderer or Renderer(cache_size=0)).document(text, asset_base=asset_base)
    return result.html, result.toc


def convert(md: mdlib.Markdown, safety: _Safety, text: str, inline: bool) -> Rendered:
    """Convert one text on a prepared Markdown instance and sanitize the result."""
    raw = md.convert(text)
    if inline:
        raw = _unwrap_paragraph(raw)
    toc = () if inline else tuple(_flatten(md.toc_tokens))
    html = CLEANER.clean(raw)
    return Rendered(html, toc, tuple(dict.fromkeys(safety.links.images)),
                    tuple(dict.fromkeys(safety.links.external)), 0 if inline else count_words(html))


def _unwrap_paragraph(raw: str) -> str:
    """Drop the <p> around a single paragraph."""
    stripped = raw.strip()
    if stripped.startswith("<p>") and stripped.endswith("</p>") and stripped.count("<p>") == 1:
        return stripped[3:-4]
    return stripped


def _flatten(tokens: list[dict]) -> list[TocItem]:
    """Flatten python-markdown's nested toc tokens."""
    items = []
    for token in tokens:
        items.append(TocItem(token["level"], token["id"], htmllib.unescape(token["name"])))
        items.extend(_flatten(token.get("children", [])))
    return items


_INLINE = {"a", "strong", "em", "code", "span", "b", "i", "sup", "sub", "mark", "del", "kbd"}


class _TextExtractor(HTMLParser):
    """Collect the text of an HTML fragment, a space between blocks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        """Separate blocks; skip footnote links (the numbers and arrows are not words)."""
        if tag == "a" and dict(attrs).get("class") in ("footnote-backref", "footnote-ref"):
            self.skip += 1
        if tag not in _INLINE:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        """End a skipped back-link; separate blocks."""
        if tag == "a" and self.skip:
            self.skip -= 1
        if tag not in _INLINE:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        """Keep visible text."""
        if not self.skip:
            self.parts.append(data)


def html_to_text(fragment: str) -> str:
    """Return the visible text of an HTML fragment with whitespace collapsed."""
    parser = _TextExtractor()
    parser.feed(fragment)
    parser.close()
    return " ".join("".join(parser.parts).split())


def count_words(fragment: str) -> int:
    """Count the words of an HTML fragment's text."""
    return len(re.findall(r"\w+(?:[-'’]\w+)*", html_to_text(fragment)))
