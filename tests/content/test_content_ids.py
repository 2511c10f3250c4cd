"""Question and option ids stay put: stored attempts and the question analysis point at them."""

from __future__ import annotations

import pytest

from coaching.content import id_normalize, load_catalog, normalize_text
from coaching.content.quiz import _digest
from tests.conftest import DEMO_CONTENT

# Ids of texts as the first release computed them (also pinned by tests/manage/conftest.py).
PINNED = [
    ("q-", "Which headline promises a concrete benefit?", "q-e317e503b1"),
    ("q-", "Which of these are paid channels? Choose all that apply.", "q-b0b9d5ef44"),
    ("q-", "What does CTR stand for?", "q-f07c287c20"),
    ("q-", "  what does   ctr STAND for?  ", "q-f07c287c20"),
    ("o-", "Save three hours a week on reporting", "o-208ee958"),
    ("o-", "Click here now", "o-95e03f68"),
    ("o-", "Search ads", "o-d7662aaa"),
    ("o-", "Organic search", "o-d58088c2"),
]


@pytest.mark.parametrize("prefix, text, expected", PINNED)
def test_ids_of_known_texts_never_change(prefix, text, expected):
    """The id of a known text is the one stored attempts carry."""
    assert _digest(prefix, text, 10 if prefix == "q-" else 8) == expected


@pytest.mark.parametrize("text, expected", [
    ("  Stra\u00dfe  GRO\u00df ", "strasse gross"),
    ("A\u0308rger", "\u00e4rger"),
    ("click-through rate", "click-through rate"),      # hyphens stay: ids are not forgiving
    ("\u201eAdvertising.\u201c", "\u201eadvertising.\u201c"),  # quotes and punctuation stay
    ("\uff21B", "\uff41b"),                             # NFC, not NFKC: full-width stays full-width
])
def test_id_normaliser_is_frozen(text, expected):
    """The id normaliser is NFC + case folding + whitespace, nothing more (the grading one may grow)."""
    assert id_normalize(text) == expected
    assert normalize_text is id_normalize


def test_demo_quiz_ids_through_the_loader():
    """Loading the demo course gives exactly the pinned ids."""
    quiz = load_catalog(DEMO_CONTENT).course("demo").lesson("headlines").texts["en"].quiz
    assert [q.id for q in quiz.questions] == ["q-e317e503b1", "q-b0b9d5ef44", "q-f07c287c20"]
    assert [o.id for o in quiz.questions[0].options] == ["o-95e03f68", "o-208ee958", "o-175a5329"]
