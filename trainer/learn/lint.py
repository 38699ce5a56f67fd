"""Warn about the tells of weak training in a course: quizzes that give their answers away,
and figures in lessons that name no source.

Pure: no Flask, no database. Each warning is a `Problem`, so it prints as `file:line: message`.
`flask content check` prints them; with `--strict` they count as errors. The rules are
documented in courses/README.md ("What the lint warns about").
"""

import re

from trainer.learn.gift import Problem, Question
from trainer.learn.loader import Lesson, LoadedCourse, variant_name

LONGEST_KEY_LIMIT = 0.4  # share of multiple-choice questions whose key may be the longest option
LONG_OPTION_FACTOR = 2  # an option more than this many times as long as every other stands out

# --- what counts as a figure in a lesson
_NUMBER = r"\d+(?:[.,]\d+)*"
_SMALL = r"(?:one|two|three|four|five|six|seven|eight|nine|ten)"
_PEOPLE = (
    r"(?:respondents|people|customers|clients|employees|staff|workers|managers|firms|"
    r"companies|businesses|organi[sz]ations|units|participants|volunteers|studies|"
    r"surveys|consumers|adults|passengers|drivers|buyers|shoppers|patients|callers)"
)
FIGURES = (
    (
        "percentage",
        re.compile(
            rf"{_NUMBER}\s?(?:%|per\s?cent\b|percent\b|percentage points?\b)", re.IGNORECASE
        ),
    ),
    (
        "amount of money",
        re.compile(
            rf"[€$£]\s?{_NUMBER}|\b{_NUMBER}\s?(?:€|(?:euros?|dollars?|pounds?|EUR|USD|GBP)\b)"
        ),
    ),
    (
        "proportion",
        re.compile(
            rf"\b(?:{_NUMBER}|{_SMALL})\s+(?:in|out of)\s+"
            rf"(?:{_NUMBER}|{_SMALL}|twenty|a hundred)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "multiple",
        re.compile(
            rf"\b(?:{_NUMBER}|{_SMALL})\s?(?:x|times)\s+(?:more|less|fewer|as|higher|lower|"
            rf"greater|likelier)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "count",
        re.compile(
            rf"\bn\s?=\s?{_NUMBER}|\b(?:\d{{1,3}}(?:,\d{{3}})+|\d{{3,}})\s+(?:[a-z-]+\s+)?{_PEOPLE}\b",
            re.IGNORECASE,
        ),
    ),
)
MONEY = "amount of money"
# A made-up amount is fine in a story: when its line says that it is an example, or when it
# is what someone says (inside quotation marks) or writes (a quoted message, a "> " line).
EXAMPLE = re.compile(
    r"\b(?:for example|for instance|e\.g\.|example|illustration|imagine|"
    r"hypothetical)",
    re.IGNORECASE,
)

# --- what counts as a source on the same line
URL = re.compile(r"https?://\S+")
_NOT_AUTHORS = (
    "In",
    "Since",
    "By",
    "From",
    "Until",
    "Before",
    "After",
    "During",
    "The",
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
AUTHOR_YEAR = re.compile(
    rf"\b(?!(?:{'|'.join(_NOT_AUTHORS)})\b)[A-Z][\w’'-]+\*?(?:\s+et al\.?)?,?\s+\(?"
    r"(?:19|20)\d\d[a-z]?\b"
)
STATUTE = re.compile(
    r"\b(?:Act|Regulation|Directive|Article|Section)\s+(?:\((?:EU|EC|EEC)\)\s+)?"
    r"(?:No\.?\s+)?\d"
)
FOOTNOTE_REF = re.compile(r"\[\^([^\]\s]+)\](?!:)")
FOOTNOTE_DEF = re.compile(r"^\[\^([^\]\s]+)\]:\s?(.*)$")
FENCE = re.compile(r"^\s*(?:```|~~~)")


def lint_course(course: LoadedCourse, prefix: str) -> list[Problem]:
    """Return the warnings for one loaded course; `prefix` is its folder as shown in messages."""
    warnings = []
    for lesson in course.lessons:
        warnings += lint_lesson(lesson, f"{prefix}/{lesson.file}")
    if course.quiz_file:
        warnings += lint_quiz(course.questions, f"{prefix}/{course.quiz_file}")
        for language, variant in course.variants.items():
            name = variant_name(course.quiz_file, language)
            warnings += lint_quiz(variant.questions, f"{prefix}/{name}")
    return warnings


# --------------------------------------------------------------------------- quizzes


def lint_quiz(questions: list[Question], file: str) -> list[Problem]:
    """Warn about a quiz whose answers can be guessed from the options' form alone."""
    warnings = []
    single = [q for q in questions if q.type == "mc" and _key(q) is not None]
    longest = [q for q in single if _key_is_longest(q)]
    if single and len(longest) / len(single) > LONGEST_KEY_LIMIT:
        lines = ", ".join(str(q.line) for q in longest)
        warnings.append(
            Problem(
                file,
                longest[0].line,
                (
                    f"the right answer is the longest option in {len(longest)} of {len(single)} "
                    f"multiple-choice questions ({len(longest) / len(single):.0%}; keep it to "
                    f"{LONGEST_KEY_LIMIT:.0%} or less): a learner can pass by picking the longest "
                    f"option. Make the options similar in length (questions at lines {lines})"
                ),
            )
        )

    keyed = [q for q in questions if q.type == "truefalse" and q.truefalse]
    if len(keyed) >= 2 and len({q.truefalse.correct for q in keyed}) == 1:
        answer = "TRUE" if keyed[0].truefalse.correct else "FALSE"
        warnings.append(
            Problem(
                file,
                keyed[0].line,
                (
                    f"all {len(keyed)} true/false questions are keyed {answer}: a learner can pass "
                    "them by always answering the same. Mix true and false statements"
                ),
            )
        )

    for question in questions:
        if question.type in ("mc", "multi"):
            long = _standout_option(question)
            if long:
                warnings.append(
                    Problem(
                        file,
                        question.line,
                        (
                            f"the option {_short(long)!r} is more than {LONG_OPTION_FACTOR} "
                            "times as long as every other option: it stands out. Make the options "
                            "similar in "
                            "length and move the explanation into the feedback"
                        ),
                    )
                )
        if question.type == "matching" and not question.general_feedback.strip():
            warnings.append(
                Problem(
                    file,
                    question.line,
                    (
                        "this matching question has no feedback: add general feedback after '####' "
                        "that says why each pair belongs together"
                    ),
                )
            )
    return warnings


def _key(question: Question):
    keys = [a for a in question.answers if a.fraction >= 1]
    return keys[0] if len(keys) == 1 else None


def _key_is_longest(question: Question) -> bool:
    key = _key(question)
    others = [len(a.text.strip()) for a in question.answers if a is not key]
    return bool(others) and len(key.text.strip()) > max(others)


def _standout_option(question: Question) -> str | None:
    lengths = [len(a.text.strip()) for a in question.answers]
    for index, answer in enumerate(question.answers):
        others = lengths[:index] + lengths[index + 1 :]
        if others and lengths[index] > LONG_OPTION_FACTOR * max(others):
            return answer.text.strip()
    return None


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# --------------------------------------------------------------------------- lessons


def lint_lesson(lesson: Lesson, file: str) -> list[Problem]:
    """Warn about each line of a lesson that quotes a figure without naming its source."""
    lines = lesson.markdown.splitlines()
    footnotes, warnings = _footnotes(lines, lesson.first_line, file)
    in_code = False
    for offset, line in enumerate(lines):
        number = lesson.first_line + offset
        if FENCE.match(line):
            in_code = not in_code
        if in_code or FENCE.match(line) or _has_source(line):
            continue
        refs = FOOTNOTE_REF.findall(line)
        if refs:
            warnings += [
                Problem(
                    file,
                    number,
                    f"footnote [^{ref}] is never defined: add a "
                    f"line '[^{ref}]: author, year, https://…'",
                )
                for ref in refs
                if ref not in footnotes
            ]
            if any(footnotes.get(ref) for ref in refs):
                continue
        figure = _unsourced_figure(line)
        if figure:
            kind, text = figure
            warnings.append(
                Problem(
                    file,
                    number,
                    (
                        f"the {kind} '{text}' names no source on its line: add the author and "
                        "year, "
                        "an https:// address or a footnote [^1] with the source"
                        + (", or say that the amount is an example" if kind == MONEY else "")
                    ),
                )
            )
    return warnings


def _footnotes(lines: list[str], first_line: int, file: str) -> tuple[dict, list[Problem]]:
    """Return {label: True if the footnote names a source} and a warning for each that doesn't."""
    footnotes, warnings = {}, []
    for offset, line in enumerate(lines):
        match = FOOTNOTE_DEF.match(line)
        if not match:
            continue
        text = match.group(2)
        for more in lines[offset + 1 :]:
            if not more.startswith(("    ", "\t")):
                break
            text += " " + more.strip()
        footnotes[match.group(1)] = _has_source(text)
        if not footnotes[match.group(1)]:
            warnings.append(
                Problem(
                    file,
                    first_line + offset,
                    (
                        f"footnote [^{match.group(1)}] names no source: give the author and year, "
                        "the publication or an https:// address"
                    ),
                )
            )
    return footnotes, warnings


def _has_source(text: str) -> bool:
    return bool(URL.search(text) or AUTHOR_YEAR.search(text) or STATUTE.search(text))


def _quoted(line: str, position: int) -> bool:
    """Whether `position` lies inside a quotation ("…" or “…”) on the line."""
    before = line[:position]
    return before.count('"') % 2 == 1 or before.count("“") > before.count("”")


def _unsourced_figure(line: str) -> tuple[str, str] | None:
    """Return (kind, text) of the first figure on a line, or None."""
    found = []
    for kind, pattern in FIGURES:
        if kind == MONEY and (EXAMPLE.search(line) or line.lstrip().startswith(">")):
            continue
        match = next(
            (m for m in pattern.finditer(line) if kind != MONEY or not _quoted(line, m.start())),
            None,
        )
        if match:
            found.append((match.start(), kind, match.group().strip()))
    if not found:
        return None
    _, kind, text = min(found)
    return kind, text
