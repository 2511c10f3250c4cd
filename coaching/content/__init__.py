"""The content pipeline: Markdown lesson files -> an in-memory Catalog. No Flask, no database."""

from .assignment import Assignment, Criterion
from .catalog import (Catalog, CertificateSettings, ContentError, Course, CourseText, FileStatus,
                      Lesson, LessonText, Option, Question, Quiz, SearchHit, TocItem)
from .loader import load_catalog
from .markdown import render
from .quiz import Grade, QuestionResult, grade, normalize_text
from .store import ContentStore

__all__ = [
    "Assignment", "Criterion",
    "Catalog", "CertificateSettings", "ContentError", "ContentStore", "Course", "CourseText",
    "FileStatus", "Grade", "Lesson", "LessonText", "Option", "Question", "QuestionResult", "Quiz",
    "SearchHit", "TocItem", "grade", "load_catalog", "normalize_text", "render",
]
