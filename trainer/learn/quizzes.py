"""Quizzes: option shuffles, the quiz form, reading and grading responses, and feedback."""

import hashlib
import hmac
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlmodel import Session, insert

from trainer.auth.models import User
from trainer.learn.certificates import issue_certificate
from trainer.learn.gift import Question
from trainer.learn.grading import public_view, score
from trainer.learn.loader import question_from_dict
from trainer.learn.models import CourseVersion, Enrolment, QuizAnswer, QuizAttempt
from trainer.learn.variants import original_of, translate_response
from trainer.util import utcnow

_question_cache: dict[tuple[int, str], list[Question]] = {}


def questions_of(version: CourseVersion) -> list[Question]:
    """Return the parsed questions of a version (versions never change, so cache them)."""
    key = (version.id, version.content_hash)
    if key not in _question_cache:
        _question_cache[key] = [question_from_dict(q) for q in version.questions]
    return _question_cache[key]


def quiz_seed(secret: str, user_id: int, version_id: int, attempt: int) -> str:
    """Return the seed that shuffles the options of one learner's attempt at a quiz.

    A keyed hash: stable while the learner fixes a form error or reloads the page, and
    unpredictable from outside. The attempt stores it (QuizAttempt.option_seed), so its
    result page shows the options in the order they were seen, whatever the key becomes.
    """
    return hmac.new(
        secret.encode(), f"{user_id}:{version_id}:{attempt}".encode(), hashlib.sha256
    ).hexdigest()[:32]


def shuffled_options(seed: str | None, question: int, count: int) -> list[int]:
    """Return the option indexes of question `question` in the order the seed shows them.

    The form sends back positions in this order, never the options' indexes in the file, so
    the page reveals nothing about which option is right. No seed: file order.
    """
    order = list(range(count))
    if seed is not None:
        random.Random(f"{seed}:{question}").shuffle(order)
    return order


def option_order(
    secret: str, user_id: int, version_id: int, attempt: int, question: int, count: int
) -> list[int]:
    """Return the order in which to show a question's options to one learner for one attempt."""
    return shuffled_options(quiz_seed(secret, user_id, version_id, attempt), question, count)


def option_orders(questions: list[Question], seed: str | None) -> dict[int, list[int]]:
    """Return the option order of every multiple-choice question of a quiz."""
    return {
        i: shuffled_options(seed, i, len(q.answers))
        for i, q in enumerate(questions)
        if q.type in ("mc", "multi")
    }


@dataclass
class QuizItem:
    """A question as the quiz form shows it: only what is safe before submission."""

    index: int
    type: str
    text: str
    text_format: str
    options: list[dict] = field(default_factory=list)  # {"value", "text", "format"}
    left: list[dict] = field(default_factory=list)  # matching items {"text", "format"}
    right: list[str] = field(default_factory=list)  # matching choices, shuffled


def quiz_items(questions: list[Question], orders: dict[int, list[int]]) -> list[QuizItem]:
    """Build the quiz form's view of the questions; `orders` gives each option order."""
    items = []
    for index, question in enumerate(questions):
        view = public_view(question)
        item = QuizItem(index, view["type"], view["text"], view["text_format"])
        if "options" in view:
            shown = [view["options"][i] for i in orders[index]]
            item.options = [
                {"value": str(pos), "text": o["text"], "format": o["format"]}
                for pos, o in enumerate(shown)
            ]
        if view["type"] == "matching":
            item.left, item.right = view["left"], view["right"]
        items.append(item)
    return items


def read_response(
    question: Question, index: int, order: list[int] | None, getlist: Callable[[str], list[str]]
) -> tuple[Any, str | None]:
    """Turn posted form values into a response for `score`; return (response, error).

    Question `index` posts under `q<index>` (matching items under `q<index>-m<item>`), and
    choices post their position in `order`, the order they were shown in.
    """
    kind = question.type
    values = getlist(f"q{index}")
    if kind in ("mc", "multi"):
        try:
            chosen = [order[int(v)] for v in values if 0 <= int(v) < len(order)]
        except ValueError:
            chosen = []
        if len(chosen) != len(values):
            return None, _("Choose from the answers shown.")
        if kind == "mc":
            return (chosen[0], None) if len(chosen) == 1 else (None, _("Choose one answer."))
        return (sorted(set(chosen)), None) if chosen else (None, _("Choose one or more answers."))
    if kind == "truefalse":
        if values in (["true"], ["false"]):
            return values[0] == "true", None
        return None, _("Choose true or false.")
    if kind in ("short", "numerical"):
        text = (values[0] if values else "").strip()[:200]
        return (text, None) if text else (None, _("Type your answer."))
    if kind == "matching":
        rights = {m.right for m in question.matches}
        response = {}
        for item, match in enumerate(m for m in question.matches if m.left):
            value = (getlist(f"q{index}-m{item}") or [""])[0]
            if value not in rights:
                return None, _("Match every item.")
            response[match.left] = value
        return response, None
    return None, None


def canonical_response(question: Question, response: Any) -> str:
    """Return a short text that is equal for equal answers (for counting in item analysis)."""
    if question.type == "multi":
        return ",".join(str(i) for i in sorted(response))
    if question.type == "truefalse":
        return "true" if response else "false"
    if question.type == "short":
        return " ".join(str(response).lower().split())[:500]
    if question.type == "matching":
        return json.dumps(sorted(response.items()), ensure_ascii=False)[:500]
    return str(response)[:500]


def describe_response(question: Question, canonical: str) -> str:
    """Return a canonical response in words: the option texts, True/False or the pairs."""
    if question.type in ("mc", "multi"):
        try:
            return "; ".join(question.answers[int(i)].text for i in canonical.split(",") if i)
        except (ValueError, IndexError):
            return canonical
    if question.type == "truefalse":
        return _("True") if canonical == "true" else _("False")
    if question.type == "matching":
        try:
            return "; ".join(f"{left} → {right}" for left, right in json.loads(canonical))
        except ValueError:
            return canonical
    return canonical


@dataclass
class Graded:
    score: float  # percent
    passed: bool
    fractions: dict[int, float]
    correct: dict[int, bool]


def grade(questions: list[Question], responses: dict[int, Any], pass_mark: int) -> Graded:
    """Score every scorable question; the score is the mean fraction, as a percent."""
    fractions, correct = {}, {}
    for index, question in enumerate(questions):
        if question.scorable:
            scored = score(question, responses.get(index))
            fractions[index], correct[index] = scored.fraction, scored.correct
    percent = round(100 * sum(fractions.values()) / len(fractions), 1) if fractions else 0.0
    return Graded(percent, percent >= pass_mark, fractions, correct)


def submit_quiz(
    *,
    session: Session,
    user: User,
    enrolment: Enrolment,
    version: CourseVersion,
    responses: dict[int, Any],
    option_seed: str | None = None,
    now: datetime | None = None,
) -> QuizAttempt:
    """Score an attempt on the server, store it, and keep the best result and certificate.

    `version` may be a language variant (variants.localized): the attempt is scored on the
    questions the learner read and stored in the original's terms."""
    now = now or utcnow()
    questions = questions_of(version)
    graded = grade(questions, responses, version.pass_mark)
    originals = questions_of(original_of(version))
    responses = {i: translate_response(questions[i], originals[i], r) for i, r in responses.items()}
    enrolment.attempts += 1
    attempt = QuizAttempt(
        enrolment_id=enrolment.id,
        user_id=user.id,
        version_id=version.id,
        number=enrolment.attempts,
        submitted_at=now,
        score=graded.score,
        passed=graded.passed,
        answers={str(i): r for i, r in responses.items()},
        option_seed=option_seed,
    )
    session.add(attempt)
    session.flush()
    answers = [
        {
            "attempt_id": attempt.id,
            "version_id": version.id,
            "question": i,
            "correct": graded.correct[i],
            "response": canonical_response(originals[i], responses.get(i)),
        }
        for i in graded.correct
    ]
    if answers:
        session.execute(insert(QuizAnswer), answers)  # one executemany, not an object each
    if enrolment.best_score is None or graded.score > enrolment.best_score:
        enrolment.best_score, enrolment.best_attempt_id = graded.score, attempt.id
    if graded.passed:
        if enrolment.completed_at is None:
            enrolment.completed_at = now
        issue_certificate(session=session, enrolment=enrolment, best=enrolment.best_score, now=now)
    session.add(enrolment)
    session.flush()
    return attempt


@dataclass
class FeedbackItem:
    index: int
    question: Question
    answer: str  # the learner's answer in words
    correct: bool
    fraction: float
    feedback: list[tuple[str, str]]  # (text, format)
    # Multiple choice: (text, format, chosen) in the order the attempt showed them.
    options: list[tuple[str, str, bool]] = field(default_factory=list)


def attempt_feedback(version: CourseVersion, attempt: QuizAttempt) -> list[FeedbackItem]:
    """Re-score a stored attempt to show feedback on each question (in `version`'s language)."""
    items = []
    questions = questions_of(version)
    originals = questions_of(original_of(version))
    orders = option_orders(questions, attempt.option_seed)
    for index, question in enumerate(questions):
        if not question.scorable:
            continue
        response = translate_response(originals[index], question, attempt.answers.get(str(index)))
        scored = score(question, response)
        answer = (
            describe_response(question, canonical_response(question, response))
            if response is not None
            else "(no answer)"
        )
        picked = response if isinstance(response, list) else [response]
        options = [
            (question.answers[i].text, question.answers[i].text_format, i in picked)
            for i in orders.get(index, [])
        ]
        items.append(
            FeedbackItem(
                index,
                question,
                answer,
                scored.correct,
                scored.fraction,
                list(zip(scored.feedback, scored.feedback_formats, strict=True)),
                options,
            )
        )
    return items
