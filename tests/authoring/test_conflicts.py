"""Conflicts: a save over a newer revision never overwrites it; it shows both versions and a merge. Two managers
saving at the same moment: exactly one wins."""
from __future__ import annotations

import re
import threading
from html import unescape

from tests.authoring.conftest import WELCOME, hidden, welcome_text


def merged_text(html: str) -> str:
    """The merged text offered on the conflict page."""
    return unescape(re.search(r'<textarea id="merged-text"[^>]*>(.*?)</textarea>', html, re.S).group(1)).lstrip("\n")


def test_stale_save_shows_both_versions_and_merges(editor, second_editor, content):
    """Changes to different lines are merged; nothing is saved until the manager saves the merge."""
    original = welcome_text(content)
    mine = editor.open()
    theirs = second_editor.open()
    assert second_editor.save(original.replace("minutes: 3", "minutes: 4"), page=theirs).status_code == 303
    head = len(editor.revisions())
    response = editor.save(original.replace("title: Welcome", "title: Welcome, reader"), page=mine)
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Someone saved a newer version first" in html and "Otto Other" in html
    assert len(editor.revisions()) == head and "minutes: 4" in editor.file("demo/01-welcome.md")
    merged = merged_text(html)
    assert "title: Welcome, reader" in merged and "minutes: 4" in merged and "<<<<<<<" not in merged
    assert 'class="diff-replace"' in html or 'class="diff-' in html
    token = hidden(html, "csrf_token")
    response = editor.client.post(f"{WELCOME}/edit", content_type="multipart/form-data", data={
        "csrf_token": token, "base": hidden(html, "base"), "base_sha": hidden(html, "base_sha"), "text": merged,
        "action": "publish"})
    assert response.status_code == 303
    assert editor.file("demo/01-welcome.md").startswith("---\ntitle: Welcome, reader\nsummary: What affiliate "
                                                        "marketing is.\nminutes: 4\n")


def test_overlapping_changes_keep_both_between_markers(editor, second_editor, content):
    """Both changed the same line: both texts are kept between markers, and a text with markers is not published."""
    original = welcome_text(content)
    mine = editor.open()
    second_editor.save(original.replace("title: Welcome", "title: Theirs"))
    html = editor.save(original.replace("title: Welcome", "title: Mine"), page=mine).get_data(as_text=True)
    merged = merged_text(html)
    assert "<<<<<<< your version\ntitle: Mine\n=======\ntitle: Theirs\n>>>>>>> the saved version" in merged
    assert "In 1 place you both changed the same lines" in html
    check = editor.check(merged).json
    assert check["errors"] >= 1 and any("unresolved merge" in p["message"] for p in check["problems"])
    response = editor.client.post(f"{WELCOME}/edit", content_type="multipart/form-data", data={
        "csrf_token": hidden(html, "csrf_token"), "base": hidden(html, "base"), "text": merged, "action": "publish"})
    assert response.status_code == 303
    assert "title: Theirs" in editor.file("demo/01-welcome.md")  # the markers went into a draft only
    assert not editor.revisions("demo/01-welcome.md")[-1].published


def test_file_changed_on_disk_before_first_save_is_a_conflict(editor, content):
    """A file never saved in the browser that changes on disk while it is open is not overwritten."""
    page = editor.open()
    (content / "demo" / "01-welcome.md").write_text(welcome_text(content).replace("Welcome", "Pulled"),
                                                    encoding="utf-8")
    response = editor.save(welcome_text(content).replace("Pulled", "Mine"), page=page)
    assert response.status_code == 409
    assert "changed in the content folder" in response.get_data(as_text=True)
    assert "Pulled" in editor.file("demo/01-welcome.md") and editor.revisions() == []


def test_two_managers_saving_at_once_one_wins(editor, second_editor, content):
    """Two saves from the same revision sent at the same moment: exactly one is published, the other gets the
    conflict view; repeated to give the race a chance."""
    for round_ in range(4):
        pages = [editor.open(), second_editor.open()]
        assert pages[0].base == pages[1].base
        texts = [welcome_text(content).split("---\n", 2)[2] for _ in range(2)]
        bodies = [f"---\ntitle: Round {round_} by {who}\nsummary: s\nminutes: 3\n---\n{texts[i]}"
                  for i, who in enumerate(("Maria", "Otto"))]
        barrier = threading.Barrier(2)
        statuses: list[int] = [0, 0]

        def send(i: int, client: object, barrier=barrier, statuses=statuses, bodies=bodies, pages=pages) -> None:
            barrier.wait()
            statuses[i] = client.save(bodies[i], page=pages[i]).status_code

        threads = [threading.Thread(target=send, args=(i, c)) for i, c in enumerate((editor, second_editor))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert sorted(statuses) == [303, 409], statuses
        winner = bodies[statuses.index(303)]
        assert editor.file("demo/01-welcome.md") == winner
        published = [r for r in editor.revisions("demo/01-welcome.md") if r.action == "save"]
        assert len(published) == round_ + 1 and published[-1].text == winner


def test_service_level_race_has_one_winner(editor_app, editor, content):
    """The same race through the service: the conditional update lets exactly one save through."""
    from coaching.extensions import db
    from coaching.models import User
    from coaching.services import authoring, publishing

    with editor_app.app_context():
        ref = authoring.locate("demo", "welcome", None)
        base_sha = authoring.open_file(ref).base_sha
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def save(n: int) -> None:
        with editor_app.test_request_context(method="POST"):
            barrier.wait()
            if db.engine.dialect.name == "sqlite":  # as every POST request does (coaching/__init__.py)
                db.session.connection(execution_options={"sqlite_immediate": True})
            actor = db.session.get(User, 1)
            try:
                saved = authoring.save(actor, authoring.locate("demo", "welcome", None),
                                       welcome_text(content).replace("Welcome", f"Racer {n}"), base_id=0,
                                       base_sha=base_sha)
                publishing.publish(content, saved.changes, saved.revisions, db.session.commit)
                outcomes.append("saved")
            except authoring.Conflict:
                db.session.rollback()
                outcomes.append("conflict")
            except Exception as error:  # the database refused the second insert: also a conflict for the user
                db.session.rollback()
                outcomes.append(type(error).__name__)

    threads = [threading.Thread(target=save, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["conflict", "saved"], outcomes
