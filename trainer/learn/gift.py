"""Parse Moodle GIFT quiz files into questions (scoring and the safe view: grading.py).

Moodle's importer (question/format/gift/format.php, class qformat_gift) is the reference.
Constructs that Moodle would reject, or would import in a way the author almost certainly did
not mean, are reported as problems instead of being dropped silently; a question with a
problem is left out of the result.
"""

import re
from dataclasses import dataclass, field
from typing import NamedTuple

from trainer.content_rules import LINE_BREAK, MAX_ANSWERS

FORMATS = ("moodle", "html", "plain", "markdown")
QUESTION_TYPES = (
    "description",
    "essay",
    "mc",
    "multi",
    "truefalse",
    "short",
    "numerical",
    "matching",
)
SCORABLE_TYPES = ("mc", "multi", "truefalse", "short", "numerical", "matching")
BLANK = "_____"

# Escaped control characters are swapped for private-use characters while parsing, so that
# they never act as syntax, and swapped back when a text is finally read (as Moodle does).
# A backslash is not syntax, so "\\" can become a plain backslash straight away.
_PLACEHOLDERS = {
    "\\": "\\",
    ":": "\ue000",
    "#": "\ue001",
    "=": "\ue002",
    "{": "\ue003",
    "}": "\ue004",
    "~": "\ue005",
    "n": "\ue006",
}
_RESTORE = str.maketrans(
    {
        "\ue000": ":",
        "\ue001": "#",
        "\ue002": "=",
        "\ue003": "{",
        "\ue004": "}",
        "\ue005": "~",
        "\ue006": "\n",
    }
)
_ESCAPE = re.compile(r"\\([:#={}~n\\])")
_FORMAT_PREFIX = re.compile(r"\[([^\]]*)\]")
_WEIGHT = re.compile(r"%(-?\d+(?:\.\d+)?)%")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_CLOZE = re.compile(r"\{\s*\d*\s*:\s*[A-Z_]+\s*:")
_ID_MARKER = re.compile(r"\[id:([^\]]*)\]")
_TAG_MARKER = re.compile(r"\[tag:([^\]]*)\]")
EPSILON = 1e-6


@dataclass
class Problem:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass
class Answer:
    """One choice or accepted answer; numerical answers also carry value and tolerance.

    A numerical catch-all (`~#feedback`, or the answer `*`) has value None.
    """

    text: str
    fraction: float
    feedback: str = ""
    text_format: str = "moodle"
    feedback_format: str = "moodle"
    value: float | None = None
    tolerance: float | None = None


@dataclass
class TrueFalse:
    correct: bool
    feedback_if_true: str = ""
    feedback_if_false: str = ""
    feedback_if_true_format: str = "moodle"
    feedback_if_false_format: str = "moodle"


class Match(NamedTuple):
    """One matching pair; a pair with an empty left is an extra (distractor) right item."""

    left: str
    right: str
    left_format: str = "moodle"


@dataclass
class Question:
    """One question; `line` is its first non-comment line, counted from 1."""

    type: str
    text: str
    text_format: str = "moodle"
    title: str | None = None
    category: str | None = None
    line: int = 0
    answers: list[Answer] = field(default_factory=list)
    matches: list[Match] = field(default_factory=list)
    general_feedback: str = ""
    general_feedback_format: str = "moodle"
    truefalse: TrueFalse | None = None
    missing_word: bool = False
    id: str | None = None
    tags: list[str] = field(default_factory=list)

    @property
    def scorable(self) -> bool:
        return self.type in SCORABLE_TYPES


@dataclass
class GiftResult:
    questions: list[Question] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


class _Block(NamedTuple):
    line: int
    text: str
    comments: list[str]
    lines: list[int]  # the file line of each line of text


class _Issues(list):
    """The problems of one block, as (line in the file, message).

    `at` is a character index in the block's text, so a problem is reported on the line of
    the piece it is about, not on the first line of the question.
    """

    def __init__(self, block: _Block, text: str):
        super().__init__()
        self.lines, self.text = block.lines, text

    def add(self, message: str, at: int = 0) -> None:
        self.append((self.lines[self.text.count("\n", 0, at)], message))


# ---------------------------------------------------------------------------------- parsing


def parse_gift(text: str, filename: str = "<gift>") -> GiftResult:
    """Parse GIFT text into questions, category switches and problems."""
    result = GiftResult()
    category = None
    for block in _split_blocks(text):
        # Swapping "\:" for one character keeps every line break in place, so indexes in
        # `body` still give the right line.
        body = _ESCAPE.sub(lambda m: _PLACEHOLDERS[m.group(1)], block.text)
        issues = _Issues(block, body)
        if body.startswith("$CATEGORY:"):
            new_category = _read_category(body, issues)
            if new_category:
                category = new_category
                result.categories.append(category)
        else:
            question = _read_question(body, issues)
            question.line = block.line
            question.category = category
            _read_markers(block.comments, question, issues)
            if not issues:
                result.questions.append(question)
        result.problems += [Problem(filename, line, message) for line, message in issues]
    return result


def _split_blocks(text: str) -> list[_Block]:
    """Split text into blank-line separated blocks of trimmed lines, comments set apart.

    Only \n, \r\n and \r end a line, as in Moodle: U+2028 or a vertical tab does not.
    """
    blocks = []
    lines, numbers, comments = [], [], []
    for number, raw in enumerate([*LINE_BREAK.split(text.removeprefix("\ufeff")), ""], start=1):
        line = raw.strip()
        if line.startswith("//"):
            comments.append(line)
        elif line:
            lines.append(line)
            numbers.append(number)
        else:
            if lines:
                blocks.append(_Block(numbers[0], "\n".join(lines), comments, numbers))
            lines, numbers, comments = [], [], []
    return blocks


def _read_category(body: str, issues: _Issues) -> str:
    first, _, rest = body.partition("\n")
    category = _restore(first.removeprefix("$CATEGORY:")).strip()
    if not category:
        issues.add("$CATEGORY: needs a category path")
    if rest.strip():
        issues.add(
            "put a blank line after the $CATEGORY: line "
            "(Moodle would read the following lines as part of the category name)",
            len(first) + 1,
        )
    return category


def _read_markers(comments: list[str], question: Question, issues: _Issues) -> None:
    ids = [m.strip() for line in comments for m in _ID_MARKER.findall(line)]
    question.tags = [m.strip() for line in comments for m in _TAG_MARKER.findall(line)]
    if len(ids) > 1:
        issues.add(f"a question can have only one [id:…], found {len(ids)}")
    question.id = ids[0] if ids else None


def _read_question(body: str, issues: _Issues) -> Question:
    title, head = None, 0
    if body.startswith("::"):
        end = body.find("::", 2)
        if end == -1:
            head = 2  # Moodle keeps the text and names the question after it.
        else:
            title = _restore(body[2:end]).strip() or None
            head = end + 2

    question = Question(type="description", text="", title=title)
    start, finish = body.find("{", head), body.find("}", head)
    cloze = _CLOZE.search(body, head)
    if cloze:
        issues.add("embedded (Cloze) answers such as {1:MULTICHOICE:…} are not GIFT", cloze.start())
        return question
    if start == -1 and finish == -1:
        answer_block, stem = None, body[head:]
    elif start == -1 or finish == -1:
        if finish == -1:
            issues.add("unclosed '{'", start)
        else:
            issues.add("'}' without an opening '{'", finish)
        return question
    elif finish < start:
        issues.add("'}' before the opening '{'", finish)
        return question
    else:
        extra = _first_of(body, "{}", finish + 1)
        extra = _first_of(body[:finish], "{", start + 1) if extra is None else extra
        if extra is not None:
            issues.add("more than one answer block; write a literal brace as \\{ or \\}", extra)
        inside = body[start + 1 : finish]
        answer_block = inside.strip()
        base = start + 1 + len(inside) - len(inside.lstrip())
        question.missing_word = not body.endswith("}")
        stem = body[head:start] + (BLANK if question.missing_word else "") + body[finish + 1 :]

    question.text, question.text_format = _rich(stem, "moodle", issues, head)
    if not question.text:
        issues.add("question has no text", head)
    if answer_block is None:
        return question

    feedback_at = answer_block.rfind("####")
    if feedback_at != -1:
        question.general_feedback, question.general_feedback_format = _rich(
            answer_block[feedback_at + 4 :], question.text_format, issues, base + feedback_at
        )
        answer_block = answer_block[:feedback_at].rstrip()

    question.type = _detect_type(answer_block)
    if question.type != "essay":
        _ANSWER_READERS[question.type](question, answer_block, base, issues)
    return question


def _first_of(text: str, chars: str, start: int) -> int | None:
    found = [i for i in (text.find(char, start) for char in chars) if i != -1]
    return min(found) if found else None


def _pieces(block: str, marks: str, base: int) -> list[tuple[int, str, str]]:
    """Cut `block` before each character of `marks`: (index in the body, mark, text after it).

    The first piece has the mark "" and holds the text before any mark.
    """
    cuts = [match.start() for match in re.finditer(f"[{re.escape(marks)}]", block)]
    ends = [*cuts, len(block)]
    pieces = [(base, "", block[: ends[0]])]
    pieces += [
        (base + cut, block[cut], block[cut + 1 : end])
        for cut, end in zip(cuts, ends[1:], strict=True)
    ]
    return pieces


def _too_many(pieces: list, issues: _Issues) -> bool:
    """Report a question with more than MAX_ANSWERS answers, at the first one too many."""
    if len(pieces) - 1 <= MAX_ANSWERS:
        return False
    issues.add(
        f"a question may have at most {MAX_ANSWERS} answers; this is answer {MAX_ANSWERS + 1}",
        pieces[MAX_ANSWERS + 1][0],
    )
    return True


def _detect_type(answer_block: str) -> str:
    """Detect the question type from its answer block, in Moodle's order."""
    if not answer_block:
        return "essay"
    if answer_block.startswith("#"):
        return "numerical"
    if "~" in answer_block:
        return "mc"
    if "=" in answer_block and "->" in answer_block:
        return "matching"
    if answer_block.split("#", 1)[0].strip() in ("T", "TRUE", "F", "FALSE"):
        return "truefalse"
    return "short"


def _read_choices(question: Question, block: str, base: int, issues: _Issues) -> None:
    if "=" not in block:
        question.type = "multi"
    pieces = _pieces(block, "~=", base)
    if _too_many(pieces, issues):
        return
    at, _, before = pieces[0]
    if before.strip():
        issues.add(f"text before the first ~ or = in the answers: {_restore(before.strip())!r}", at)
    seen = []
    for at, mark, part in pieces[1:]:
        part = part.strip()
        if mark == "=":
            fraction = 1.0
            if _WEIGHT.match(part):
                issues.add(
                    f"'=' already means 100%; write a weighted answer as ~{_restore(part)}", at
                )
        else:
            fraction, part = _read_weight(part, 0.0, issues, at)
        if _add_answer(question, part, fraction, issues, at):
            seen.append((at, question.answers[-1].text))
    _report_duplicates("answer", seen, issues)
    if len(question.answers) < 2:
        issues.add("a multiple-choice question needs at least 2 answers", base)
    elif question.type == "multi":
        total = sum(a.fraction for a in question.answers if a.fraction > 0)
        if round(total, 2) != 1:
            issues.add(
                f"the weights of the right answers add up to {total * 100:g}%, not 100%", base
            )


def _read_short(question: Question, block: str, base: int, issues: _Issues) -> None:
    pieces = _pieces(block, "=", base)
    if _too_many(pieces, issues):
        return
    if not pieces[0][2].strip():
        pieces = pieces[1:]
    for at, _, part in pieces:
        fraction, part = _read_weight(part.strip(), 1.0, issues, at)
        _add_answer(question, part, fraction, issues, at)
    if not question.answers:
        issues.add("a short-answer question needs at least 1 answer", base)
    else:
        _require_full_marks(question, issues, base)


def _read_numerical(question: Question, block: str, base: int, issues: _Issues) -> None:
    block, tilde, other = block[1:].partition("~")
    pieces = _pieces(block, "=", base + 1)
    if _too_many(pieces, issues):
        return
    if not pieces[0][2].strip():
        pieces = pieces[1:]
    for at, _, part in pieces:
        fraction, part = _read_weight(part.strip(), 1.0, issues, at)
        if _add_answer(question, part, fraction, issues, at):
            _read_number(question.answers[-1], issues, at)
    if not question.answers:
        issues.add("a numerical question needs at least 1 answer", base)
        return
    _require_full_marks(question, issues, base)
    if tilde:  # Everything after the first ~ is feedback for any other answer.
        at = base + 1 + len(block)
        _, (feedback, feedback_format) = _split_feedback(other, question.text_format, issues, at)
        question.answers.append(Answer("*", 0.0, feedback, question.text_format, feedback_format))


def _read_number(answer: Answer, issues: _Issues, at: int) -> None:
    """Set value and tolerance from `value`, `value:tolerance`, `low..high` or `*`."""
    text = answer.text
    if text == "*":
        return
    if text.find("..") > 0:
        low, high = (s.strip() for s in text.split("..", 1))
        if is_number(low) and is_number(high):
            if float(low) > float(high):
                issues.add(f"numerical range {text!r} runs from high to low", at)
            answer.value = (float(low) + float(high)) / 2
            answer.tolerance = float(high) - answer.value
            return
    elif text.find(":") > 0:
        value, tolerance = (s.strip() for s in text.split(":", 1))
        if is_number(value) and is_number(tolerance):
            if float(tolerance) < 0:
                issues.add(f"numerical tolerance in {text!r} is negative", at)
            answer.value, answer.tolerance = float(value), float(tolerance)
            return
    elif is_number(text):
        answer.value, answer.tolerance = float(text), 0.0
        return
    issues.add(f"bad numerical answer {text!r}; write 5, 5:0.5 or 4..6", at)


def _read_matching(question: Question, block: str, base: int, issues: _Issues) -> None:
    pieces = _pieces(block, "=", base)
    if _too_many(pieces, issues):
        return
    at, _, before = pieces[0]
    if before.strip():
        issues.add(f"text before the first = in the answers: {_restore(before.strip())!r}", at)
    lefts = []
    for at, _, part in pieces[1:]:
        left, arrow, right = part.partition("->")
        if not arrow:
            issues.add(f"matching pair without '->': {_restore(part.strip())!r}", at)
            continue
        left, left_format = _rich(left, question.text_format, issues, at)
        right = _restore(right).strip()
        if not right:
            issues.add(f"matching pair {left!r} has nothing after '->'", at)
        question.matches.append(Match(left, right, left_format))
        if left:
            lefts.append((at, left))
    if len(lefts) < 2:
        issues.add("a matching question needs at least 2 pairs", base)
    _report_duplicates("matching item", lefts, issues)


def _read_truefalse(question: Question, block: str, base: int, issues: _Issues) -> None:
    """Read {T#wrong#right}: Moodle shows the first feedback for the wrong answer."""
    answer, *feedbacks = block.split("#", 2)
    wrong_at = base + len(answer)
    right_at = wrong_at + 1 + len(feedbacks[0]) if feedbacks else wrong_at
    wrong, wrong_format = _rich(
        feedbacks[0] if feedbacks else "", question.text_format, issues, wrong_at
    )
    right, right_format = _rich(
        feedbacks[1] if len(feedbacks) > 1 else "", question.text_format, issues, right_at
    )
    if answer.strip() in ("T", "TRUE"):
        question.truefalse = TrueFalse(True, right, wrong, right_format, wrong_format)
    else:
        question.truefalse = TrueFalse(False, wrong, right, wrong_format, right_format)


_ANSWER_READERS = {
    "numerical": _read_numerical,
    "mc": _read_choices,
    "matching": _read_matching,
    "truefalse": _read_truefalse,
    "short": _read_short,
}


def _add_answer(question: Question, part: str, fraction: float, issues: _Issues, at: int) -> bool:
    """Append an answer read from `text#feedback`; report and skip an empty one."""
    (text, text_format), (feedback, feedback_format) = _split_feedback(
        part, question.text_format, issues, at
    )
    if not text:
        issues.add("empty answer (is there an unescaped = or ~ in a text?)", at)
        return False
    question.answers.append(Answer(text, fraction, feedback, text_format, feedback_format))
    return True


def _split_feedback(part: str, default_format: str, issues: _Issues, at: int):
    text, _, feedback = part.partition("#")
    return (_rich(text, default_format, issues, at), _rich(feedback, default_format, issues, at))


def _read_weight(part: str, default: float, issues: _Issues, at: int) -> tuple[float, str]:
    """Split a leading %weight% off an answer, e.g. `%50%half right`."""
    match = _WEIGHT.match(part)
    if match:
        weight = float(match.group(1))
        if not -100 <= weight <= 100:
            issues.add(f"answer weight {weight:g}% is outside -100%..100%", at)
        return weight / 100, part[match.end() :]
    if part.startswith("%") and "%" in part[1:]:
        issues.add(f"bad answer weight in {_restore(part)!r}; write it like %50%", at)
    return default, part


def _report_duplicates(what: str, texts: list[tuple[int, str]], issues: _Issues) -> None:
    """Report each text given more than once, at its second appearance."""
    first, reported = {}, set()
    for at, text in texts:
        if text not in first:
            first[text] = at
        elif text not in reported:
            reported.add(text)
            issues.add(f"{what} {text!r} appears more than once", at)


def _require_full_marks(question: Question, issues: _Issues, at: int) -> None:
    if not any(a.fraction >= 1 - EPSILON for a in question.answers):
        issues.add("no answer gives full marks (100%)", at)


def _rich(text: str, default_format: str, issues: _Issues, at: int) -> tuple[str, str]:
    """Read an optional [format] prefix, then restore escapes and trim."""
    text = text.strip()
    text_format = default_format
    match = _FORMAT_PREFIX.match(text)
    if match and match.group(1) in FORMATS:
        text_format, text = match.group(1), text[match.end() :]
    elif match and match.group(1).isalpha():
        issues.add(
            f"unknown text format [{match.group(1)}]; use [html], [moodle], [plain] or [markdown]",
            at,
        )
    return _restore(text).strip(), text_format


def _restore(text: str) -> str:
    return text.translate(_RESTORE)


def is_number(text: str) -> bool:
    return _NUMBER.fullmatch(text) is not None
