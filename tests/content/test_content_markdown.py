"""render(): Markdown features and the XSS corpus, checked with an HTML parser."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from coaching.content import markdown as md
from coaching.content import render
from coaching.content.markdown import Renderer

BASE = "/courses/c/assets/"
ALLOWED_SCHEMES = ("http:", "https:", "mailto:")
DANGEROUS_TAGS = {"script", "style", "iframe", "object", "embed", "svg", "math", "form", "frame",
                  "base", "link", "meta", "textarea", "template", "noscript"}


class Collector(HTMLParser):
    """Collect every start tag with its attributes (entities decoded by the parser)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.comments: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_comment(self, data):
        self.comments.append(data)


def parse(html: str) -> Collector:
    """Parse HTML into a Collector."""
    collector = Collector()
    collector.feed(html)
    collector.close()
    return collector


def url_scheme(url: str) -> str:
    """Return the scheme a browser would see (WHATWG URL parsing: tabs/newlines dropped)."""
    url = re.sub(r"[\t\n\r]", "", url).strip("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c"
                                             "\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18"
                                             "\x19\x1a\x1b\x1c\x1d\x1e\x1f ")
    match = re.match(r"^([A-Za-z][A-Za-z0-9+.\-]*):", url)
    return match.group(1).lower() if match else ""


def assert_safe(html: str) -> None:
    """No dangerous tag, event handler, style, comment or non-allowlisted URL scheme."""
    parsed = parse(html)
    assert not parsed.comments
    for tag, attrs in parsed.tags:
        assert tag not in DANGEROUS_TAGS
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name)
            assert name not in ("style", "srcdoc", "formaction", "action", "xlink:href")
            if name in ("href", "src"):
                assert url_scheme(value or "") in ("", "http", "https", "mailto"), value


XSS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    '<img src="x" onerror="alert(1)">',
    "<img src=x onerror=alert(1)//",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](jav&#x61;script:alert(1))",
    "[click](&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;:alert(1))",
    "[click](java\tscript:alert(1))",
    "[click]( javascript:alert(1))",
    "[click](<javascript:alert(1)>)",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](vbscript:msgbox(1))",
    "[click](VBScript:msgbox(1))",
    "![x](javascript:alert(1))",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "[ref][r]\n\n[r]: javascript:alert(1)",
    "<svg><script>alert(1)</script></svg>",
    '<svg onload="alert(1)"><circle r="1"/></svg>',
    "<!-- <script>alert(1)</script> -->",
    "text <!-- hidden --> more",
    "paragraph\n{: onclick=\"alert(1)\" }",
    "# Title {: onclick=alert(1) }",
    '<iframe src="https://evil.example"></iframe>',
    "<style>body{display:none}</style>",
    '<a href="javascript:alert(1)">raw link</a>',
    '<div style="position:fixed" onmouseover="alert(1)">x</div>',
    '<form action="https://evil.example"><input name=x></form>',
    '<object data="evil.swf"></object>',
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    "```html\n<script>alert(1)</script>\n```",
    "`<script>alert(1)</script>`",
    "<http://evil.example/\"onmouseover=\"alert(1)>",
    '[x](https://ok.example "title\\" onmouseover=\\"alert(1)")',
    "- [x] <img src=x onerror=alert(1)>",
    "!!! note \"<script>alert(1)</script>\"\n    body",
    "Footnote[^1]\n\n[^1]: <script>alert(1)</script>",
    "| a |\n|---|\n| <script>alert(1)</script> |",
    "<base href=\"https://evil.example/\">",
    "<meta http-equiv=\"refresh\" content=\"0;url=https://evil.example\">",
    "<input type=\"text\" autofocus onfocus=\"alert(1)\">",
]


@pytest.mark.parametrize("source", XSS)
def test_xss_corpus_is_neutralised(source):
    """Nothing executable survives rendering, whatever the author writes."""
    html, _ = render(source, asset_base=BASE)
    assert_safe(html)


def test_raw_html_is_escaped_as_text():
    """Raw HTML shows up as text, not as markup."""
    html, _ = render("Hello <b>bold</b> and <script>x()</script>", asset_base=BASE)
    assert [t for t, _ in parse(html).tags] == ["p"]
    assert "&lt;b&gt;bold&lt;/b&gt;" in html


def test_features_render():
    """Tables, fenced code with classes, footnotes, admonitions, task lists and toc work."""
    source = """# Intro

## Part one

| a | b |
|:--|--:|
| 1 | 2 |

```python
print("hi")
```

!!! warning "Careful"
    Body

Note[^n]

[^n]: The note.

- [ ] open
- [x] done
"""
    html, toc = render(source, asset_base=BASE)
    tags = parse(html).tags
    names = [t for t, _ in tags]
    for tag in ("table", "th", "td", "pre", "code", "sup", "input", "h1", "h2"):
        assert tag in names
    assert ("th", {"align": "left"}) in tags
    assert any(t == "span" and a.get("class") == "nb" for t, a in tags)  # Pygments classes
    assert not any("style" in a for _, a in tags)
    assert ("div", {"class": "admonition warning"}) in tags
    boxes = [a for t, a in tags if t == "input"]
    assert boxes == [{"disabled": "", "type": "checkbox"},
                     {"checked": "", "disabled": "", "type": "checkbox"}]
    assert [(i.level, i.anchor, i.title) for i in toc] == [(1, "intro", "Intro"),
                                                           (2, "part-one", "Part one")]


def test_links_external_get_rel_relative_stay():
    """External links get rel=noopener noreferrer; relative and mailto links are kept as is."""
    html, _ = render("[a](https://x.example/p) [b](other-page) [c](mailto:a@b.example) [d](#top)",
                     asset_base=BASE)
    links = [a for t, a in parse(html).tags if t == "a"]
    assert links == [{"href": "https://x.example/p", "rel": "noopener noreferrer"},
                     {"href": "other-page"}, {"href": "mailto:a@b.example"}, {"href": "#top"}]


def test_relative_images_are_rewritten_to_the_asset_base():
    """A relative image points at the course's asset URL; absolute ones are left alone."""
    result = Renderer().document("![a](images/x.svg \"T\") ![b](./images/y%20z.png) "
                                 "![c](https://cdn.example/z.png)", asset_base=BASE, external_images=True)
    imgs = [a for t, a in parse(result.html).tags if t == "img"]
    assert imgs[0] == {"alt": "a", "src": "/courses/c/assets/images/x.svg", "title": "T"}
    assert imgs[1]["src"] == "/courses/c/assets/images/y%20z.png"
    assert imgs[2]["src"] == "https://cdn.example/z.png"
    assert result.images == ("images/x.svg", "images/y z.png")


def test_heading_titles_in_toc_are_plain_text():
    """Toc titles hold the text, entities decoded, for the template to escape."""
    _, toc = render("## Fish & <chips>\n", asset_base=BASE)
    assert toc[0].title == "Fish & <chips>"


def test_render_is_cached_by_its_renderer_only():
    """The same text twice on one Renderer is the cached object; another Renderer shares nothing."""
    renderer = Renderer()
    first = renderer.document("cache me *once*", asset_base=BASE)
    assert renderer.document("cache me *once*", asset_base=BASE) is first
    assert renderer.document("cache me *once*", asset_base="/other/") is not first
    assert renderer.document("cache me *once*", asset_base=BASE, external_images=True) is not first
    assert Renderer().document("cache me *once*", asset_base=BASE) is not first
    assert not hasattr(md, "cache_info") and not hasattr(md, "_CACHE")


def test_inline_render_drops_the_paragraph():
    """Questions and options render without a wrapping <p>."""
    result = Renderer().inline("**bold** and `code`", asset_base=BASE)
    assert result.html == "<strong>bold</strong> and <code>code</code>"


def test_text_extraction_and_word_count():
    """Plain text joins blocks with spaces and skips footnote back-links."""
    html, _ = render("# Über\n\nEin *Satz*[^1].\n\n[^1]: Fuß", asset_base=BASE)
    assert md.html_to_text(html) == "Über Ein Satz. Fuß"
    assert md.count_words("<p>one two-three it's</p>") == 3


def test_reused_converter_keeps_no_state_between_documents():
    """Footnotes, headings and images of one document never leak into the next (converters are reused)."""
    renderer = Renderer()
    first = renderer.document("## Alpha\n\nText[^1] ![a](images/one.svg)\n\n[^1]: First note.", asset_base="/x/")
    second = renderer.document("## Beta\n\nOther text, no notes.", asset_base="/x/")
    assert "First note" in first.html and "First note" not in second.html
    assert [item.title for item in second.toc] == ["Beta"]
    assert first.images == ("images/one.svg",) and second.images == ()


@pytest.mark.parametrize("src", [
    "https://evil.example/x.png", "http://evil.example/x.png", "//evil.example/x.png", "HTTPS://evil.example/x.png",
    "\\\\evil.example/x.png", "/\\evil.example/x.png", "http:evil.example/x.png", "https:\t//evil.example/x.png",
    "ftp://evil.example/x.png",
])
def test_external_images_are_dropped(src):
    """An image from another host is removed (its alt text stays) and reported; no src points away."""
    result = Renderer().document(f"Before ![the picture]({src}) after.", asset_base=BASE)
    imgs = [a for t, a in parse(result.html).tags if t == "img"]
    assert all(a["src"].startswith(BASE) for a in imgs), result.html
    if not imgs:
        assert "Before the picture after." in result.html and len(result.external_images) == 1


def test_external_images_are_kept_when_allowed():
    """With allow_external_images an http(s) image stays; other schemes still go."""
    result = Renderer().document("![a](https://cdn.example/z.png) ![b](//cdn.example/y.png) ![c](ftp://x.example/z.png)",
                                 asset_base=BASE, external_images=True)
    assert [a["src"] for t, a in parse(result.html).tags if t == "img"] == ["https://cdn.example/z.png",
                                                                              "//cdn.example/y.png"]
    assert len(result.external_images) == 3


def test_site_paths_and_relative_images_are_not_external():
    """`/static/x.png` stays on this site; relative images go to the asset base."""
    result = Renderer().document("![a](/static/x.png) ![b](images/y.png)", asset_base=BASE)
    assert [a["src"] for t, a in parse(result.html).tags if t == "img"] == ["/static/x.png", BASE + "images/y.png"]
    assert result.external_images == ()


def test_external_image_inside_a_link_keeps_the_link():
    """A linked external image leaves its alt text as the link text."""
    result = Renderer().document("[![Logo](https://evil.example/l.png)](https://example.com)", asset_base=BASE)
    assert [t for t, _ in parse(result.html).tags] == ["p", "a"] and ">Logo</a>" in result.html


@pytest.mark.parametrize("href", ["https://x.example/p", "http://x.example", "//x.example/p", "HTTPS://X.example"])
def test_links_to_other_hosts_get_rel(href):
    """Links to other hosts stay, with rel="noopener noreferrer", also protocol-relative ones."""
    html, _ = render(f"[a]({href})", asset_base=BASE)
    assert [a for t, a in parse(html).tags if t == "a"] == [{"href": href, "rel": "noopener noreferrer"}]
