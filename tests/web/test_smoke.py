"""Smoke: the main pages render for anonymous and signed-in people."""


def test_catalog_lists_demo_course(client):
    """The catalog shows the published demo course."""
    response = client.get("/")
    assert response.status_code == 200
    assert "Demo course" in response.get_data(as_text=True)


def test_lesson_page_for_signed_in(client, logged_in):
    """A signed-in affiliate reads a lesson."""
    response = client.get("/courses/demo/welcome")
    assert response.status_code == 200, response.get_data(as_text=True)[:3000]
    assert "commission" in response.get_data(as_text=True)
