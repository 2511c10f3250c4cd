"""Small database helpers that work the same on SQLite and PostgreSQL."""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Integer, Table, cast, exc, extract, func
from sqlalchemy.dialects import postgresql, sqlite

from ..extensions import db


def insert_ignore(model: Any, values: dict[str, Any], *, conflict: list[str],
                  where: ColumnElement[bool] | None = None) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING; True when a row was inserted (unique constraint decides, not Python).

    Whether a row went in is read from RETURNING, not from the rowcount: for an insert into a table with an
    autoincrement key SQLAlchemy adds RETURNING of that key on PostgreSQL, and the rowcount is then -1 (a
    real insert looked like a conflict).
    """
    return insert_returning(model, values, conflict=conflict, where=where) is not None


def dialect_insert() -> Any:
    """The database's INSERT construct (both know ON CONFLICT)."""
    return postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert


@lru_cache(maxsize=64)
def _insert_ignoring(dialect: str, table: Table, conflict: tuple[str, ...]) -> Any:
    """INSERT ... ON CONFLICT (conflict) DO NOTHING RETURNING the key, built once per table; the values are
    bound at execution (building the statement cost more than running it)."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing(index_elements=list(conflict)).returning(*table.primary_key.columns)


def insert_returning(model: Any, values: dict[str, Any], *, conflict: list[str],
                     where: ColumnElement[bool] | None = None) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING the primary key: the new row's key, or None on a conflict."""
    table = getattr(model, "__table__", model)
    if where is None:
        statement = _insert_ignoring(db.session.get_bind().dialect.name, table, tuple(conflict))
        row = db.session.execute(statement, values).first()
    else:  # a partial unique index: its condition is part of the statement
        statement = (dialect_insert()(table).values(**values)
                     .on_conflict_do_nothing(index_elements=conflict, index_where=where)
                     .returning(*table.primary_key.columns))
        row = db.session.execute(statement).first()
    return None if row is None else row[0]


def microseconds_between(start: Any, end: Any) -> ColumnElement[int]:
    """SQL: the exact number of microseconds from one UTCDateTime column to another (for ordering in SQL).

    SQLite keeps these times as text, "YYYY-MM-DD HH:MM:SS.ffffff" in UTC: whole seconds from strftime('%s'),
    the microseconds from the text. PostgreSQL: the epoch of the interval (numeric), in microseconds.
    """
    if db.session.get_bind().dialect.name == "sqlite":
        seconds = cast(func.strftime("%s", end), Integer) - cast(func.strftime("%s", start), Integer)
        micros = cast(func.substr(end, 21, 6), Integer) - cast(func.substr(start, 21, 6), Integer)
        return seconds * 1_000_000 + micros
    return cast(func.round(extract("epoch", end - start) * 1_000_000), BigInteger)


def lock_row(model: Any, ident: Any) -> None:
    """Serialise writers on one row (SELECT ... FOR UPDATE on PostgreSQL; SQLite already holds the write lock)."""
    from sqlalchemy import select

    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(model.id).where(model.id == ident).with_for_update())


def begin_write() -> None:
    """End the current read transaction and start a write transaction (BEGIN IMMEDIATE on SQLite).

    For writes inside GET requests: upgrading a SQLite read snapshot to a write fails at once with
    "database is locked" when another process wrote in between, so the write starts fresh with the lock.
    """
    session = db.session()
    expire, session.expire_on_commit = session.expire_on_commit, False  # what this request loaded stays loaded
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire
    if session.get_bind().dialect.name == "sqlite":
        session.connection(execution_options={"sqlite_immediate": True})


def write_lock() -> None:
    """Take SQLite's write lock for the statements that follow (for `late_write_lock` views): `begin_write`,
    which ends a read transaction first. On PostgreSQL row locks and unique constraints do the work."""
    if db.session.get_bind().dialect.name == "sqlite":
        begin_write()


# SQLite's words for "the database file cannot be used right now" (a missing folder, a file that became
# unreadable, a full or failing disk, a writer holding the lock past the busy timeout).
_SQLITE_UNAVAILABLE = ("unable to open database file", "disk i/o error", "database is locked",
                       "database or disk is full", "authorization denied")


def _is_dbapi_operational(error: BaseException) -> bool:
    """A driver's own OperationalError (PEP 249 names it so in every driver); the pool raises these unwrapped."""
    return any(cls.__name__ == "OperationalError" and cls.__module__.split(".")[0] in ("sqlite3", "psycopg",
                                                                                      "psycopg2")
               for cls in type(error).__mro__)


def database_unavailable(error: BaseException) -> bool:
    """True when an error means the database cannot be reached now (answer 503 and retry), not a bug (500).

    PostgreSQL: every OperationalError (refused or dropped connections, "the database system is shutting down",
    an administrator's restart) and a pool that gave no connection in time. SQLite: the file cannot be opened or
    read, or stays locked; "no such table" and other programming errors stay 500s. Errors come wrapped by
    SQLAlchemy, or raw from the driver when a connection is opened outside a Session (raw_connection).
    """
    if isinstance(error, (exc.DisconnectionError, exc.TimeoutError)):
        return True
    if isinstance(error, exc.DBAPIError):
        if error.connection_invalidated:
            return True
        if not isinstance(error, exc.OperationalError):
            return False
        error = error.orig if error.orig is not None else error
    if not _is_dbapi_operational(error):
        return False
    if type(error).__module__.startswith("sqlite3"):
        return str(error).lower().startswith(_SQLITE_UNAVAILABLE)
    return True


def late_write_lock(view: Any) -> Any:
    """Mark a POST view whose service takes SQLite's write lock itself (`begin_write`) right before it writes,
    instead of at the start of the request: other writers then wait only for the statements that need the lock,
    not for CSRF checks, form parsing or grading. The service must read nothing it then writes from before
    `begin_write` (that would be the read-then-write SQLite cannot upgrade)."""
    view.late_write_lock = True
    return view
