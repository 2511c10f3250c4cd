"""German UI catalog: complete, placeholders intact, compiles; German pages for German browsers, English stays English."""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from babel.support import Translations

from coaching.i18n import TRANSLATIONS_DIR, compile_catalogs
from tests.conftest import REPO

DE_PO = TRANSLATIONS_DIR / "de" / "LC_MESSAGES" / "messages.po"
# Printf-style conversions as Python's % operator reads them: %(name)s, %d, %%.
PLACEHOLDER_RE = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[diouxXeEfFgGcrsa%]")
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "lazy_ngettext": (1, 2)}  # as `make messages`
GERMAN = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}


@pytest.fixture(scope="module", autouse=True)
def compiled_catalogs() -> None:
    """The web tests below need the .mo files (build output); compile them if missing or stale."""
    compile_catalogs()


def read_catalog(path: Path = DE_PO) -> Any:
    """The German catalog as Babel reads it."""
    with path.open("rb") as handle:
        return read_po(handle, locale="de")


def entries() -> list[Any]:
    """Every live entry of the German catalog (not the header, not obsolete ones)."""
    return [message for message in read_catalog() if message.id]


def placeholders(text: str) -> list[str]:
    """The printf placeholders of a string, sorted (a multiset: the same one twice counts twice)."""
    return sorted(PLACEHOLDER_RE.findall(text))


def label(message: Any) -> str:
    """A short, readable name for an entry in failure messages."""
    return repr(message.id if isinstance(message.id, str) else message.id[0])[:90]


# --- the catalog --------------------------------------------------------------------------------------------------

def test_catalog_exists_with_german_plural_rule():
    """There is a German catalog, with German plural forms (one, other)."""
    catalog = read_catalog()
    assert str(catalog.locale) == "de"
    assert catalog.num_plurals == 2 and catalog.plural_expr.replace(" ", "") == "(n!=1)"
    assert len(entries()) > 100


def test_every_message_has_a_german_translation():
    """No empty msgstr, no fuzzy entry, every plural form filled, and the catalog header is not fuzzy."""
    catalog = read_catalog()
    assert not catalog.fuzzy, "the catalog header is marked fuzzy"
    problems = []
    for message in entries():
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy:
            problems.append(f"fuzzy: {label(message)}")
        if isinstance(message.id, tuple) and len(strings) != catalog.num_plurals:
            problems.append(f"{len(strings)} plural forms: {label(message)}")
        if not all(s and s.strip() for s in strings):
            problems.append(f"untranslated: {label(message)}")
    assert not problems, "\n".join(problems)


def test_placeholders_match():
    """Each translation keeps exactly the placeholders of its source (%(name)s, %(n)d, %%); plurals form by form."""
    problems = []
    for message in entries():
        if isinstance(message.id, tuple):
            pairs = [(message.id[0], message.string[0]), (message.id[1], message.string[1])]
        else:
            pairs = [(message.id, message.string)]
        for source, translated in pairs:
            if placeholders(source) != placeholders(translated):
                problems.append(f"{label(message)}: {placeholders(source)} vs {placeholders(translated)} in {translated!r}")
        if any(PLACEHOLDER_RE.search(source) for source, _ in pairs) and "python-format" not in message.flags:
            problems.append(f"{label(message)}: placeholders but no python-format flag")
    assert not problems, "\n".join(problems)


def test_catalog_passes_babels_checks():
    """Babel's own checks (what `pybabel compile` warns about) find nothing."""
    errors = [(label(message), [str(e) for e in errs]) for message, errs in read_catalog().check()]
    assert not errors


def test_catalog_is_current_with_the_source():
    """Every string marked for translation in the code and templates is in the German catalog.

    Fails when someone adds a UI string: run `make messages` and translate the new entries.
    """
    with (REPO / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    known = {message.id if isinstance(message.id, str) else message.id[0] for message in entries()}
    missing = set()
    for filename, _lineno, message, _comments, _context in extract_from_dir(
            str(REPO), method_map, options_map, keywords=KEYWORDS):
        msgid = message if isinstance(message, str) else message[0]
        if msgid and msgid not in known:
            missing.add(f"{filename}: {msgid!r}")
    assert not missing, "not in the German catalog (run `make messages` and translate):\n" + "\n".join(sorted(missing))


def test_catalog_compiles_and_translates(tmp_path):
    """compile_catalogs writes a .mo that gettext reads, with singular, plural and formatted strings."""
    shutil.copytree(TRANSLATIONS_DIR, tmp_path / "translations", ignore=shutil.ignore_patterns("*.mo", "*.py"))
    written = compile_catalogs(tmp_path / "translations")
    assert written == [tmp_path / "translations" / "de" / "LC_MESSAGES" / "messages.mo"]
    translations = Translations.load(str(tmp_path / "translations"), ["de"])
    assert translations.gettext("Sign in") == "Anmelden"
    assert translations.ngettext("%(num)d lesson", "%(num)d lessons", 1) % {"num": 1} == "1 Lektion"
    assert translations.ngettext("%(num)d lesson", "%(num)d lessons", 3) % {"num": 3} == "3 Lektionen"
    assert translations.gettext("Pass mark: %(pass)d%%.") % {"pass": 80} == "Bestehensgrenze: 80%."


def test_compile_catalogs_only_when_stale(tmp_path):
    """A current .mo is left alone; a missing one or one older than its .po is rebuilt."""
    target = tmp_path / "translations" / "de" / "LC_MESSAGES"
    target.mkdir(parents=True)
    shutil.copy(DE_PO, target / "messages.po")
    assert compile_catalogs(tmp_path / "translations") == [target / "messages.mo"]
    assert compile_catalogs(tmp_path / "translations") == []
    po_time = (target / "messages.mo").stat().st_mtime + 10
    os.utime(target / "messages.po", (po_time, po_time))
    assert compile_catalogs(tmp_path / "translations") == [target / "messages.mo"]
    assert oct((target / "messages.mo").stat().st_mode & 0o777) == oct(0o644)
    assert sorted(p.name for p in target.iterdir()) == ["messages.mo", "messages.po"]  # no temporary files left


# --- pages --------------------------------------------------------------------------------------------------------

def test_catalog_page_in_german(client):
    """A German browser gets the catalog in German: navigation, lead text, plural and formatted strings."""
    body = client.get("/", headers=GERMAN).get_data(as_text=True)
    assert '<html lang="de">' in body
    for text in ("Kurse", "Anmelden", "Registrieren", "Datenschutz", "Impressum",
                 "Praxisnahe Lektionen für Affiliate-Partner", "2 Lektionen", "etwa 8 Minuten"):
        assert text in body, text
    assert "Sign in" not in body and "2 lessons" not in body


def test_login_page_in_german(client):
    """The login form speaks German, including the form labels defined in Python."""
    body = client.get("/auth/login", headers=GERMAN).get_data(as_text=True)
    for text in ("Anmelden", "Passwort vergessen?", "E-Mail", "Passwort", "Auf diesem Gerät angemeldet bleiben",
                 "Neu hier?", "Konto erstellen"):
        assert text in body, text
    assert "Forgot password?" not in body and "Keep me signed in" not in body


def test_wrong_login_flash_in_german(client, auth, affiliate):
    """Messages from the views are translated too."""
    response = auth.post("/auth/login", {"email": "aff@example.com", "password": "wrong password!"},
                         headers=GERMAN)
    assert "E-Mail-Adresse oder Passwort ist nicht korrekt." in response.get_data(as_text=True)


def test_lesson_pages_in_german(client, logged_in):
    """Signed in without a profile language, the browser's German applies to lesson pages and the quiz."""
    body = client.get("/courses/demo/welcome", headers=GERMAN).get_data(as_text=True)
    for text in ("Lektion 1 von 2", "Als erledigt markieren", "Meine Übersicht", "Abmelden", "Auf dieser Seite"):
        assert text in body, text
    assert "Mark as complete" not in body
    quiz = client.get("/courses/demo/headlines", headers=GERMAN).get_data(as_text=True)
    for text in ("Lektion 2 von 2", "Bestehensgrenze:", "Antworten absenden", "Zurück zum Kurs"):
        assert text in quiz, text


def test_english_stays_english(client, logged_in):
    """Without German in the request (or with English first) the UI is English."""
    for headers in ({}, {"Accept-Language": "en-US,en;q=0.9,de;q=0.5"}):
        catalog = client.get("/", headers=headers).get_data(as_text=True)
        assert '<html lang="en">' in catalog and "2 lessons" in catalog and "Lektionen" not in catalog
        lesson = client.get("/courses/demo/welcome", headers=headers).get_data(as_text=True)
        assert "Mark as complete" in lesson and "Lesson 1 of 2" in lesson
        assert "Als erledigt markieren" not in lesson and "Abmelden" not in lesson


def test_login_page_stays_english(client):
    """An English (or unknown) browser language gets the English login page."""
    for language in ("en", "fr-FR,fr;q=0.9"):
        body = client.get("/auth/login", headers={"Accept-Language": language}).get_data(as_text=True)
        assert '<html lang="en">' in body
        assert "Forgot password?" in body and "Keep me signed in on this device" in body
        assert "Passwort vergessen?" not in body and "Anmelden" not in body
