"""Two app servers (two gunicorns, each with two workers and its own content folder) on one database: a lesson
saved in the browser on server A is served by every worker of server B within CONTENT_RELOAD_SECONDS, and a
broken edit saved on A never reaches B's folder."""
from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.conftest import DEMO_CONTENT
from tests.scale.conftest import server_database
from tests.scale.helpers import Browser, Server, app_for, create_users, free_port, hidden_value

pytestmark = pytest.mark.slow
RELOAD_SECONDS = 0.5
LESSON = "/courses/demo/welcome"


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory, signing_key_file: Path) -> Iterator[tuple[Server, Server]]:
    """Servers A and B: own folders, one database, browser editing on."""
    root = tmp_path_factory.mktemp("two-servers")
    url = server_database(root)
    servers = []
    for name in ("a", "b"):
        folder = root / f"content-{name}"
        shutil.copytree(DEMO_CONTENT, folder)
        server = Server(root=root / name, database_url=url, workers=2, threads=2, port=free_port(),
                        extra_env={"CONTENT_DIR": str(folder), "CONTENT_EDITING": "on",
                                   "CONTENT_RELOAD_SECONDS": str(RELOAD_SECONDS)})
        server.prepare(signing_key_file)
        servers.append(server)
    try:
        for server in servers:
            server.start()
        yield servers[0], servers[1]
    finally:
        for server in servers:
            server.stop()


def edit_form(browser: Browser, path: str) -> dict[str, str]:
    """The edit page's hidden fields and its text."""
    page = browser.get(f"{path}/edit")
    assert page.status == 200, page.body[:300]
    start = page.body.index('<textarea id="editor-text"')
    text = page.body[page.body.index(">", start) + 1:page.body.index("</textarea>", start)]
    from html import unescape

    return {"csrf_token": hidden_value(page.body, "csrf_token"), "base": hidden_value(page.body, "base"),
            "base_sha": hidden_value(page.body, "base_sha"), "text": unescape(text).removeprefix("\n")}


def test_an_edit_on_one_server_is_served_by_the_other(pair: tuple[Server, Server]) -> None:
    """Save on A; every request to B (either worker) serves the new title within a few reload periods."""
    a, b = pair
    app = app_for(a.database_url, a.root)
    manager = create_users(app, 1, role="manager")[0]
    affiliate = create_users(app, 1)[0]
    with app.app_context():
        from coaching.extensions import db

        db.engine.dispose()  # seeding done: no pooled connection may outlive the test
    editor = Browser(a.base)
    editor.login(manager["email"])
    reader = Browser(b.base)
    reader.login(affiliate["email"])
    assert "Welcome" in reader.get(LESSON).body

    form = edit_form(editor, "/manage/content/demo/welcome")
    text = form["text"].replace("title: Welcome", "title: Welcome, said server A")
    saved_at = time.monotonic()
    answer = editor.request("POST", "/manage/content/demo/welcome/edit",
                            urlencode({**form, "text": text, "action": "publish"}))
    assert answer.status == 303, answer.body[:500]
    seen = 0
    deadline = saved_at + 20 * RELOAD_SECONDS + 10
    while seen < 6 and time.monotonic() < deadline:  # several answers in a row: both of B's workers
        seen = seen + 1 if "Welcome, said server A" in reader.get(LESSON).body else 0
        time.sleep(0.05)
    assert seen == 6, "server B did not serve the edit"
    latency = time.monotonic() - saved_at
    assert (Path(b.extra_env["CONTENT_DIR"]) / "demo" / "01-welcome.md").read_text(encoding="utf-8") == text
    print(f"save on A to served by B: {latency:.2f} s (CONTENT_RELOAD_SECONDS={RELOAD_SECONDS})")

    form = edit_form(editor, "/manage/content/demo/welcome")
    broken = form["text"].replace("minutes: 3", "minutes: soon")
    assert editor.request("POST", "/manage/content/demo/welcome/edit",
                          urlencode({**form, "text": broken, "action": "publish"})).status == 303
    time.sleep(4 * RELOAD_SECONDS)
    assert "Welcome, said server A" in reader.get(LESSON).body
    assert "minutes: 3" in (Path(b.extra_env["CONTENT_DIR"]) / "demo" / "01-welcome.md").read_text(encoding="utf-8")
    assert not a.server_errors() and not b.server_errors(), a.log_text() + b.log_text()
