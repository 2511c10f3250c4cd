"""The browser editor's figures: the live preview of the longest lesson of the shipped curriculum (in-process and
as the editor's check request), and save-to-served latency between two gunicorn servers on one database."""
from __future__ import annotations

import shutil
import statistics
import threading
import time
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from tests.scale.helpers import REPO, Browser, Server, app_for, create_users, free_port, hidden_value

CURRICULUM = REPO / "content" / "lessons"


def longest_lesson(root: Path = CURRICULUM) -> tuple[str, str, str]:
    """(course, file name, lesson slug) of the largest lesson file of the shipped curriculum."""
    from coaching.content.scaffold import parse_name

    files = [p for p in root.glob("*/*.md") if p.name != "course.md" and not p.name.startswith("course.")]
    biggest = max(files, key=lambda p: p.stat().st_size)
    return biggest.parent.name, biggest.name, parse_name(biggest.name)[1] or ""


def preview_figures(rounds: int = 40) -> dict[str, Any]:
    """Median ms of checking and rendering the longest lesson as typed (each round a different text, so the
    lesson itself renders again; the course's other files come from the renderer's cache, as in the app)."""
    from coaching.content.check import check_text
    from coaching.content.markdown import Renderer

    course, name, _slug = longest_lesson()
    text = (CURRICULUM / course / name).read_text(encoding="utf-8")
    renderer = Renderer()
    started = time.perf_counter()
    first = check_text(CURRICULUM, course, name, text.encode(), renderer=renderer)
    cold = (time.perf_counter() - started) * 1000
    samples = []
    for i in range(rounds):
        edited = text.rstrip("\n") + f"\n\nA sentence typed in round {i}.\n"
        started = time.perf_counter()
        check_text(CURRICULUM, course, name, edited.encode(), renderer=renderer)
        samples.append((time.perf_counter() - started) * 1000)
    words = first.lesson.words if first.lesson else 0
    return {"lesson": f"{course}/{name}", "bytes": len(text.encode()), "words": words, "cold ms": cold,
            "preview ms": statistics.median(samples), "preview p90 ms": sorted(samples)[int(0.9 * len(samples))],
            "errors": first.errors}


def check_request_ms(tmp: Path, rounds: int = 30) -> float:
    """Median ms of the editor's check request (POST, JSON with the rendered preview) through the Flask test
    client on the shipped curriculum."""
    from coaching import create_app
    from coaching.extensions import db
    from coaching.services.accounts import create_user
    from config import TestConfig
    from tests.conftest import csrf_token

    course, name, slug = longest_lesson()
    content = tmp / "check-content"
    shutil.copytree(CURRICULUM, content)
    settings = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'check.db'}", "CONTENT_DIR": str(content),
                "CONTENT_EDITING": "on", "CONTENT_RELOAD_SECONDS": 2.0, "SIGNING_KEY_FILE": str(tmp / "keys.json"),
                "PAGES_DIR": str(REPO / "content" / "pages")}
    app = create_app(type("BenchConfig", (TestConfig,), settings))
    with app.app_context():
        db.create_all()
        create_user(email="bench@example.com", name="Bench", password="correct horse battery", role="manager")
        db.session.commit()
    client = app.test_client()
    token = csrf_token(client.get("/auth/login").get_data(as_text=True))
    client.post("/auth/login", data={"csrf_token": token, "email": "bench@example.com",
                                     "password": "correct horse battery"})
    page = client.get(f"/manage/content/{course}/{slug}/edit").get_data(as_text=True)
    token = csrf_token(page)
    text = (content / course / name).read_text(encoding="utf-8")
    samples = []
    for i in range(rounds + 3):
        started = time.perf_counter()
        answer = client.post(f"/manage/content/{course}/{slug}/check", headers={"Accept": "application/json"},
                             data={"csrf_token": token, "text": text + f"\nRound {i}.\n"})
        assert answer.status_code == 200, answer.status_code
        if i >= 3:
            samples.append((time.perf_counter() - started) * 1000)
    with app.app_context():
        db.engine.dispose()
    return statistics.median(samples)


def save_to_served(tmp: Path, signing_key: Path | None = None, saves: int = 6,
                   reload_seconds: float = 2.0) -> dict[str, Any]:
    """Two gunicorns (2 workers each, own folders, one SQLite database) with the shipped curriculum: seconds
    from a save's answer on server A until server B serves the new title, over several saves."""
    course, _name, slug = longest_lesson()
    url = f"sqlite:///{tmp / 'pair.db'}"
    servers = []
    for label in ("a", "b"):
        folder = tmp / f"pair-{label}"
        shutil.copytree(CURRICULUM, folder)
        server = Server(root=tmp / f"server-{label}", database_url=url, workers=2, threads=2, port=free_port(),
                        extra_env={"CONTENT_DIR": str(folder), "CONTENT_EDITING": "on",
                                   "CONTENT_RELOAD_SECONDS": str(reload_seconds)})
        server.prepare(signing_key)
        servers.append(server)
    try:
        for server in servers:
            server.start()
        app = app_for(url, servers[0].root)
        editor, reader = Browser(servers[0].base), Browser(servers[1].base)
        editor.login(create_users(app, 1, role="manager")[0]["email"])
        reader.login(create_users(app, 1)[0]["email"])
        with app.app_context():
            from coaching.extensions import db

            db.engine.dispose()
        # Other readers keep server B busy all the time, so its workers check on schedule (a worker that has
        # been idle checks at its next request, which would flatter the figure).
        stop = threading.Event()
        background = [threading.Thread(target=_keep_reading, args=(reader.clone(), f"/courses/{course}/{slug}",
                                                                   stop), daemon=True) for _ in range(2)]
        for thread in background:
            thread.start()
        latencies, firsts = [], []
        for i in range(saves):
            page = editor.get(f"/manage/content/{course}/{slug}/edit").body
            start = page.index('<textarea id="editor-text"')
            text = unescape(page[page.index(">", start) + 1:page.index("</textarea>", start)]).removeprefix("\n")
            marker = f"Edition {i} of the bench"
            new = text.replace("\n---\n", f"\n---\n{marker}.\n\n", 1)
            fields = {"csrf_token": hidden_value(page, "csrf_token"), "base": hidden_value(page, "base"),
                      "base_sha": hidden_value(page, "base_sha"), "text": new, "action": "publish"}
            answer = editor.request("POST", f"/manage/content/{course}/{slug}/edit", urlencode(fields))
            assert answer.status == 303, answer.body[:300]
            saved = time.monotonic()
            first, streak = None, 0
            while streak < 10:  # ten answers in a row with the edit: every worker of B serves it
                assert time.monotonic() - saved < 30 + 10 * reload_seconds, "never served by server B"
                streak = streak + 1 if marker in reader.get(f"/courses/{course}/{slug}").body else 0
                first = first or (time.monotonic() - saved if streak else None)
                time.sleep(0.02)
            firsts.append(first)
            latencies.append(time.monotonic() - saved - 9 * 0.02)
            time.sleep(0.3)
        stop.set()
        for thread in background:
            thread.join(10)
        errors = sum(len(s.server_errors()) for s in servers)
    finally:
        for server in servers:
            server.stop()
    return {"median s": statistics.median(latencies), "max s": max(latencies), "saves": saves,
            "first median s": statistics.median(firsts),
            "reload seconds": reload_seconds, "server errors": errors}


def _keep_reading(reader: Browser, path: str, stop: threading.Event) -> None:
    """Read a lesson again and again until told to stop."""
    while not stop.is_set():
        reader.get(path)
        time.sleep(0.05)


def table_rows(figures: dict[str, Any]) -> list[str]:
    """The editor's lines of the bench table."""
    preview, served = figures["preview"], figures["served"]
    return [
        f"| editor preview of the longest lesson ({preview['lesson']}, {preview['words']} words), median ms | "
        f"{preview['preview ms']:.1f} | | goal < 30; p90 {preview['preview p90 ms']:.1f} ms, first "
        f"{preview['cold ms']:.0f} ms |",
        f"| editor check request (POST, JSON with the preview), median ms | {figures['check ms']:.1f} | | "
        "test client, in-process |",
        f"| save on server A to served by every worker of server B, median / max s | {served['median s']:.2f} / "
        f"{served['max s']:.2f} | | 2 gunicorns x 2 workers, CONTENT_RELOAD_SECONDS={served['reload seconds']:g}, "
        f"{served['saves']} saves, {served['server errors']} log errors |",
        f"| save on server A to first served by server B, median s | {served['first median s']:.2f} | | "
        "the first of B's workers to check |",
    ]


def run(tmp: Path) -> dict[str, Any]:
    """Every editor figure."""
    tmp.mkdir(parents=True, exist_ok=True)
    return {"preview": preview_figures(), "check ms": check_request_ms(tmp), "served": save_to_served(tmp)}


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory(prefix="coaching-bench-authoring.") as name:
        figures = run(Path(name))
    print("\n".join(["| figure | value | | note |", "|---|---|---|---|", *table_rows(figures)]))
