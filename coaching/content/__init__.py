"""The content pipeline: Markdown lesson files -> an in-memory Catalog. No Flask, no database."""

from .assignment import Assignment, Criterion
from .catalog import (
                      SHOW_ANSWERS,
                      Catalog,
                      CertificateSettings,
                      ContentError,
                      Course,
                      CourseText,
                      FileStatus,
                      Lesson,
                      LessonText,
                      Option,
                      Question,
                      Quiz,
                      TocItem,
)
from .check import CheckReport, check_path
from .grading import Grade, QuestionResult, grade, option_order, order_seed
from .loader import load_catalog
from .markdown import Renderer, render, shared_renderer
from .normalize import grade_normalize, id_normalize
from .numbers import Number, NumberKey, parse_number
from .search import SearchHit
from .store import ContentStore

normalize_text = id_normalize  # the old name of the id normaliser

__all__ = [
    "Assignment", "Criterion",
    "SHOW_ANSWERS", "Catalog", "CertificateSettings", "CheckReport", "ContentError", "ContentStore", "Course",
    "CourseText", "FileStatus", "Grade", "Lesson", "LessonText", "Number", "NumberKey", "Option", "Question",
    "QuestionResult", "Quiz", "Renderer", "SearchHit", "TocItem", "check_path", "grade", "grade_normalize",
    "id_normalize", "load_catalog", "normalize_text", "option_order", "order_seed", "parse_number", "render",
    "shared_renderer",
]
