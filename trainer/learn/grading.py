"""Score learners' answers to GIFT questions, and build the view of a question that is safe to
show before it is answered (no keys, no feedback)."""

import hashlib
import math
import random
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from trainer.learn.gift import EPSILON, Answer, Question, is_number
from trainer.util import translate as _


@dataclass
class Scored:
    """A graded response; feedback_formats[i] is the text format of feedback[i]."""

    fraction: float
    correct: bool
    feedback: list[str] = field(default_factory=list)
    feedback_formats: list[str] = field(default_factory=list)


def score(question: Question, response: Any) -> Scored:
    """Grade a response; raise ValueError for descriptions and essays.

    Responses: an answer index (mc), a list of indices (multi), a bool (truefalse), a string
    (short), a number or numeric string (numerical), a dict left -> right (matching). A
    response of the wrong shape scores 0 with feedback saying so.
    """
    if not question.scorable:
        raise ValueError(f"a {question.type} question cannot be scored automatically")
    grade = {
        "mc": _score_mc,
        "multi": _score_multi,
        "truefalse": _score_truefalse,
        "short": _score_short,
        "numerical": _score_numerical,
        "matching": _score_matching,
    }[question.type]
    scored = grade(question, response)
    if question.general_feedback:
        scored.feedback.append(question.general_feedback)
        scored.feedback_formats.append(question.general_feedback_format)
    return scored


def _score_mc(question: Question, response: Any) -> Scored:
    if not _is_index(response, question.answers):
        return _invalid(_("Choose one of the answers."))
    return _graded(question.answers[response].fraction, [question.answers[response]])


def _score_multi(question: Question, response: Any) -> Scored:
    if not isinstance(response, list | tuple | set | frozenset) or not all(
        _is_index(i, question.answers) for i in response
    ):
        return _invalid(_("Choose one or more of the answers."))
    chosen = [question.answers[i] for i in sorted(set(response))]
    return _graded(sum(a.fraction for a in chosen), chosen)


def _score_truefalse(question: Question, response: Any) -> Scored:
    if not isinstance(response, bool):
        return _invalid(_("Choose true or false."))
    tf = question.truefalse
    feedback, feedback_format = (
        (tf.feedback_if_true, tf.feedback_if_true_format)
        if response
        else (tf.feedback_if_false, tf.feedback_if_false_format)
    )
    scored = _graded(1.0 if response == tf.correct else 0.0, [])
    if feedback:
        scored.feedback.append(feedback)
        scored.feedback_formats.append(feedback_format)
    return scored


def _score_short(question: Question, response: Any) -> Scored:
    if not isinstance(response, str) or not response.strip():
        return _invalid(_("Type an answer."))
    for answer in question.answers:
        if _wildcard_match(response, answer.text):
            return _graded(answer.fraction, [answer])
    return _graded(0.0, [])


def _score_numerical(question: Question, response: Any) -> Scored:
    number = _to_number(response)
    if number is None:
        return _invalid(_("%(answer)s is not a number.", answer=repr(str(response).strip())))
    for answer in question.answers:
        if answer.value is None or abs(number - answer.value) <= (
            answer.tolerance + EPSILON * max(1.0, abs(answer.value))
        ):
            return _graded(answer.fraction, [answer])
    return _graded(0.0, [])


def _score_matching(question: Question, response: Any) -> Scored:
    if not isinstance(response, dict):
        return _invalid(_("Match every item."))
    pairs = [m for m in question.matches if m.left]
    right = sum(1 for m in pairs if response.get(m.left) == m.right)
    return _graded(right / len(pairs), [])


def _graded(fraction: float, chosen: list[Answer]) -> Scored:
    fraction = min(max(fraction, 0.0), 1.0)
    if fraction >= 1 - EPSILON:
        fraction = 1.0
    scored = Scored(fraction, fraction == 1.0)
    for answer in chosen:
        if answer.feedback:
            scored.feedback.append(answer.feedback)
            scored.feedback_formats.append(answer.feedback_format)
    return scored


def _invalid(message: str) -> Scored:
    return Scored(0.0, False, [message], ["plain"])


def _is_index(value: Any, answers: list[Answer]) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(answers)


def _to_number(response: Any) -> float | None:
    if isinstance(response, bool):
        return None
    if isinstance(response, int | float):
        return float(response) if math.isfinite(response) else None
    if isinstance(response, str) and is_number(response.strip()):
        return float(response.strip())
    return None


def _wildcard_match(response: str, pattern: str) -> bool:
    """Compare like Moodle's short answer: case-insensitive, `*` matches anything."""
    response = unicodedata.normalize("NFC", response).strip()
    pattern = unicodedata.normalize("NFC", pattern)
    bits = re.split(r"(?<!\\)\*+", pattern)
    regex = ".*".join(re.escape(bit.replace("\\*", "*")) for bit in bits)
    return re.fullmatch(regex, response, re.IGNORECASE | re.DOTALL) is not None


def public_view(question: Question) -> dict:
    """Return what a learner may see before answering: no fractions, keys or feedback.

    The title is left out too: in Moodle it is the author's name for the question.
    """
    view: dict[str, Any] = {
        "type": question.type,
        "text": question.text,
        "text_format": question.text_format,
        "missing_word": question.missing_word,
    }
    if question.type in ("mc", "multi"):
        view["options"] = [
            {"index": i, "text": a.text, "format": a.text_format}
            for i, a in enumerate(question.answers)
        ]
    elif question.type == "matching":
        view["left"] = [
            {"text": m.left, "format": m.left_format} for m in question.matches if m.left
        ]
        view["right"] = _shuffled_rights(question)
    return view


def _shuffled_rights(question: Question) -> list[str]:
    """Shuffle the right items the same way every time, never in the answer order."""
    in_order = list(dict.fromkeys(m.right for m in question.matches))
    seed_text = "\n".join([question.text, *(f"{m.left}\t{m.right}" for m in question.matches)])
    shuffled = in_order[:]
    random.Random(hashlib.sha256(seed_text.encode()).hexdigest()).shuffle(shuffled)
    if shuffled == in_order and len(shuffled) > 1:
        shuffled = shuffled[1:] + shuffled[:1]
    return shuffled
