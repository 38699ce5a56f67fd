"""Read course folders (course.yaml, Markdown lessons, a GIFT quiz) and check them.

Pure: no Flask, no database. Every problem carries a file and a line, so `str(problem)` reads
`file:line: reason`. A course with any problem is not loaded at all.
"""

import dataclasses
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from markdown_it import MarkdownIt

from trainer.content_rules import (
    MAX_FILE_BYTES,
    character_problems,
    problem_types_problem,
    size_problem,
    yaml_nesting_problem,
)
from trainer.learn.gift import Answer, Match, Problem, Question, TrueFalse, parse_gift

COURSE_FILE = "course.yaml"
NOT_COURSES = {"scenarios"}  # folders in courses/ that hold other kinds of content
AUDIENCES = ("employee", "manager")
REQUIRED_KEYS = ("id", "title", "summary", "audience", "estimated_minutes", "pass_mark", "lessons")
OPTIONAL_KEYS = ("quiz", "problem_types", "certificate_valid_months")
MAX_VALID_MONTHS = 120  # ten years: anything longer is a typo, or should not expire at all
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
TITLE_LINE = re.compile(r"^#[ \t]+(.+?)[ \t#]*$")
FORBIDDEN_LINK = re.compile(r"\]\(\s*<?\s*(?!https?:|mailto:)([a-zA-Z][a-zA-Z0-9+.-]*):")
SUPPORTED_QUESTIONS = ("description", "mc", "multi", "truefalse", "short", "numerical", "matching")
# A language variant of a file: `01-intro.de.md` translates `01-intro.md`, `quiz.de.gift` the
# quiz, and `course.de.yaml` (title and summary only) the course.yaml.
VARIANT_FILE = re.compile(r"^(?P<stem>.+)\.(?P<lang>[a-z]{2})\.(?P<ext>md|gift|yaml)$")
VARIANT_KEYS = ("title", "summary")

_html_finder = MarkdownIt("commonmark")  # html on: only used to find raw HTML and report it


@dataclass
class Lesson:
    file: str
    title: str
    markdown: str  # the body, without the "# Title" line
    first_line: int = 2  # the line of the file where `markdown` starts


@dataclass
class CourseVariant:
    """A course in another language: the same lessons and quiz, in the same structure."""

    title: str
    summary: str
    lessons: list[Lesson]
    questions: list[Question]


@dataclass
class LoadedCourse:
    id: str
    title: str
    summary: str
    audience: str
    estimated_minutes: int
    pass_mark: int
    lessons: list[Lesson]
    questions: list[Question]
    content_hash: str
    quiz_file: str | None = None
    problem_types: list[str] = field(default_factory=list)  # fix log problems it practises
    certificate_valid_months: int | None = None  # None: certificates never expire
    variants: dict[str, CourseVariant] = field(default_factory=dict)  # by language code


@dataclass
class CourseLoad:
    course: LoadedCourse | None
    problems: list[Problem] = field(default_factory=list)


def course_folders(courses_dir: Path) -> list[Path]:
    """Return the course folders: every visible sub-folder except the other content kinds."""
    return sorted(
        p
        for p in Path(courses_dir).iterdir()
        if p.is_dir() and not p.name.startswith(".") and p.name not in NOT_COURSES
    )


def load_library(courses_dir: Path) -> tuple[list[LoadedCourse], list[Problem]]:
    """Load every course folder; return the good courses and every problem found."""
    courses, problems = [], []
    for folder in course_folders(courses_dir):
        loaded = load_course(folder, prefix=f"{Path(courses_dir).name}/{folder.name}")
        problems += loaded.problems
        if loaded.course:
            courses.append(loaded.course)
    return courses, problems


def load_course(folder: Path, prefix: str | None = None) -> CourseLoad:
    """Read one course folder from disk and load it."""
    prefix = prefix or folder.name
    files, problems = {}, []
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            continue
        if path.is_dir():
            problems.append(
                Problem(
                    f"{prefix}/{path.name}/",
                    1,
                    "sub-folders are not used; keep every file of a course next to its course.yaml",
                )
            )
        else:
            with path.open("rb") as file:  # one byte over the limit is enough to refuse it
                files[path.name] = file.read(MAX_FILE_BYTES + 1)
    loaded = load_course_files(folder.name, files, prefix=prefix)
    loaded.problems[:0] = problems
    if problems:
        loaded.course = None
    return loaded


def content_hash(files: dict[str, bytes]) -> str:
    """Hash every file of a course (names and bytes), so any edit makes a new version."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name] + b"\0")
    return digest.hexdigest()


def load_course_files(
    folder_name: str, files: dict[str, bytes], prefix: str | None = None
) -> CourseLoad:
    """Load a course from its files (name -> bytes); report every problem found."""
    prefix = prefix or folder_name
    reader = _CourseReader(folder_name, files, prefix)
    course = reader.read()
    return CourseLoad(course if not reader.problems else None, reader.problems)


class _CourseReader:
    def __init__(self, folder_name: str, files: dict[str, bytes], prefix: str):
        self.folder_name, self.files, self.prefix = folder_name, files, prefix
        self.problems: list[Problem] = []

    def problem(self, file: str, line: int, message: str) -> None:
        self.problems.append(Problem(f"{self.prefix}/{file}", line, message))

    def text_of(self, name: str) -> str | None:
        """Return a file's text, or None after reporting why it cannot be parsed."""
        data = self.files[name]
        too_big = size_problem(len(data))
        if too_big:
            self.problem(name, 1, too_big)
            return None
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            line = data[: error.start].count(b"\n") + 1
            self.problem(name, line, "the file is not UTF-8 text")
            return None
        bad_characters = character_problems(text)
        for line, reason in bad_characters:
            self.problem(name, line, reason)
        return None if bad_characters else text

    def read(self) -> LoadedCourse | None:
        if COURSE_FILE not in self.files:
            self.problem(COURSE_FILE, 1, "missing: every course folder needs a course.yaml")
            return None
        meta, lines = self.read_yaml()
        if meta is None:
            return None
        self.check_meta(meta, lines)
        lessons = self.read_lessons(meta.get("lessons"), lines)
        questions = self.read_quiz(meta.get("quiz"), lines)
        used = {COURSE_FILE, *(lesson.file for lesson in lessons)}
        if isinstance(meta.get("quiz"), str):
            used.add(meta["quiz"])
        if isinstance(meta.get("lessons"), list):
            used.update(name for name in meta["lessons"] if isinstance(name, str))
        variant_files = {
            name: match
            for name in self.files
            if name not in used and (match := VARIANT_FILE.match(name))
        }
        for name, match in sorted(variant_files.items()):
            original = f"{match['stem']}.{match['ext']}"
            if original not in used:
                self.problem(
                    name,
                    1,
                    f"a translation of {original}, which course.yaml does not list: "
                    "rename it after a file it lists, or remove it",
                )
        variants = {}
        if not self.problems:
            for language in sorted({m["lang"] for m in variant_files.values()}):
                variants[language] = self.read_variant(language, meta, lessons, questions, lines)
        for name in sorted(set(self.files) - used - set(variant_files)):
            self.problem(
                name,
                1,
                "not used by course.yaml: list it under lessons (or as the quiz), or remove it",
            )
        if self.problems:
            return None
        return LoadedCourse(
            id=meta["id"],
            title=meta["title"].strip(),
            summary=meta["summary"].strip(),
            audience=meta["audience"],
            estimated_minutes=meta["estimated_minutes"],
            pass_mark=meta["pass_mark"],
            lessons=lessons,
            questions=questions,
            content_hash=content_hash(self.files),
            quiz_file=meta.get("quiz"),
            problem_types=list(meta.get("problem_types") or []),
            certificate_valid_months=meta.get("certificate_valid_months"),
            variants=variants,
        )

    def read_variant(self, language, meta, lessons, questions, lines) -> CourseVariant:
        """Read one language's files and report where their structure differs from the original."""
        title, summary = meta["title"].strip(), meta["summary"].strip()
        course_file = f"course.{language}.yaml"
        if course_file in self.files:
            text = self.text_of(course_file)
            try:
                data = yaml.safe_load(text) if text is not None else None
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None)
                self.problem(course_file, mark.line + 1 if mark else 1, "not valid YAML")
                data = None
            if not isinstance(data, dict) or set(data) - set(VARIANT_KEYS):
                self.problem(
                    course_file, 1, "a translated course.yaml holds only 'title' and 'summary'"
                )
            else:
                title = str(data.get("title") or title).strip()
                summary = str(data.get("summary") or summary).strip()
        translated = []
        for i, lesson in enumerate(lessons):
            name = variant_name(lesson.file, language)
            if name not in self.files:
                self.problem(
                    COURSE_FILE,
                    lines.get(f"lessons[{i}]", 1),
                    f"lesson {lesson.file} has no '{language}' translation: add {name}, "
                    f"as for the other lessons in '{language}'",
                )
                continue
            variant = self.read_lesson(name)
            if variant:
                translated.append(variant)
        translated_questions = []
        quiz = meta.get("quiz")
        if quiz:
            name = variant_name(quiz, language)
            if name not in self.files:
                self.problem(
                    COURSE_FILE,
                    lines.get("quiz", 1),
                    f"quiz {quiz} has no '{language}' translation: add {name}, "
                    f"as for the lessons in '{language}'",
                )
            else:
                translated_questions = self.read_quiz(name, lines)
                for problem in quiz_differences(questions, translated_questions, quiz, name):
                    self.problem(name, problem[0], problem[1])
        return CourseVariant(title, summary, translated, translated_questions)

    def read_yaml(self) -> tuple[dict | None, dict[str, int]]:
        """Return the course.yaml mapping and the line of each key (and each lesson entry)."""
        text = self.text_of(COURSE_FILE)
        if text is None:
            return None, {}
        too_deep = yaml_nesting_problem(text)
        if too_deep:
            self.problem(COURSE_FILE, *too_deep)
            return None, {}
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
            meta = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            reason = getattr(exc, "problem", None) or "not valid YAML"
            self.problem(COURSE_FILE, mark.line + 1 if mark else 1, f"not valid YAML: {reason}")
            return None, {}

        if not isinstance(meta, dict):
            self.problem(
                COURSE_FILE,
                1,
                "course.yaml must be a mapping of keys to values (id, title, summary, …)",
            )
            return None, {}
        lines = {}
        for key, value in node.value:
            lines[str(key.value)] = key.start_mark.line + 1
            if isinstance(value, yaml.SequenceNode):
                for i, item in enumerate(value.value):
                    lines[f"{key.value}[{i}]"] = item.start_mark.line + 1
        return meta, lines

    def check_meta(self, meta: dict, lines: dict[str, int]) -> None:
        def bad(key: str, message: str) -> None:
            self.problem(COURSE_FILE, lines.get(key, 1), message)

        for key in REQUIRED_KEYS:
            if key not in meta:
                self.problem(COURSE_FILE, 1, f"missing '{key}'")
        for key in meta:
            if key not in REQUIRED_KEYS + OPTIONAL_KEYS:
                bad(
                    str(key),
                    f"unknown key '{key}'; the keys are: "
                    + ", ".join(REQUIRED_KEYS + OPTIONAL_KEYS),
                )
        course_id = meta.get("id")
        if "id" in meta:
            if not isinstance(course_id, str) or not SLUG.match(course_id):
                bad("id", "id must be a slug: lower-case letters, digits and single hyphens")
            elif course_id != self.folder_name:
                bad("id", f"id '{course_id}' must equal the folder name '{self.folder_name}'")
        for key, limit in (("title", 200), ("summary", 1000)):
            if key in meta and (not isinstance(meta[key], str) or not meta[key].strip()):
                bad(key, f"{key} must be non-empty text")
            elif key in meta and len(meta[key]) > limit:
                bad(key, f"{key} is longer than {limit} characters")
        if "problem_types" in meta and (why := problem_types_problem(meta["problem_types"])):
            bad("problem_types", why)
        if "audience" in meta and meta["audience"] not in AUDIENCES:
            bad("audience", f"audience must be one of: {', '.join(AUDIENCES)}")
        for key, low, high in (("estimated_minutes", 1, 600), ("pass_mark", 1, 100)):
            value = meta.get(key)
            if key in meta and (not _is_int(value) or not low <= value <= high):
                bad(key, f"{key} must be a whole number from {low} to {high}")
        months = meta.get("certificate_valid_months")
        if "certificate_valid_months" in meta and (
            not _is_int(months) or not 1 <= months <= MAX_VALID_MONTHS
        ):
            bad(
                "certificate_valid_months",
                "certificate_valid_months must be a whole number of months from 1 to "
                f"{MAX_VALID_MONTHS} (for example 12 or 24), or left out if the certificate "
                "never expires",
            )

    def read_lessons(self, names, lines: dict[str, int]) -> list[Lesson]:
        if names is None:
            return []
        if not isinstance(names, list) or not names:
            self.problem(
                COURSE_FILE,
                lines.get("lessons", 1),
                "lessons must be a list of one or more Markdown file names",
            )
            return []
        lessons, seen = [], set()
        for i, name in enumerate(names):
            line = lines.get(f"lessons[{i}]", lines.get("lessons", 1))
            if not isinstance(name, str) or not name.endswith(".md") or "/" in name or "\\" in name:
                self.problem(
                    COURSE_FILE,
                    line,
                    f"lesson {name!r} must be a .md file name in the course folder",
                )
            elif name in seen:
                self.problem(COURSE_FILE, line, f"lesson {name} is listed twice")
            elif name not in self.files:
                self.problem(COURSE_FILE, line, f"lesson {name} does not exist")
            else:
                seen.add(name)
                lesson = self.read_lesson(name)
                if lesson:
                    lessons.append(lesson)
        return lessons

    def read_lesson(self, name: str) -> Lesson | None:
        text = self.text_of(name)
        if text is None:
            return None
        lines = text.splitlines()
        first = next((i for i, line in enumerate(lines) if line.strip()), None)
        title = TITLE_LINE.match(lines[first]) if first is not None else None
        if title is None:
            self.problem(name, (first or 0) + 1, "a lesson starts with a '# Title' line")
            return None
        rest = lines[first + 1 :]
        blank = next((i for i, line in enumerate(rest) if line.strip()), len(rest))
        body = "\n".join(rest).strip()
        if not body:
            self.problem(name, first + 1, "the lesson has a title but no text")
        for line_number, reason in _unsafe_markdown(text):
            self.problem(name, line_number, reason)
        return Lesson(name, title.group(1).strip(), body + "\n", first + 2 + blank)

    def read_quiz(self, name, lines: dict[str, int]) -> list[Question]:
        if name is None:
            return []
        line = lines.get("quiz", 1)
        if not isinstance(name, str) or not name.endswith(".gift") or "/" in name:
            self.problem(COURSE_FILE, line, "quiz must be a .gift file name in the course folder")
            return []
        if name not in self.files:
            self.problem(COURSE_FILE, line, f"quiz {name} does not exist")
            return []
        text = self.text_of(name)
        if text is None:
            return []
        result = parse_gift(text, f"{self.prefix}/{name}")
        self.problems += result.problems
        questions = []
        for question in result.questions:
            if question.type not in SUPPORTED_QUESTIONS:
                self.problem(
                    name,
                    question.line,
                    f"{question.type} questions are not supported "
                    "in course quizzes: they need marking by a person",
                )
            else:
                questions.append(question)
        if not any(q.scorable for q in questions) and not result.problems:
            self.problem(name, 1, "the quiz has no question that can be scored")
        return questions


def variant_name(name: str, language: str) -> str:
    stem, dot, ext = name.rpartition(".")
    return f"{stem}.{language}.{ext}"


def quiz_differences(
    original: list[Question], translated: list[Question], original_name: str, name: str
) -> list[tuple[int, str]]:
    """Return (line, reason) for each way a translated quiz differs from the original.

    A translation must keep every question, in order, with the same type, the same number of
    answers (or pairs) and the same marks at the same positions, so that learners in every
    language take the same quiz and are scored alike."""
    found = []
    if len(translated) != len(original):
        found.append(
            (
                1,
                f"{len(translated)} questions, but {original_name} has {len(original)}: "
                "translate every question, in the same order",
            )
        )
    for number, (source, target) in enumerate(zip(original, translated, strict=False), start=1):
        where = f"question {number}"
        if source.type != target.type:
            found.append(
                (
                    target.line,
                    f"{where} is {target.type}, but in {original_name} "
                    f"(line {source.line}) it is {source.type}",
                )
            )
        elif len(source.answers) != len(target.answers):
            found.append(
                (
                    target.line,
                    f"{where} has {len(target.answers)} answers, but in {original_name} "
                    f"(line {source.line}) it has {len(source.answers)}",
                )
            )
        elif len(source.matches) != len(target.matches):
            found.append(
                (
                    target.line,
                    f"{where} has {len(target.matches)} pairs, but in {original_name} "
                    f"(line {source.line}) it has {len(source.matches)}",
                )
            )
        elif [round(a.fraction, 4) for a in source.answers] != [
            round(a.fraction, 4) for a in target.answers
        ] or (source.truefalse and source.truefalse.correct != target.truefalse.correct):
            found.append(
                (
                    target.line,
                    f"{where} marks other answers right than in {original_name} "
                    f"(line {source.line}): keep the right answers at the same positions",
                )
            )
    return found


def _unsafe_markdown(text: str) -> list[tuple[int, str]]:
    """Find raw HTML and non-web links, which the renderer would show as plain text."""
    found = []
    for token in _html_finder.parse(text):
        line = token.map[0] + 1 if token.map else 1
        inline_html = token.children and any(c.type == "html_inline" for c in token.children)
        if token.type == "html_block" or inline_html:
            found.append(
                (line, "raw HTML is not allowed in lessons (it would show as text); use Markdown")
            )
    for number, line in enumerate(text.splitlines(), start=1):
        match = FORBIDDEN_LINK.search(line)
        if match:
            found.append(
                (number, f"links may only use http, https or mailto, not '{match.group(1)}:'")
            )
    return sorted(set(found))


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# ------------------------------------------------------------- questions as JSON and back


def question_to_dict(question: Question) -> dict:
    """Return a JSON-ready dict of a parsed question (stored with the course version)."""
    data = dataclasses.asdict(question)
    data["matches"] = [list(m) for m in question.matches]
    return data


def question_from_dict(data: dict) -> Question:
    """Rebuild a parsed question stored by `question_to_dict`."""
    known = {f.name for f in dataclasses.fields(Question)}
    values = {k: v for k, v in data.items() if k in known}
    values["answers"] = [Answer(**a) for a in data.get("answers", [])]
    values["matches"] = [Match(*m) for m in data.get("matches", [])]
    if data.get("truefalse"):
        values["truefalse"] = TrueFalse(**data["truefalse"])
    return Question(**values)
