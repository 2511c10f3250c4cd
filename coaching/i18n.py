"""The reader's language, and the translation catalogs (.po sources compiled to .mo, which are build output).

`make run`/`make test` compile with `pybabel compile`; this does the same from Python so a bare `pytest`
(or any process that starts without the Makefile) still finds current catalogs.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import request, session
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from config import BASE_DIR

TRANSLATIONS_DIR = BASE_DIR / "coaching" / "translations"
LANGUAGES = ("en", "de")

# The words on status badges (templates/_macros.html `badge`), translated when a badge is shown.
BADGE_LABELS = {
    "done": _l("Done"), "passed": _l("Passed"), "failed": _l("Failed"), "revoked": _l("Revoked"),
    "expired": _l("Expired"), "valid": _l("Valid"), "exam": _l("Exam"), "draft": _l("Draft"),
    "todo": _l("Not started"), "quiz": _l("Quiz"), "withdrawn": _l("Withdrawn"), "error": _l("Error"),
    "warning": _l("Warning"), "manager": _l("Manager"), "affiliate": _l("Affiliate"), "inactive": _l("Deactivated"),
}


def select_language() -> str:
    """Language code: the profile's, else the one picked in the footer, else the browser's, else English.

    Flask-Babel's locale selector; views ask `current_language()`.
    """
    if current_user and current_user.is_authenticated and current_user.language in LANGUAGES:
        return current_user.language
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES) or "en"


def current_language() -> str:
    """The language code of the current request's interface (what Flask-Babel selected)."""
    return str(get_locale() or "en")


def compile_catalogs(directory: str | os.PathLike[str] = TRANSLATIONS_DIR, *, force: bool = False) -> list[Path]:
    """Compile every <lang>/LC_MESSAGES/*.po under `directory` whose .mo is missing or older; return what was written.

    Fuzzy entries are left out (as `pybabel compile` does). Each .mo is written to a temporary file and
    renamed into place, so concurrent test processes never read a half-written catalog.
    """
    written = []
    for po_path in sorted(Path(directory).glob("*/LC_MESSAGES/*.po")):
        mo_path = po_path.with_suffix(".mo")
        if not force and mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as source:
            catalog = read_po(source, locale=po_path.parent.parent.name)
        fd, tmp_name = tempfile.mkstemp(prefix=".messages-", suffix=".mo", dir=po_path.parent)
        try:
            with os.fdopen(fd, "wb") as target:
                write_mo(target, catalog, use_fuzzy=False)
            os.chmod(tmp_name, 0o644)  # mkstemp creates 0600; the catalog is readable like any source file
            os.replace(tmp_name, mo_path)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        written.append(mo_path)
    return written
