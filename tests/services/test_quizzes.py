"""The quiz and progress services without HTTP: exactly-once submissions, the resubmission window, attempts
left with grants, the result that counts, and completion issuing the certificate once."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from coaching.extensions import db
from coaching.models import Certificate, QuizAttempt, User
from coaching.services import catalog, progress, quizzes


@pytest.fixture
def ctx(app: Any, affiliate: Any, manager: Any) -> Any:
    """An app context with the demo course, its quiz lesson, the affiliate and the manager loaded."""
    with app.app_context():
        course = catalog.catalog().course("demo")
        lesson = course.lesson("headlines")
        text = lesson.texts[lesson.language]
        yield type("Ctx", (), {"course": course, "lesson": lesson, "text": text,
                               "user": db.session.get(User, affiliate.id),
                               "manager": db.session.get(User, manager.id)})


def answers(text: Any, *, right: bool) -> dict[str, list[str]]:
    """Answers to the demo quiz built from its key: all right, or all wrong."""
    given = {}
    for question in text.quiz.questions:
        if question.kind == "text":
            given[question.id] = [question.accepted[0] if right else "cost per click"]
        elif right:
            given[question.id] = list(question.correct_ids)
        else:
            given[question.id] = [next(o.id for o in question.options if not o.correct)]
    return given


def submit(ctx: Any, given: dict[str, list[str]], submission_id: str) -> tuple[QuizAttempt, bool]:
    """One submission through the service, committed like the view does."""
    attempt, created = quizzes.submit_quiz(ctx.user, ctx.course, ctx.lesson, ctx.text, given, submission_id, "en")
    db.session.commit()
    return attempt, created


def count(model: Any) -> int:
    """Rows of a table."""
    return db.session.scalar(db.select(db.func.count()).select_from(model))


def test_one_submission_id_stores_one_attempt(ctx):
    """The same form sent twice (a double click, a replay) returns the first attempt and stores nothing more."""
    first, created = submit(ctx, answers(ctx.text, right=False), "form-one-abcdef")
    again, created_again = submit(ctx, answers(ctx.text, right=True), "form-one-abcdef")
    assert created and not created_again and again.id == first.id and not again.passed
    assert count(QuizAttempt) == 1


def test_same_answers_again_right_away_are_the_same_attempt(ctx, monkeypatch):
    """The back button brings a new form id but the same ticks: within the window it is one attempt;
    after the window, or with other answers, it is a new one."""
    wrong = answers(ctx.text, right=False)
    first, _ = submit(ctx, wrong, "form-a-1234567")
    replay, created = submit(ctx, wrong, "form-b-1234567")
    assert replay.id == first.id and not created
    later = first.created_at + quizzes.REPLAY_WINDOW + timedelta(seconds=1)
    monkeypatch.setattr(quizzes, "utcnow", lambda: later)
    after_window, created = submit(ctx, wrong, "form-c-1234567")
    assert created and after_window.id != first.id
    assert count(QuizAttempt) == 2


def test_attempts_run_out_and_a_grant_gives_one_more(ctx):
    """max_attempts (3 in the demo) counts every attempt; a manager's grant adds exactly one."""
    for n in range(3):
        given = answers(ctx.text, right=False)
        given[next(q.id for q in ctx.text.quiz.questions if q.kind == "text")] = [f"wrong {n}"]
        submit(ctx, given, f"form-{n}-12345678")
    assert quizzes.quiz_standing(ctx.user.id, "demo", "headlines", 3).left == 0
    with pytest.raises(quizzes.AttemptRefused):
        quizzes.submit_quiz(ctx.user, ctx.course, ctx.lesson, ctx.text, answers(ctx.text, right=True),
                            "form-refused-123", "en")
    db.session.rollback()
    quizzes.grant_attempt(ctx.user.id, "demo", "headlines", ctx.manager)
    db.session.commit()
    assert quizzes.quiz_standing(ctx.user.id, "demo", "headlines", 3).left == 1
    attempt, _ = submit(ctx, answers(ctx.text, right=True), "form-granted-123")
    assert attempt.passed and quizzes.quiz_standing(ctx.user.id, "demo", "headlines", 3).left == 0


def test_the_best_result_prefers_a_pass_then_the_highest_score(ctx):
    """A pass counts over a later failure; among failures the highest score counts."""
    assert quizzes.quiz_standing(ctx.user.id, "demo", "headlines", None).best is None
    one_right = answers(ctx.text, right=False)
    single = next(q for q in ctx.text.quiz.questions if q.kind == "single")
    one_right[single.id] = list(single.correct_ids)
    submit(ctx, answers(ctx.text, right=False), "form-zero-123456")
    submit(ctx, one_right, "form-one-right-12")
    best = quizzes.quiz_standing(ctx.user.id, "demo", "headlines", None).best
    assert (best.percent, best.passed) == (33, False)
    submit(ctx, answers(ctx.text, right=True), "form-pass-123456")
    quizzes.grant_attempt(ctx.user.id, "demo", "headlines", ctx.manager)  # the demo quiz allows three
    submit(ctx, answers(ctx.text, right=False), "form-fail-after-1")
    best = quizzes.quiz_standing(ctx.user.id, "demo", "headlines", None).best
    assert (best.percent, best.passed) == (100, True)


def test_a_pass_completes_the_lesson_and_the_last_lesson_issues_one_certificate(ctx):
    """Passing the quiz completes its lesson; completing the course issues exactly one certificate, however
    often completion is recorded again."""
    welcome = ctx.course.lesson("welcome")
    assert progress.mark_complete(ctx.user, ctx.course, welcome, "hash", "en") is True
    assert progress.mark_complete(ctx.user, ctx.course, welcome, "hash", "en") is False
    db.session.commit()
    assert count(Certificate) == 0
    submit(ctx, answers(ctx.text, right=True), "form-pass-abcdef")
    status = progress.course_status(ctx.user.id, ctx.course)
    assert status.completed and status.percent == 100
    progress.mark_complete(ctx.user, ctx.course, ctx.lesson, ctx.text.content_hash, "de")
    db.session.commit()
    assert count(Certificate) == 1


def test_answers_that_were_not_shown_are_refused(ctx):
    """parse_answers refuses options of another question, repeated values and two values for one choice."""
    single = next(q for q in ctx.text.quiz.questions if q.kind == "single")
    multiple = next(q for q in ctx.text.quiz.questions if q.kind == "multiple")
    good = answers(ctx.text, right=True)
    for broken in ({**good, single.id: [multiple.options[0].id]}, {**good, multiple.id: [multiple.options[0].id] * 2},
                   {**good, single.id: [o.id for o in single.options[:2]]}):
        with pytest.raises(quizzes.AnswerError) as error:
            quizzes.parse_answers(ctx.text.quiz, broken)
        assert not error.value.missing
    with pytest.raises(quizzes.AnswerError) as error:
        quizzes.parse_answers(ctx.text.quiz, {single.id: list(single.correct_ids)})
    assert set(error.value.missing) == {q.id for q in ctx.text.quiz.questions} - {single.id}


def test_reset_lesson_forgets_the_completion_but_keeps_the_attempts(ctx):
    """A manager's reset removes the completion; the attempts stay as history."""
    submit(ctx, answers(ctx.text, right=True), "form-pass-zyxwvu")
    progress.reset_lesson(ctx.user.id, "demo", "headlines")
    db.session.commit()
    assert "headlines" not in progress.completed_slugs(ctx.user.id, "demo")
    assert count(QuizAttempt) == 1


def statements_of(call: Any) -> list[str]:
    """The SQL statements `call` sends."""
    from sqlalchemy import event

    seen: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        call()
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
    return seen


def test_the_person_is_locked_only_where_attempts_are_counted(ctx):
    """PostgreSQL: a quiz with max_attempts locks the person's row (count left, then insert, one at a time); a
    quiz without a limit takes no row lock (the unique submission id alone keeps it exactly once)."""
    import dataclasses

    limited = statements_of(lambda: submit(ctx, answers(ctx.text, right=False), "form-limited-abcdef"))
    unlimited_text = dataclasses.replace(ctx.text, quiz=dataclasses.replace(ctx.text.quiz, max_attempts=None))
    unlimited = statements_of(lambda: (quizzes.submit_quiz(ctx.user, ctx.course, ctx.lesson, unlimited_text,
                                                           answers(ctx.text, right=True), "form-free-abcdef",
                                                           "en"), db.session.commit()))
    postgres = db.engine.dialect.name == "postgresql"
    assert any("FOR UPDATE" in s for s in limited) == postgres
    assert not any("FOR UPDATE" in s for s in unlimited)
    assert not any("attempt_grants" in s for s in unlimited)  # nothing left to count without a limit
    assert count(QuizAttempt) == 2


def test_one_form_sent_from_many_threads_at_once_without_a_limit_is_one_attempt(app, affiliate):
    """A quiz without max_attempts takes no row lock: eight threads sending the same form at once still store
    one attempt, and every one of them answers with it (the unique submission id decides)."""
    import dataclasses
    import threading

    results: list[tuple[int, bool]] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def send() -> None:
        try:
            with app.app_context():
                course = catalog.catalog().course("demo")
                lesson = course.lesson("headlines")
                text = lesson.texts[lesson.language]
                free = dataclasses.replace(text, quiz=dataclasses.replace(text.quiz, max_attempts=None))
                user = db.session.get(User, affiliate.id)
                barrier.wait(timeout=10)
                attempt, created = quizzes.submit_quiz(user, course, lesson, free, answers(text, right=False),
                                                       "form-many-tabs-abcdef", "en")
                db.session.commit()
                results.append((attempt.id, created))
                db.session.remove()
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert len({attempt_id for attempt_id, _ in results}) == 1 and len(results) == 8
    assert sum(created for _, created in results) == 1
    with app.app_context():
        assert count(QuizAttempt) == 1
