"""Who may use the manager area: anonymous visitors go to login, affiliates get 403, managers get in."""
from __future__ import annotations

import pytest

from tests.conftest import Auth

GET_PAGES = [
    "/manage/", "/manage/courses/demo", "/manage/courses/demo/headlines/questions", "/manage/affiliates",
    "/manage/affiliates/{uid}", "/manage/audit", "/manage/export/progress.csv", "/manage/export/attempts.csv",
    "/manage/content", "/manage/content/demo/headlines/preview", "/manage/invites",
    "/manage/content/demo/headlines/edit", "/manage/content/demo/edit", "/manage/content/demo/headlines/history",
    "/manage/content/demo/history", "/manage/content/demo/new", "/manage/content/new",
    "/manage/content/demo/images", "/manage/content/demo/headlines/rename", "/manage/content/demo/headlines/delete",
]
GET_AND_POST = {"/manage/invites", "/manage/content/demo/headlines/edit", "/manage/content/demo/new",
                "/manage/content/new", "/manage/content/demo/images", "/manage/content/demo/headlines/rename",
                "/manage/content/demo/headlines/delete"}
POST_ACTIONS = [
    "/manage/affiliates/{uid}/grant-attempt", "/manage/affiliates/{uid}/reset-lesson",
    "/manage/affiliates/{uid}/deactivate", "/manage/affiliates/{uid}/reactivate", "/manage/affiliates/{uid}/role",
    "/manage/affiliates/{uid}/certificates/ABC/revoke", "/manage/affiliates/{uid}/password-reset",
    "/manage/content/reload", "/manage/invites", "/manage/invites/1/withdraw",
    "/manage/content/demo/headlines/edit", "/manage/content/demo/headlines/check", "/manage/content/demo/check",
    "/manage/content/demo/headlines/restore", "/manage/content/demo/restore", "/manage/content/demo/new",
    "/manage/content/new", "/manage/content/demo/images", "/manage/content/demo/headlines/rename",
    "/manage/content/demo/headlines/delete",
]


def test_every_listed_rule_exists(app):
    """Each route listed here exists (other /manage routes are checked by tests/web/test_security.py)."""
    rules = {rule.rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/manage")}
    listed = {p.replace("{uid}", "<dbid:user_id>").replace("ABC", "<cert_id>").replace("/1/", "/<dbid:invite_id>/")
              .replace("/demo/headlines/", "/<course_slug>/<lesson_slug>/").replace("/courses/demo", "/courses/<course_slug>")
              .replace("/content/demo/", "/content/<course_slug>/") for p in GET_PAGES + POST_ACTIONS}
    assert listed <= rules


def test_manager_views_are_marked(app):
    """Every manager view carries the manager_required marker."""
    for endpoint, view in app.view_functions.items():
        if endpoint.startswith("manage."):
            assert getattr(view, "access", None) == "manager", endpoint


@pytest.mark.parametrize("path", GET_PAGES)
def test_anonymous_is_sent_to_login(client, affiliate, path):
    """Anonymous visitors are redirected to the login page."""
    response = client.get(path.format(uid=affiliate.id))
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


@pytest.mark.parametrize("path", POST_ACTIONS)
def test_anonymous_post_is_sent_to_login(client, affiliate, path):
    """Anonymous POSTs (with a valid CSRF token of their own session) go to the login page too."""
    token = Auth(client).token("/auth/login")
    response = client.post(path.format(uid=affiliate.id), data={"csrf_token": token})
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


@pytest.mark.parametrize("path", GET_PAGES)
def test_affiliate_gets_403(client, logged_in, path):
    """A signed-in affiliate is refused every manager page."""
    assert client.get(path.format(uid=logged_in.id)).status_code == 403


@pytest.mark.parametrize("path", POST_ACTIONS)
def test_affiliate_post_gets_403(client, logged_in, path):
    """A signed-in affiliate is refused every manager action, even with a valid CSRF token."""
    token = Auth(client).token("/dashboard")
    assert client.post(path.format(uid=logged_in.id), data={"csrf_token": token}).status_code == 403


@pytest.mark.parametrize("path", GET_PAGES)
def test_manager_gets_every_page(manager_client, affiliate, path):
    """A manager opens every page."""
    response = manager_client.get(path.format(uid=affiliate.id))
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]


@pytest.mark.parametrize("path", [p for p in POST_ACTIONS if p not in GET_AND_POST])
def test_actions_refuse_get(manager_client, affiliate, path):
    """State changes are POST only: GET is 405."""
    assert manager_client.get(path.format(uid=affiliate.id)).status_code == 405


@pytest.mark.parametrize("path", POST_ACTIONS)
def test_actions_need_csrf(app, manager, affiliate, path):
    """Without the CSRF token every action is refused with 400."""
    client = app.test_client()
    assert Auth(client).login("boss@example.com").status_code == 302
    response = client.post(path.format(uid=affiliate.id), data={"reason": "x", "role": "manager"})
    assert response.status_code == 400


@pytest.mark.parametrize("suffix", ["abc", "-1", "0", "99999999999999999999999", "\u0661\u0662", "\uff11", "1.0",
                                    "999999"])
def test_bad_or_missing_ids_are_404(manager_client, suffix):
    """Ids that are not plain numbers, or unknown ones, are 404 (never a 500)."""
    assert manager_client.get(f"/manage/affiliates/{suffix}").status_code == 404


def test_unknown_course_and_lesson_are_404(manager_client):
    """Unknown courses and lessons, and lessons without a quiz, are 404."""
    assert manager_client.get("/manage/courses/nope").status_code == 404
    assert manager_client.get("/manage/courses/demo/nope/questions").status_code == 404
    assert manager_client.get("/manage/courses/demo/welcome/questions").status_code == 404
    assert manager_client.get("/manage/content/demo/nope/preview").status_code == 404
    assert manager_client.get("/manage/content/nope/welcome/preview").status_code == 404


def test_pages_have_no_inline_script_or_style(manager_client, affiliate):
    """The CSP forbids inline scripts and style attributes: the pages use neither."""
    for path in GET_PAGES:
        if path.endswith(".csv"):
            continue
        html = manager_client.get(path.format(uid=affiliate.id)).get_data(as_text=True)
        assert " style=" not in html and "<script>" not in html and "<style" not in html, path
