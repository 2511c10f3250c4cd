"""What the database saw: the statements sent, the bound parameters that break the input rule, and a fingerprint
of every table.

Shared by the input-rule tests and the fuzz suite (tests/fuzz/).
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, func, select

from coaching.extensions import db
from coaching.inputs import text_problem
from coaching.models import User


def _refused_strings(value: Any) -> Iterator[str]:
    """Every string inside a parameter set that the input rule refuses (even in multi-line text)."""
    if isinstance(value, str):
        if text_problem(value, multiline=True):
            yield value
    elif isinstance(value, bytes):
        if b"\x00" in value:
            yield repr(value)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _refused_strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _refused_strings(item)


@contextmanager
def watching(app: Any, listener: Any) -> Iterator[None]:
    """Call `listener(statement, parameters)` for every statement the app's engine sends inside the block."""
    def before(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        listener(statement, parameters)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", before)


@contextmanager
def refused_parameters(app: Any) -> Iterator[list[tuple[str, str]]]:
    """Collect (statement, value) for each statement sent with a parameter the input rule refuses."""
    seen: list[tuple[str, str]] = []
    with watching(app, lambda statement, parameters: seen.extend(
            (statement[:120], value[:80]) for value in _refused_strings(parameters))):
        yield seen


@contextmanager
def statements_sent(app: Any) -> Iterator[list[str]]:
    """Every SQL statement sent inside the block (BEGIN/COMMIT that the driver sends itself are not counted)."""
    seen: list[str] = []
    with watching(app, lambda statement, _parameters: seen.append(statement)):
        yield seen


def fingerprint(app: Any) -> dict[str, Any]:
    """Row counts of every table in one query, and the people's columns a request could change."""
    tables = db.metadata.sorted_tables
    with app.app_context():
        counts = db.session.execute(select(*(select(func.count()).select_from(t).scalar_subquery().label(t.name)
                                             for t in tables))).one()
        people = db.session.execute(select(User.id, User.email, User.name, User.role, User.active, User.language,
                                           User.password_hash, User.session_token).order_by(User.id)).all()
        db.session.rollback()
    return {"counts": dict(counts._mapping), "users": [tuple(row) for row in people]}
