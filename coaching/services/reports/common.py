"""What every report shares: who counts as an affiliate, search conditions, lesson titles, aware times."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import or_

from ...content import Catalog
from ...models import User


def is_affiliate() -> Any:
    """Reports count affiliates (managers trying out a course do not skew the figures) and the anonymous
    rows of deleted accounts, so completion counts stay correct after a deletion (use with an outer join)."""
    return or_(User.id.is_(None), User.role == "affiliate")


def like_pattern(q: str) -> str:
    """A LIKE pattern matching `q` anywhere, with LIKE's wildcards escaped."""
    escaped = q.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def person_search(q: str) -> Any:
    """Condition: name or email contains `q` (case-insensitive)."""
    pattern = like_pattern(q)
    return or_(User.name.ilike(pattern, escape="\\"), User.email.ilike(pattern, escape="\\"))

def lesson_title(cat: Catalog, course_slug: str, lesson_slug: str, lang: str) -> str:
    """A lesson's title for display, or its slug when it no longer exists."""
    course = cat.course(course_slug)
    lesson = course.lesson(lesson_slug) if course else None
    return lesson.text(lang)[0].title if lesson else lesson_slug

def aware(value: Any) -> Any:
    """Aggregates bypass the column type on SQLite: parse strings and mark naive values as UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value
