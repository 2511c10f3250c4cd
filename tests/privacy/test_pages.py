"""The operator's privacy notice and imprint: shipped as marked templates, in English and German."""
from __future__ import annotations

from html.parser import HTMLParser

import pytest


class _Links(HTMLParser):
    """Collects the footer's link targets and the page's text."""

    def __init__(self) -> None:
        super().__init__()
        self.footer_links: list[str] = []
        self.in_footer = False
        self.text = ""

    def handle_starttag(self, tag, attrs):
        if tag == "footer":
            self.in_footer = True
        if tag == "a" and self.in_footer:
            self.footer_links.append(dict(attrs).get("href", ""))

    def handle_endtag(self, tag):
        if tag == "footer":
            self.in_footer = False

    def handle_data(self, data):
        self.text += data


def _get(client, path, lang):
    """Fetch a page in a language; returns the parsed page."""
    response = client.get(path, headers={"Accept-Language": lang})
    assert response.status_code == 200
    parser = _Links()
    parser.feed(response.get_data(as_text=True))
    return parser


@pytest.mark.parametrize("path, lang, title, marker", [
    ("/privacy", "en", "Privacy notice", "Template: replace the bracketed parts before going live"),
    ("/privacy", "de", "Datenschutzerklärung", "Vorlage: Vor dem Livegang"),
    ("/imprint", "en", "Imprint", "Template: replace the bracketed parts before going live"),
    ("/imprint", "de", "Impressum", "Vorlage: Vor dem Livegang"),
])
def test_pages_render_as_marked_templates(client, path, lang, title, marker):
    """Each page renders in its language with the template warning on top, and the footer links to both."""
    page = _get(client, path, lang)
    assert title in page.text and marker in page.text
    assert "/privacy" in page.footer_links and "/imprint" in page.footer_links


@pytest.mark.parametrize("lang, words", [
    ("en", ["session cookie", "remember-me cookie", "CSRF", "IP address", "730", "Download your data",
            "Delete your account", "withdrawn by the holder", "art. 15", "art. 17", "art. 20"]),
    ("de", ["Sitzungs-Cookie", "Angemeldet bleiben", "CSRF", "IP-Adresse", "730", "Daten herunterladen",
            "Konto löschen", "vom Inhaber zurückgezogen", "Art. 15", "Art. 17", "Art. 20"]),
])
def test_privacy_notice_describes_this_platform(client, lang, words):
    """The notice covers what is stored, cookies, logs, retention, rights and the certificate choice."""
    text = _get(client, "/privacy", lang).text
    assert [w for w in words if w not in text] == []


def test_footer_links_on_every_page(client):
    """The catalog links to both pages in its footer."""
    page = _get(client, "/", "en")
    assert "/privacy" in page.footer_links and "/imprint" in page.footer_links
