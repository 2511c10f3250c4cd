"""Polish seen in the browser: legends inside their card, anchors not under the sticky header, empty charts
say so, and a quiz sent while the database is away keeps its answers (desktop and phone)."""
from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from tests.browser.conftest import DESKTOP, PHONE
from tests.conftest import DEMO_CONTENT, make_config

pytestmark = pytest.mark.browser
VIEWPORTS = {"desktop": DESKTOP, "phone": PHONE}


def box(page: Any, selector: str) -> dict[str, float]:
    """The bounding box of the first element matching `selector`."""
    found = page.locator(selector).first.bounding_box()
    assert found, f"{selector} is not visible"
    return found


@pytest.mark.parametrize("size", VIEWPORTS)
def test_question_legend_sits_inside_its_card(open_as: Any, shots_dir: Path, size: str) -> None:
    """Each question's legend starts below the card's top border, with the card's padding around it."""
    page, _response = open_as("affiliate", "/courses/demo/headlines", VIEWPORTS[size])
    fieldsets = page.locator("fieldset.quiz-question")
    assert fieldsets.count() >= 2
    for index in range(fieldsets.count()):
        card = fieldsets.nth(index).bounding_box()
        legend = fieldsets.nth(index).locator("legend").bounding_box()
        assert legend["y"] >= card["y"] + 8, (index, card, legend)
        assert legend["x"] >= card["x"] + 8 and legend["x"] + legend["width"] <= card["x"] + card["width"]
    fieldsets.first.screenshot(path=str(shots_dir / f"{size}-quiz-legend.png"))


@pytest.mark.parametrize("size", VIEWPORTS)
def test_anchor_targets_are_not_hidden_by_the_sticky_header(open_as: Any, shots_dir: Path, size: str) -> None:
    """Opening /lesson#quiz and following a table-of-contents link leave the target below the header."""
    page, _response = open_as("affiliate", "/courses/demo/headlines#quiz", VIEWPORTS[size])
    page.wait_for_function("window.scrollY > 0")
    header = box(page, "header.site-header")
    assert page.evaluate("window.scrollY") > 0
    assert box(page, "#quiz-title")["y"] >= header["y"] + header["height"], "the Quiz heading is under the header"
    page.screenshot(path=str(shots_dir / f"{size}-quiz-anchor.png"))
    heading_ids = page.eval_on_selector_all("article.lesson h2[id]:not(#quiz-title)", "els => els.map(e => e.id)")
    assert heading_ids, "the demo lesson has headings with ids (the table of contents links to them)"
    for heading in heading_ids:
        page.goto(f"/courses/demo/headlines#{heading}")
        page.wait_for_timeout(100)
        assert box(page, f"#{heading}")["y"] >= box(page, "header.site-header")["height"], heading


@pytest.mark.parametrize("size", VIEWPORTS)
def test_charts_without_data_say_so(open_as: Any, shots_dir: Path, size: str) -> None:
    """On the overview no chart is an empty drawing: each shows bars with a value, or says "No data yet"."""
    page, _response = open_as("manager", "/manage/", VIEWPORTS[size])
    figures = page.locator("figure.chart-figure")
    assert figures.count() >= 2
    for index in range(figures.count()):
        figure = figures.nth(index)
        if figure.locator(".chart-empty").count():
            expect(figure.locator(".chart-empty")).to_contain_text("No data yet")
            assert figure.locator("svg").count() == 0
            assert figure.bounding_box()["height"] < 140
        else:
            values = figure.locator("rect.bar").evaluate_all("bars => bars.map(b => +b.getAttribute('height'))")
            assert any(value > 0 for value in values), f"chart {index} draws only empty bars"
    page.screenshot(path=str(shots_dir / f"{size}-overview-charts.png"), full_page=True)


@pytest.fixture
def outage_server(tmp_path: Path, signing_key_file: Path) -> Iterator[tuple[str, Any, Path]]:
    """Its own app and server on a SQLite file in a folder that the test can take away."""
    from coaching import create_app
    from coaching.extensions import db

    folder = tmp_path / "dbdir"
    folder.mkdir()
    content = tmp_path / "content"
    shutil.copytree(DEMO_CONTENT, content)
    config = make_config(tmp_path, signing_key_file, SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder / 'live.db'}",
                         CONTENT_DIR=content, WTF_CSRF_ENABLED=True, TESTING=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COACHING_INSTANCE", str(tmp_path / "instance"))
        app = create_app(config)
    with app.app_context():
        db.create_all()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", app, folder
    server.shutdown()
    thread.join(5)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_quiz_sent_while_the_database_is_away_keeps_its_answers(page: Any, outage_server: Any,
                                                               shots_dir: Path) -> None:
    """Database away: the quiz POST gets the friendly 503 page with a Send again button; once the database is
    back, that button records the attempt with the answers given before."""
    from coaching.extensions import db
    from coaching.services.accounts import create_user

    url, app, folder = outage_server
    with app.app_context():
        create_user(email="outage@example.com", name="Otto Outage", password="correct horse battery staple")
        db.session.commit()
    page.goto(url + "/auth/login")
    sign_in_at(page, url, "outage@example.com")
    page.goto(url + "/courses/demo/headlines")
    page.get_by_label("Save three hours a week on reporting", exact=True).check()
    page.get_by_label("Search ads", exact=True).check()
    page.get_by_label("Sponsored newsletter placements", exact=True).check()
    page.locator("form[action*='/quiz'] input[type=text]").fill("click-through rate")

    folder.rename(folder.with_name("dbdir-away"))
    with app.app_context():
        db.engine.dispose()
    with page.expect_response(lambda r: r.request.method == "POST") as sent:
        page.locator("form[action*='/quiz'] button[type=submit]").click()
    assert sent.value.status == 503 and sent.value.headers["retry-after"]
    expect(page.locator("h1")).to_have_text("Temporarily unavailable")
    expect(page.locator("main")).to_contain_text("They are not lost")
    page.screenshot(path=str(shots_dir / "desktop-quiz-503.png"), full_page=True)

    folder.with_name("dbdir-away").rename(folder)
    with page.expect_response(lambda r: r.request.method == "POST") as again:
        page.get_by_role("button", name="Send again").click()
    assert again.value.status == 303
    page.wait_for_url("**/attempts/*")
    expect(page.locator("main")).to_contain_text("100")


def sign_in_at(page: Any, url: str, email: str) -> None:
    """Sign in on a server other than the session's live server."""
    page.goto(url + "/auth/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", "correct horse battery staple")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/dashboard")
