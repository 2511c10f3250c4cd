"""History per file, the diff between any two versions (an accessible table), and restore."""
from __future__ import annotations

import re

from tests.authoring.conftest import HEADLINES, WELCOME, hidden, welcome_text


def saved_versions(editor, content, n: int = 2) -> list[str]:
    """Save n edits of the welcome lesson; returns their texts."""
    texts = []
    for i in range(n):
        text = welcome_text(content).replace("commission", f"commission (edit {i})")
        editor.save(text, message=f"edit {i}")
        texts.append(text)
    return texts


def test_history_lists_every_version(editor, content):
    """Newest first, with who, what and the state, and links to each change."""
    saved_versions(editor, content)
    html = editor.client.get(f"{WELCOME}/history").get_data(as_text=True)
    ids = [int(i) for i in re.findall(r'<th scope="row">#(\d+)</th>', html)]
    assert ids == sorted(ids, reverse=True) and len(ids) == 3  # the file as it was, and two saves
    assert "edit 1" in html and "edit 0" in html and "Maria Manager" in html and "taken from the content folder" in html
    assert f"/manage/content/demo/welcome/diff?from={ids[1]}&amp;to={ids[0]}" in html
    assert html.count("Restore #") == 2  # not the newest


def test_diff_is_a_table_of_changed_lines(editor, content):
    """The diff shows removed and added lines side by side with line numbers, labelled for screen readers."""
    saved_versions(editor, content, 1)
    first, second = (r.id for r in editor.revisions("demo/01-welcome.md"))
    response = editor.client.get(f"{WELCOME}/diff", query_string={"from": first, "to": second})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<tr class="diff-replace">' in html and "removed:" in html and "added:" in html
    assert "commission (edit 0)" in html and "lines added: 1, removed: 1" in html
    assert '<th scope="col">' in html and "<caption" in html


def test_diff_with_unknown_or_foreign_revision_is_404(editor, content):
    """Revision ids that are not numbers, unknown, or of another file are 404."""
    saved_versions(editor, content, 1)
    editor.save((content / "demo" / "02-headlines.md").read_text(encoding="utf-8").replace("Headlines", "Heads"),
                HEADLINES)
    other = editor.revisions("demo/02-headlines.md")[-1].id
    mine = editor.revisions("demo/01-welcome.md")[-1].id
    for query in ({"from": "x", "to": mine}, {"from": mine, "to": 99999}, {"from": other, "to": mine},
                  {"from": "١", "to": mine}, {"to": mine}):
        assert editor.client.get(f"{WELCOME}/diff", query_string=query).status_code == 404, query


def test_restore_saves_the_old_text_as_a_new_version(editor, content):
    """Restore is a new published revision holding the old text; the history keeps everything."""
    original = welcome_text(content)
    saved_versions(editor, content, 2)
    revisions = editor.revisions("demo/01-welcome.md")
    html = editor.client.get(f"{WELCOME}/history").get_data(as_text=True)
    response = editor.client.post(f"{WELCOME}/restore", data={
        "csrf_token": hidden(html, "csrf_token"), "revision": revisions[0].id, "base": revisions[-1].id})
    assert response.status_code == 303
    assert editor.file("demo/01-welcome.md") == original
    newest = editor.revisions("demo/01-welcome.md")[-1]
    assert (newest.action, newest.text, newest.published) == ("restore", original, True)
    assert f"#{revisions[0].id}" in newest.message
    assert editor.audit()[-1] == "content_restored"


def test_restore_over_a_newer_version_is_refused(editor, content):
    """A restore from a history page that is out of date changes nothing and says why."""
    saved_versions(editor, content, 2)
    revisions = editor.revisions("demo/01-welcome.md")
    response = editor.post(f"{WELCOME}/restore", {"revision": revisions[0].id, "base": revisions[1].id})
    assert response.status_code == 303 and "history" in response.headers["Location"]
    assert len(editor.revisions("demo/01-welcome.md")) == len(revisions)
    assert "newer version" in editor.client.get(response.headers["Location"]).get_data(as_text=True)


def test_restore_needs_post_and_a_known_revision(editor, content):
    """GET is 405; an unknown revision is 404; a missing token is 400."""
    saved_versions(editor, content, 1)
    assert editor.client.get(f"{WELCOME}/restore").status_code == 405
    assert editor.post(f"{WELCOME}/restore", {"revision": 424242, "base": 1}).status_code == 404
    assert editor.client.post(f"{WELCOME}/restore", data={"revision": 1, "base": 1}).status_code == 400


def test_course_file_history(editor, content):
    """course.md has its own history, diff and restore at /manage/content/<course>/..."""
    course = (content / "demo" / "course.md").read_text(encoding="utf-8")
    editor.save(course.replace("Demo course", "Demo course, second edition"), "/manage/content/demo")
    html = editor.client.get("/manage/content/demo/history").get_data(as_text=True)
    assert "second edition" not in html and html.count('<th scope="row">#') == 2

