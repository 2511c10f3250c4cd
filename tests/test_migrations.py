"""The migration chain: single head, upgrade from empty and from every revision with data in it, downgrade to
base, and models that agree with the migrated schema - on the suite's backend (SQLite or PostgreSQL).

Migrations run as real `flask db ...` commands in a subprocess: Alembic's env.py reconfigures logging, which must
not leak into the other tests.
"""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config as AlembicConfig
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from tests.conftest import REPO, backend
from tests.scale.conftest import empty_postgres
from tests.scale.helpers import Server

STAMP = datetime(2024, 5, 17, 9, 30, tzinfo=UTC)


def scripts() -> ScriptDirectory:
    """The project's Alembic scripts."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(REPO / "migrations"))
    return ScriptDirectory.from_config(config)


def chain() -> list[str]:
    """Every revision, oldest first."""
    return [script.revision for script in reversed(list(scripts().walk_revisions()))]


@pytest.fixture
def deployment(tmp_path: Path, signing_key_file: Path) -> Iterator[Server]:
    """An empty database (own SQLite file, or the emptied PostgreSQL test database) and `flask` against it."""
    if backend() == "postgresql":
        url = os.environ.get("TEST_DATABASE_URL")
        if not url:
            pytest.fail("COACHING_TEST_BACKEND=postgresql needs TEST_DATABASE_URL")
        empty_postgres(url)
    else:
        url = f"sqlite:///{tmp_path / 'migrated.db'}"
    yield Server(root=tmp_path, database_url=url)


@pytest.fixture
def engine(deployment: Server) -> Iterator[sa.Engine]:
    """A plain engine on the deployment's database."""
    eng = sa.create_engine(deployment.database_url)
    yield eng
    eng.dispose()


def tables(engine: sa.Engine) -> set[str]:
    """The tables that exist now (without Alembic's own)."""
    return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}


def sample_value(table: str, column: sa.Column, refs: dict[str, Any]) -> Any:
    """A plausible value for a column of the reflected schema (foreign keys point at rows made earlier)."""
    for fk in column.foreign_keys:
        return refs.get(fk.column.table.name)
    kind = type(column.type).__name__.upper()
    if "INT" in kind:
        return 7
    if "BOOL" in kind:
        return True
    if any(name in kind for name in ("FLOAT", "REAL", "DOUBLE", "NUMERIC")):
        return 92.5
    if "DATE" in kind or "TIME" in kind:
        return STAMP
    if "JSON" in kind:
        return {"kept": [1, 2]}
    if "BLOB" in kind or "BYTEA" in kind or "BINARY" in kind:
        return b"\x89PNG bytes kept"
    length = getattr(column.type, "length", None) or 40
    return f"{table[:6]}-{column.name}-{uuid.uuid4().hex[:8]}"[:length]


def insert_rows(engine: sa.Engine) -> dict[str, tuple[dict[str, Any], Any]]:
    """One row in every table, parents first; returns per table the values written and the primary key."""
    metadata = sa.MetaData()
    metadata.reflect(engine)
    written: dict[str, tuple[dict[str, Any], Any]] = {}
    refs: dict[str, Any] = {}
    with engine.begin() as conn:
        for table in metadata.sorted_tables:
            if table.name == "alembic_version":
                continue
            values = {c.name: sample_value(table.name, c, refs) for c in table.columns
                      if not (c.primary_key and c.autoincrement in (True, "auto") and "INT" in str(c.type).upper())}
            key = conn.execute(table.insert().values(**values)).inserted_primary_key[0]
            key = values.get(list(table.primary_key.columns)[0].name, key)
            refs[table.name] = key
            written[table.name] = (values, key)
    return written


def assert_rows_survived(engine: sa.Engine, written: dict[str, tuple[dict[str, Any], Any]]) -> None:
    """Every row written before the upgrade is still there with the same values in the columns that remain."""
    metadata = sa.MetaData()
    metadata.reflect(engine)
    with engine.connect() as conn:
        for name, (values, key) in written.items():
            assert name in metadata.tables, f"table {name} disappeared with its data"
            table = metadata.tables[name]
            pk = list(table.primary_key.columns)[0]
            row = conn.execute(sa.select(table).where(pk == key)).mappings().one_or_none()
            assert row is not None, f"row {key} of {name} lost by the upgrade"
            for column, value in values.items():
                if column in row and not isinstance(value, datetime):
                    assert row[column] == value, (name, column, row[column], value)


def test_single_head_and_linear_chain() -> None:
    """One head; every revision has exactly one parent (no merge or branch left behind)."""
    script = scripts()
    assert len(script.get_heads()) == 1, script.get_heads()
    assert len(script.get_bases()) == 1, script.get_bases()
    for revision in script.walk_revisions():
        assert not isinstance(revision.down_revision, (tuple, list)), revision.revision


def test_upgrade_from_empty_then_models_agree(deployment: Server, engine: sa.Engine) -> None:
    """`flask db upgrade` on an empty database reaches head; autogenerate then finds nothing to change."""
    deployment.flask("db", "upgrade")
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == scripts().get_current_head()
    assert schema_diff(engine) == []


def schema_diff(engine: sa.Engine) -> list[Any]:
    """What `flask db migrate` would generate against this database (empty = models and schema agree)."""
    import coaching.models  # noqa: F401  (registers the tables)
    from coaching.extensions import db

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "render_as_batch": True})
        return compare_metadata(context, db.metadata)


@pytest.mark.parametrize("revision", chain())
def test_upgrade_from_revision_keeps_data(deployment: Server, engine: sa.Engine, revision: str) -> None:
    """Upgrade to a revision, fill every table, upgrade to head: every row survives."""
    deployment.flask("db", "upgrade", revision)
    written = insert_rows(engine)
    assert written, "no tables at this revision"
    deployment.flask("db", "upgrade")
    assert_rows_survived(engine, written)


def test_downgrade_to_base_with_data(deployment: Server, engine: sa.Engine) -> None:
    """From head with data in every table, `flask db downgrade base` removes the schema cleanly."""
    deployment.flask("db", "upgrade")
    insert_rows(engine)
    deployment.flask("db", "downgrade", "base")
    assert tables(engine) == set()
    deployment.flask("db", "upgrade")
    assert schema_diff(engine) == []


def test_attempts_from_before_quiz_versions_keep_their_review(deployment: Server, engine: sa.Engine) -> None:
    """An attempt stored before 5e8a1c4b7d20 (no quiz version, no option order, no limit) is, after the
    upgrade, still matched to its quiz by the file's hash, shown in the author's order, and counted."""
    from coaching.services import catalog, quizzes
    from tests.scale.helpers import app_for

    deployment.flask("db", "upgrade", "3c1f0a7d2b9e")
    app = app_for(deployment.database_url, deployment.root)
    with app.app_context():
        text = catalog.catalog().course("demo").lesson("headlines").texts["en"]
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO users (email, name, role, active, session_token, created_at) "
                             "VALUES ('old@example.com', 'Old', 'affiliate', true, 't', :now)"), {"now": STAMP})
        user_id = conn.execute(sa.text("SELECT id FROM users")).scalar_one()
        conn.execute(sa.text(
            "INSERT INTO quiz_attempts (user_id, submission_id, course_slug, lesson_slug, language, content_hash, "
            "answers, results, score, total, percent, passed, created_at) VALUES (:u, 'old-form-1', 'demo', "
            "'headlines', 'en', :h, '{}', '{}', 0, 3, 0, false, :now)"), {"u": user_id, "h": text.content_hash,
                                                                          "now": STAMP})
    deployment.flask("db", "upgrade")
    with app.app_context():
        from coaching.extensions import db
        from coaching.models import QuizAttempt

        attempt = db.session.scalar(sa.select(QuizAttempt))
        assert (attempt.quiz_version, attempt.option_orders, attempt.attempt_limit) == (None, None, None)
        lesson = catalog.catalog().course("demo").lesson("headlines")
        assert quizzes.graded_text(lesson, attempt) is not None
        question = next(q for q in text.quiz.questions if q.options)
        assert quizzes.ordered(question, (attempt.option_orders or {}).get(question.id)) == list(question.options)
        assert quizzes.quiz_standing(user_id, "demo", "headlines", 3).left == 2
        db.session.remove()
        db.engine.dispose()
