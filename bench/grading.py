"""Grading a 10-question quiz in-process: microseconds per submission (choices, text and numbers mixed)."""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

from coaching.content import grade, load_catalog

COURSE = "---\ntitle: Grading\nsummary: Timing.\norder: 1\n---\nA course to time grading.\n"
QUESTIONS = [
    "1. Which headline names a benefit?\n   - [ ] Click now\n   - [x] Save three hours a week\n   - [ ] Great tool\n",
    "2. Which are paid channels?\n   - [x] Search ads\n   - [ ] Organic search\n   - [x] Sponsored mail\n   - [ ] Own blog\n",
    "3. What does CTR stand for?\n   - [=] click-through rate\n   - [=] click through rate\n",
    "4. A partner earned 45 EUR from 300 clicks. What is the EPC?\n   - [=] 0.15 ± 0.005 EUR\n",
    "5. What share of 2,000 visitors is 50 buyers?\n   - [=] 2.5 %\n",
    "6. Which clause protects the advertiser's brand?\n   - [ ] Cookie lifetime\n   - [x] No brand bidding\n"
    "   - [ ] Payment terms\n",
    "7. Which figures come from the program's report?\n   - [x] Clicks\n   - [x] Sales\n   - [ ] Your rent\n"
    "   - [ ] Your mood\n",
    "8. How many days does a 30-day cookie last?\n   - [=] 30\n",
    "9. Which label is clear?\n   - [ ] #sp\n   - [x] Advertising\n   - [ ] collab\n",
    "10. Which are validation reasons?\n   - [x] Returns\n   - [x] Fraud\n   - [ ] Weather\n",
]


def grading_microseconds(rounds: int = 2000) -> float:
    """The mean over many rounds (a right, a typed-number and a wrong submission each), in µs per submission."""
    with tempfile.TemporaryDirectory(prefix="coaching-grade.") as tmp:
        course = Path(tmp) / "grading"
        course.mkdir()
        (course / "course.md").write_text(COURSE, encoding="utf-8")
        lesson = "---\ntitle: Quiz\nsummary: Timing.\nminutes: 1\n---\nText.\n\n## Quiz\n\n" + "\n".join(QUESTIONS)
        (course / "01-quiz.md").write_text(lesson, encoding="utf-8")
        catalog = load_catalog(Path(tmp))
    quiz = catalog.course("grading").lesson("quiz").texts["en"].quiz
    assert quiz is not None and len(quiz.questions) == 10, catalog.errors
    right = {q.id: list(q.correct_ids) if q.kind != "text" else [q.accepted[0].split("±")[0].strip()]
             for q in quiz.questions}
    typed = {q.id: list(q.correct_ids) if q.kind != "text" else ["€0,15"] for q in quiz.questions}
    wrong = {q.id: [q.options[-1].id] if q.kind != "text" else ["nothing"] for q in quiz.questions}
    assert grade(quiz, right).percent == 100
    began = time.perf_counter()
    for _ in range(rounds):
        grade(quiz, right, "en")
        grade(quiz, typed, "de")
        grade(quiz, wrong, "en")
    return (time.perf_counter() - began) / (3 * rounds) * 1e6
