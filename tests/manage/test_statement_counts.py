"""The manager pages send a fixed number of statements, however many people and attempts there are: no query per
row, per person or per lesson."""
from __future__ import annotations

from typing import Any

from tests.dbwatch import statements_sent

from .conftest import answers

PAGES = ["/manage/", "/manage/courses/demo", "/manage/courses/demo?sort=progress",
         "/manage/courses/demo?sort=activity&status=started", "/manage/courses/demo/headlines/questions",
         "/manage/affiliates", "/manage/reviews"]


def statements(app: Any, client: Any) -> dict[str, int]:
    """Statements per page load."""
    counts = {}
    for path in PAGES:
        with statements_sent(app) as seen:
            assert client.get(path).status_code == 200, path
        counts[path] = len(seen)
    return counts


def people(world: Any, first: int, count: int) -> None:
    """Affiliates who read, pass or fail."""
    for n in range(first, first + count):
        uid = world.user(f"Person {n:03d}")
        world.complete_welcome(uid)
        world.attempt(uid, answers(single=n % 2 == 0, multi=n % 3 == 0))


QUESTIONS = "/manage/courses/demo/headlines/questions"


def test_statements_do_not_grow_with_people(app, manager_client, world):
    """Three people or forty-three: each page sends the same statements (the question analysis reads the score
    group that the upper or the lower 27 % cut through once more, so up to two more)."""
    people(world, 0, 3)
    statements(app, manager_client)  # warm: first-use lookups
    few = statements(app, manager_client)
    people(world, 3, 40)
    many = statements(app, manager_client)
    assert {p: n for p, n in many.items() if p != QUESTIONS} == {p: n for p, n in few.items() if p != QUESTIONS}
    assert few[QUESTIONS] <= many[QUESTIONS] <= few[QUESTIONS] + 2
    assert max(many.values()) <= 20, many
