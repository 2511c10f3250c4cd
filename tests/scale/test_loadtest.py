"""`make loadtest` in miniature: its sessions, its wrk scenario and its lost-write check work against a real gunicorn.

The load test itself is not part of CI (it runs for minutes); this runs its pieces for a few seconds on the
suite's backend (SQLite file, or PostgreSQL when COACHING_TEST_BACKEND=postgresql).
"""
from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench import loadtest
from bench.generate import write_catalog
from tests.scale.conftest import server_database
from tests.scale.helpers import Browser, Server

pytestmark = pytest.mark.slow


def require_wrk() -> str:
    """wrk's path; skip loudly without it, fail on CI (which installs it)."""
    path = shutil.which("wrk")
    if path:
        return path
    message = "!!! wrk IS NOT INSTALLED: the load test scenario did not run (apt-get install wrk) !!!"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, signing_key_file: Path) -> Iterator[dict]:
    """gunicorn (2 x 4) on a generated catalog with 40 seeded affiliates, 2 managers and their forged sessions."""
    from coaching.content import load_catalog

    require_wrk()
    root = tmp_path_factory.mktemp("loadtest")
    content = write_catalog(root / "content", courses=2, lessons=4)
    server = Server(root=root / "server", database_url=server_database(root), workers=2, threads=4,
                    extra_env={"CONTENT_DIR": str(content), "PROXY_FIX_HOPS": "1"})
    server.prepare(signing_key_file)
    catalog = load_catalog(content)
    args = loadtest.parse_args(["--affiliates", "40", "--managers", "2", "--certificate-share", "0.5"])
    seeded = loadtest.seed(server.database_url, catalog, args)
    people = loadtest.forge_sessions(server)
    server.start()
    try:
        yield {"server": server, "catalog": catalog, "people": people, "seeded": seeded, "root": root}
    finally:
        server.stop()


def test_forged_sessions_are_real_sessions(stack):
    """Each seeded person's cookie opens their pages, and each one's CSRF token is their own (accepted only with it)."""
    server, people = stack["server"], stack["people"]
    assert len(people["users"]) == 40 and len(people["managers"]) == 2 and people["holders"]
    tokens = {person["t"] for person in people["users"]}
    assert len(tokens) == 40  # one per session, not the first person's token handed to everyone
    for person, path in ((people["users"][0], "/dashboard"), (people["users"][-1], "/dashboard"),
                         (people["managers"][0], "/manage/")):
        name, _, value = person["c"].partition("=")
        assert Browser(server.base, {name: value}).get(path).status == 200


def test_a_short_run_answers_every_kind_and_loses_no_submission(stack):
    """A few seconds of the scenario with every kind equally likely: no error, every accepted quiz submission
    stored once under its own submission id; a tampered acknowledgement is caught as lost."""
    server, people, catalog = stack["server"], stack["people"], stack["catalog"]
    quizzes = loadtest.quiz_forms(server, people["probe"], catalog, 3)
    weights = [{"name": kind, "weight": 1} for kind in loadtest.AFFILIATE_WEIGHTS] + [{"name": "report", "weight": 1}]
    data = loadtest.scenario_data(people, catalog, quizzes, weights, pass_share=0.5)
    meter = loadtest.Meter(server.process.pid, None, None)
    result = loadtest.run_phase("short", server, data, meter, stack["root"], seconds=4, connections=4, think_ms=0,
                                run_id="loadtst", cap=10_000)
    assert result["errors"] == 0, result["bad"]
    for kind in loadtest.KINDS:
        assert result["kinds"][kind]["requests"] > 0, kind
    # every accepted submission is followed to its result page (the last one may be cut off by the stop)
    assert len(result["acks"]) - 1 <= result["kinds"]["result"]["requests"] <= len(result["acks"])
    writes = loadtest.check_writes(server.database_url, result["run_id"], result["acks"])
    assert writes["accepted"] == len(result["acks"]) > 0
    assert writes["lost"] == 0 and writes["doubled"] == 0
    assert writes["stored"] >= writes["accepted"]
    (sid_a, id_a), (sid_b, id_b) = (ack.split("=") for ack in result["acks"][:2])
    tampered = [f"{sid_a}={id_b}", f"{sid_b}={id_a}", *result["acks"][2:]]
    assert loadtest.check_writes(server.database_url, result["run_id"], tampered)["lost"] == 2
    assert loadtest.check_writes(server.database_url, result["run_id"], [*result["acks"], result["acks"][0]])["doubled"] == 1
    assert not server.server_errors()


def test_a_phase_whose_wrk_crashes_runs_again_under_a_new_run_id(stack, tmp_path, monkeypatch):
    """wrk dying by a signal (it segfaulted once here, in its Lua glue) runs the phase again once, under a new
    run id, so the broken run's submissions are not counted with the new run's."""
    real = require_wrk()
    marker = tmp_path / "crashed"
    fake = tmp_path / "bin" / "wrk"
    fake.parent.mkdir()
    fake.write_text(f"#!/bin/sh\nif [ ! -e {marker} ]; then touch {marker}; kill -SEGV $$; fi\nexec {real} \"$@\"\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    server, people, catalog = stack["server"], stack["people"], stack["catalog"]
    quizzes = loadtest.quiz_forms(server, people["probe"], catalog, 3)
    weights = [{"name": kind, "weight": 1} for kind in loadtest.AFFILIATE_WEIGHTS] + [{"name": "report", "weight": 1}]
    data = loadtest.scenario_data(people, catalog, quizzes, weights, pass_share=0.5)
    meter = loadtest.Meter(server.process.pid, None, None)
    result = loadtest.run_phase("again", server, data, meter, stack["root"], seconds=2, connections=2, think_ms=0,
                                run_id="crashed", cap=10_000)
    assert marker.exists() and result["run_id"] == "crashedx"
    writes = loadtest.check_writes(server.database_url, result["run_id"], result["acks"])
    assert writes["accepted"] == len(result["acks"]) > 0 and writes["lost"] == 0 and writes["doubled"] == 0
