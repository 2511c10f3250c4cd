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
    assert exports.neutralize(value) == "'" + value
    assert exports.neutralize("Müller") == "Müller" and exports.neutralize(-3) == -3


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
