"""CSV exports: streamed, UTF-8 with BOM, umlauts intact, formulas neutralised, one row per affiliate and course."""
from __future__ import annotations

import csv
import io
import json

import pytest

from coaching.services import catalog
from coaching.services.reports import exports

from .conftest import answers

INJECTION = '=HYPERLINK("http://evil.example","click")'


@pytest.fixture
def people(world):
    """Jörg finished the course, the injector only read one lesson."""
    joerg = world.user("Jörg Müller", email="joerg@example.com")
    cert_id = world.finish(joerg)
    injector = world.user(INJECTION, email="inj@example.com")
    world.complete_welcome(injector)
    world.user("Never Started")
    return {"joerg": joerg, "cert": cert_id, "injector": injector}


def read_csv(response):
    """The rows of a CSV response (BOM checked and removed)."""
    data = response.get_data()
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_progress_csv(manager_client, people):
    """One row per affiliate and started course, with umlauts and a neutralised formula."""
    response = manager_client.get("/manage/export/progress.csv")
    assert response.status_code == 200 and response.is_streamed
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="progress-')
    rows = read_csv(response)
    assert rows[0] == exports.PROGRESS_HEADER
    by_name = {row[0]: row for row in rows[1:]}
    assert set(by_name) == {"Jörg Müller", "'" + INJECTION}
    joerg = by_name["Jörg Müller"]
    assert joerg[1:6] == ["joerg@example.com", "demo", "2", "2", "100"] and joerg[8] and joerg[9] == people["cert"]
    injected = by_name["'" + INJECTION]
    assert injected[3:6] == ["1", "2", "50"] and injected[8] == "" and injected[9] == ""


def test_attempts_csv(manager_client, people, world):
    """One row per attempt with score, pass and the answers as JSON."""
    world.attempt(people["injector"], answers(single=False))
    rows = read_csv(manager_client.get("/manage/export/attempts.csv"))
    assert rows[0] == exports.ATTEMPTS_HEADER
    assert [(r[1], r[8], r[9], r[11]) for r in rows[1:]] == [("Jörg Müller", "3", "3", "yes"),
                                                               ("'" + INJECTION, "2", "3", "no")]
    assert json.loads(rows[2][12])["q-e317e503b1"] == ["o-95e03f68"]


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_formula_prefixes_are_neutralised(value):
    """Cells starting with = + - @ tab or CR get a leading apostrophe; numbers and plain text stay."""
    assert exports.neutralize(value)[0] == "'" and exports.neutralize(value).replace("'", "") == value
    assert exports.neutralize("Müller") == "Müller" and exports.neutralize(-3) == -3
    plain = "Jean-Luc Picard, 2026-03-01 09:30:00+00:00"
    assert exports.neutralize(plain) == plain


@pytest.mark.parametrize("value, expected", [
    ("Dave;=1+1;@SUM(1)", "Dave;'=1+1;'@SUM(1)"),
    ("a, -3", "a, '-3"),
    ('x;"=HYPERLINK(1)', 'x;"\'=HYPERLINK(1)'),
    ("name\t+cmd", "name\t'+cmd"),
    ("line\r\n=2", "line\r\n'=2"),
])
def test_triggers_after_separators_are_neutralised(value, expected):
    """A trigger after ; , tab or a line break (a spreadsheet in another locale may split there) gets its apostrophe."""
    assert exports.neutralize(value) == expected


TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def dangerous_parts(cell: str) -> list[str]:
    """The parts of a cell, split on ; , and tab as a spreadsheet might, that start with a formula trigger
    (also behind spaces or a double quote, which spreadsheets skip)."""
    import re

    parts = [cell, *re.split(r"[;,\t]", cell)]
    return [p for p in parts if p.startswith(TRIGGERS) or p.lstrip(' "').startswith(TRIGGERS[:4])]


@pytest.fixture
def hostile(world):
    """People whose names and answers try every formula trick, each with a started course and an attempt."""
    names = ["Dave;=1+1;@SUM(1)", "Eve,+2+3", "Tab\t-1", '=cmd|" /C calc"!A0', "@Mallory", "-Minus",
             "Semi; =SUM(A1)", 'Quote;"=1', "Line\r\n=2"]
    for index, name in enumerate(names):
        uid = world.user(name, email=f"+h{index}@example.com")
        world.complete_welcome(uid)
        world.attempt(uid, answers(text=False, wrong_text=f"x;=HYPERLINK(\"http://evil.example\",{index})"))
    return names


@pytest.mark.parametrize("path", ["/manage/export/progress.csv", "/manage/export/attempts.csv"])
@pytest.mark.parametrize("delimiter", [",", ";"])
def test_no_cell_starts_a_formula_in_either_dialect(manager_client, hostile, path, delimiter):
    """Read with Python's csv module as a comma and as a semicolon file: no cell, and no part of a cell split
    on ; , or tab, starts with = + - @ tab or CR; every hostile name is still there, readable."""
    response = manager_client.get(path)
    text = response.get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    cells = [cell for row in rows[1:] for cell in row]
    assert cells and [c for c in cells if dangerous_parts(c)] == []
    if delimiter == ",":
        names = {row[0 if "progress" in path else 1] for row in rows[1:]}
        assert {name.replace("'", "") for name in names} >= set(hostile)


def test_neutralised_text_has_no_dangerous_part_whatever_it_was():
    """For any text (hypothesis), the neutralised cell has no part that starts a formula."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    alphabet = st.sampled_from(list("=+-@\t\r\n;, \"'abc1"))

    @settings(max_examples=500, deadline=None)
    @given(st.text(alphabet, max_size=20))
    def check(value):
        cell = exports.neutralize(value)
        assert dangerous_parts(cell) == [] and cell.replace("'", "") == value.replace("'", "")

    check()


def test_rows_are_read_in_chunks(app, world):
    """The keyset chunks cover every affiliate exactly once, whatever the chunk size."""
    for i in range(7):
        world.complete_welcome(world.user(f"P{i}"))
    with app.app_context():
        names = [row[0] for row in exports.progress_rows(catalog.catalog(), chunk=2)]
    assert sorted(names) == [f"P{i}" for i in range(7)]


def test_csv_stream_yields_pieces():
    """The CSV text is produced in pieces, BOM first."""
    pieces = list(exports.csv_stream(["a"], ([str(i) * 50] for i in range(100)), flush_at=1000))
    assert len(pieces) > 3 and pieces[0].startswith("\ufeffa\r\n")


def test_export_is_audited(app, manager_client, world):
    """Downloading an export is noted in the audit log."""
    manager_client.get("/manage/export/attempts.csv").get_data()
    assert world.audit_actions() == ["export_downloaded"]
