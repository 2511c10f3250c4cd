"""At the same moment: two managers review the same version, one person submits twice. Threads with their own
clients, sessions and database connections send real requests through the app (BEGIN IMMEDIATE on SQLite, row
locks and conditional UPDATEs on PostgreSQL when the suite runs there); exactly one of each wins."""
from __future__ import annotations

import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.coaching.conftest import ANSWER, HEADLINE
from tests.conftest import Auth, csrf_token


def at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls in threads released together by a barrier; results in order."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> Any:
        barrier.wait(timeout=30)
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def signed_in(app: Any, email: str) -> Any:
    """A new client with its own session, signed in."""
    client = app.test_client()
    assert Auth(client).login(email).status_code == 302
    return client


def review_data(client: Any, submission_id: int, decision: str) -> dict[str, Any]:
    """A filled review form as the page gave it to this client."""
    html = client.get(f"/manage/reviews/{submission_id}").get_data(as_text=True)
    ids = sorted(set(re.findall(r'name="criterion-(c-[0-9a-f]+)"', html)))
    return {"csrf_token": csrf_token(html), "version": re.search(r'name="version" value="(\d+)"', html).group(1),
            "decision": decision, "overall_comment": f"{decision} by this client",
            **{f"criterion-{i}": "met" for i in ids}}


def test_two_reviewers_at_once(app, desk, make_user):
    """Two managers send their reviews of the same versions at the same moment: one stored, the other 409."""
    make_user(email="maria@example.com", name="Maria Manager", role="manager")
    make_user(email="otto@example.com", name="Otto Manager", role="manager")
    maria, otto = signed_in(app, "maria@example.com"), signed_in(app, "otto@example.com")
    rounds = 6
    people = [desk.user(f"Person {i}") for i in range(rounds)]
    for person in people:
        desk.submit(person)
    for person in people:
        sid = desk.submission_id(person)
        first, second = review_data(maria, sid, "approve"), review_data(otto, sid, "revise")
        path = f"/manage/reviews/{sid}"
        answers = at_once([lambda p=path, d=first: maria.post(p, data=d),
                           lambda p=path, d=second: otto.post(p, data=d)])
        statuses = sorted(r.status_code for r in answers)
        assert statuses == [303, 409], statuses
        loser = next(r for r in answers if r.status_code == 409)
        assert "already been reviewed" in loser.get_data(as_text=True)
        winner = "approved" if answers[0].status_code == 303 else "revise"
        assert desk.state(person) == winner
    assert desk.reviews() == rounds and len(desk.audit("submission_reviewed")) == rounds


def test_double_submit(app, desk, make_user):
    """The same person submits from several tabs at once: one version waits, the other requests get 409."""
    make_user(email="alex@example.com", name="Alex Affiliate")
    tabs = [signed_in(app, "alex@example.com") for _ in range(4)]
    forms = []
    for tab in tabs:
        html = tab.get(HEADLINE).get_data(as_text=True)
        forms.append({"csrf_token": csrf_token(html), "action": "submit", "answer": ANSWER,
                      "content_hash": re.search(r'name="content_hash" value="([0-9a-f]+)"', html).group(1)})
    answers = at_once([lambda t=t, f=f: t.post(f"{HEADLINE}/assignment", data=f) for t, f in zip(tabs, forms)])
    assert sorted(r.status_code for r in answers) == [303, 409, 409, 409]
    assert desk.versions() == 1 and desk.submissions() == 1 and desk.state(desk.user_id("alex@example.com")) == \
        "waiting"
