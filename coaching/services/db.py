"""Small database helpers that work the same on SQLite and PostgreSQL."""
from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.dialects import postgresql, sqlite

from ..extensions import db


def insert_ignore(model: Any, values: dict[str, Any], *, conflict: list[str],
                  where: ColumnElement[bool] | None = None) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING; True when a row was inserted (unique constraint decides, not Python)."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(model).values(**values).on_conflict_do_nothing(index_elements=conflict, index_where=where)
    # RETURNING says whether a row went in: psycopg 3 reports rowcount -1 for the single-row INSERT that
    # SQLAlchemy sends with an implicit RETURNING, so `rowcount == 1` was False on PostgreSQL even on success.
    primary_key = list(model.__table__.primary_key.columns)
    return db.session.execute(statement.returning(*primary_key)).first() is not None


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
    db.session.commit()
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.connection(execution_options={"sqlite_immediate": True})
