"""The newer courses' quizzes keep to the issue-15 standard: no giveaway answers.

A learner should not be able to pass by picking the longest option or always answering
"false", and every option should explain itself. The older courses are being rewritten to the
same standard; add them to NEW_STANDARD as they are.
"""

from pathlib import Path

import pytest

import trainer
from trainer.learn.gift import parse_gift

COURSES = Path(trainer.__file__).parent / "courses"
NEW_STANDARD = ["customers-who-need-more", "rights-and-goodwill", "written-service"]


def quiz(course_id):
    result = parse_gift((COURSES / course_id / "quiz.gift").read_text(encoding="utf-8"))
    assert result.problems == []
    return result.questions


@pytest.mark.parametrize("course_id", NEW_STANDARD)
def test_the_key_is_rarely_the_longest_option(course_id):
    mc = [q for q in quiz(course_id) if q.type == "mc"]
    assert len(mc) >= 5
    # A tie counts against the key: it is still among the longest.
    key_longest = [q.title for q in mc
                   if max(len(a.text) for a in q.answers if a.fraction > 0)
                   >= max(len(a.text) for a in q.answers if a.fraction <= 0)]
    assert len(key_longest) / len(mc) <= 0.25, key_longest


@pytest.mark.parametrize("course_id", NEW_STANDARD)
def test_no_option_stands_out_by_length(course_id):
    for q in quiz(course_id):
        if q.type in ("mc", "multi"):
            lengths = sorted(len(a.text) for a in q.answers)
            assert lengths[-1] <= 2 * lengths[-2], q.title


@pytest.mark.parametrize("course_id", NEW_STANDARD)
def test_every_option_and_matching_question_explains_itself(course_id):
    questions = quiz(course_id)
    assert len(questions) >= 10
    for q in questions:
        assert all(a.feedback.strip() for a in q.answers), q.title
        if q.type == "matching":
            assert len(q.matches) >= 3 and q.general_feedback.strip(), q.title
        if q.type == "truefalse":
            assert q.truefalse.feedback_if_true and q.truefalse.feedback_if_false, q.title


@pytest.mark.parametrize("course_id", NEW_STANDARD)
def test_true_false_keys_are_mixed_and_each_type_is_used(course_id):
    questions = quiz(course_id)
    keys = {q.truefalse.correct for q in questions if q.type == "truefalse"}
    assert keys == {True, False}
    assert {"mc", "multi", "truefalse"} <= {q.type for q in questions}
