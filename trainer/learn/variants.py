"""A course version in the learner's language: its variant if the course has one, else itself.

A variant has the same lessons and the same quiz structure as the original (the content check
makes sure), so progress, scores and certificates belong to the course whatever language it
was taken in. Answers are stored in the original's terms, so they count together.
"""

from typing import Any

from trainer.learn.gift import Question
from trainer.learn.models import CourseVersion


class LocalVersion:
    """A course version read in another language; everything else is the version's own."""

    def __init__(self, version: CourseVersion, language: str):
        variant = version.variants[language]
        self.original, self.language = version, language
        self.title, self.summary = variant["title"], variant["summary"]
        self.lessons = variant["lessons"]
        self.questions = variant["questions"] or version.questions
        # Caches of parsed questions and rendered lessons are keyed by the content hash.
        self.content_hash = f"{version.content_hash}:{language}"

    def __getattr__(self, name: str) -> Any:
        return getattr(self.original, name)


def localized(version: CourseVersion, language: str) -> CourseVersion | LocalVersion:
    """Return `version` as a learner of `language` reads it."""
    if language in (version.variants or {}):
        return LocalVersion(version, language)
    return version


def original_of(version: CourseVersion | LocalVersion) -> CourseVersion:
    return getattr(version, "original", version)


def translate_response(source: Question, target: Question, response: Any) -> Any:
    """Carry an answer from one language's question to another's.

    Choices and true/false are positions, the same in every language; a matching answer names
    the texts of its pairs, so each text is swapped for the one at the same position."""
    if source.type != "matching" or not isinstance(response, dict) or source is target:
        return response
    lefts = {m.left: target.matches[i].left for i, m in enumerate(source.matches) if m.left}
    rights = {}
    for i, match in enumerate(source.matches):
        rights.setdefault(match.right, target.matches[i].right)
    return {lefts.get(left, left): rights.get(right, right) for left, right in response.items()}
