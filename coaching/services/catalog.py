"""The current content catalog of this process, and who may see which course and lesson."""
from __future__ import annotations

from typing import Any

from flask import current_app

from ..content import Catalog, Course, Lesson, SearchHit


def catalog() -> Catalog:
    """The current content catalog of this process (reloaded when the files change)."""
    return current_app.extensions["coaching.content"].catalog


def _sees_drafts(user: Any) -> bool:
    """Managers see unpublished courses; everyone else only published ones."""
    return bool(getattr(user, "is_authenticated", False) and user.is_manager)


def visible_courses(user: Any, cat: Catalog | None = None) -> list[Course]:
    """Courses a person may see: published ones, and drafts too for managers."""
    cat = cat or catalog()
    return list(cat.courses) if _sees_drafts(user) else list(cat.published_courses())


def find_course(slug: str, user: Any, cat: Catalog | None = None) -> Course | None:
    """The course with this slug if this person may see it, else None (in `cat`, by default the current one)."""
    course = (cat or catalog()).course(slug)
    if course is None or (not course.published and not _sees_drafts(user)):
        return None
    return course


def find_lesson(course_slug: str, lesson_slug: str, user: Any,
                cat: Catalog | None = None) -> tuple[Course, Lesson] | None:
    """A visible course and one of its lessons, or None."""
    course = find_course(course_slug, user, cat)
    lesson = course.lesson(lesson_slug) if course is not None else None
    return (course, lesson) if lesson is not None else None


def search(query: str, lang: str, user: Any, limit: int = 30) -> list[SearchHit]:
    """Lessons matching a query, in the reader's language, limited to the courses this person may see."""
    if not query:
        return []
    cat = catalog()
    visible = {course.slug for course in visible_courses(user, cat)}
    return [hit for hit in cat.search(query, lang, limit=limit) if hit.course_slug in visible]


def path_neighbours(course: Course, user: Any) -> tuple[Course | None, Course | None]:
    """The courses before and after this one in the catalog's order (the path they build along)."""
    courses = visible_courses(user)
    if course not in courses:
        return None, None
    i = courses.index(course)
    return (courses[i - 1] if i > 0 else None), (courses[i + 1] if i + 1 < len(courses) else None)
