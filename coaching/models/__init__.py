"""Database models (SQLAlchemy 2.0 typed mappings), one module per area. Business rules live in the services."""
from .accounts import ROLES, Invite, PasswordReset, User, new_session_token
from .audit import AuditLog
from .authoring import ContentDocument, ContentRevision, LessonAlias
from .certificates import Certificate
from .learning import AttemptGrant, CourseEnrollment, LessonProgress, QuizAttempt
from .types import UTCDateTime, iso_utc, utcnow

__all__ = [
    "ROLES", "User", "PasswordReset", "Invite", "CourseEnrollment", "LessonProgress", "QuizAttempt",
    "AttemptGrant", "Certificate", "AuditLog", "ContentRevision", "ContentDocument", "LessonAlias", "UTCDateTime",
    "utcnow", "iso_utc", "new_session_token",
]
