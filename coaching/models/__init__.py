"""Database models (SQLAlchemy 2.0 typed mappings), one module per area. Business rules live in the services."""
from .accounts import ROLES, Invite, PasswordReset, User, new_session_token
from .audit import AuditLog
from .authoring import ContentDocument, ContentRevision, LessonAlias
from .certificates import Certificate
from .coaching import DECISIONS, NOTIFY_CHOICES, Coach, Review, ReviewSettings, Submission, SubmissionVersion
from .counters import Counter
from .learning import AttemptGrant, CourseEnrollment, LessonProgress, QuizAttempt
from .mail import MAIL_STATUSES, OutboxMail
from .signup import Registration
from .types import UTCDateTime, iso_utc, utcnow

__all__ = [
    "ROLES", "User", "PasswordReset", "Invite", "CourseEnrollment", "LessonProgress", "QuizAttempt",
    "AttemptGrant", "Certificate", "Counter", "AuditLog", "UTCDateTime", "utcnow", "iso_utc", "new_session_token",
    "OutboxMail", "MAIL_STATUSES", "Registration",
    "Submission", "SubmissionVersion", "Review", "Coach", "ReviewSettings", "DECISIONS", "NOTIFY_CHOICES",
    "ContentRevision", "ContentDocument", "LessonAlias",
]
