"""Hostile course files: oversized, deeply nested or oddly broken input is reported as
`file:line: reason`, never a traceback or a stall (issue 16, part 3)."""

import time

import pytest

from tests.learn.learn_factory import QUIZ, course_files, write_course
from trainer.content_rules import MAX_ANSWERS, MAX_FILE_BYTES, MAX_NESTING
from trainer.learn.gift import parse_gift
from trainer.learn.loader import load_course, load_course_files


def problems_of(files):
    loaded = load_course_files("sample-course", files)
    assert loaded.course is None
    return [str(p) for p in loaded.problems]


def messages(text):
    return [(p.line, p.message) for p in parse_gift(text, "quiz.gift").problems]


# ------------------------------------------------------------ odd line breaks and controls


@pytest.mark.parametrize("char", ["\u2028", "\u2029", "\x0b", "\x0c", "\x85", "\x1e"])
def test_an_odd_line_break_in_a_quiz_is_refused_at_its_line(char):
    quiz = QUIZ.replace("What do you offer first?", f"What do you{char}{char} offer first?")
    quiz = quiz.replace("~Nothing#", f"~No{char}thing#")

    assert problems_of(course_files(quiz=quiz)) == [
        f"sample-course/quiz.gift:1: invisible {name} (U+{ord(char):04X}) is not allowed; "
        "delete it or use a plain line break"
        for name in [_name(char)]
    ] + [
        f"sample-course/quiz.gift:3: invisible {_name(char)} (U+{ord(char):04X}) is not "
        "allowed; delete it or use a plain line break"
    ]


def _name(char):
    return {
        "\u2028": "line separator",
        "\u2029": "paragraph separator",
        "\x0b": "vertical tab",
        "\x0c": "form feed",
        "\x85": "next line",
    }.get(char, "control character")


def test_odd_characters_in_lessons_and_course_yaml_are_refused_at_their_line():
    files = course_files(
        lessons={
            "01-start.md": "# Start\n\nFine.\r\n\nBad\u2028line.\n",
            "02-next.md": "# Next\n\nText.\n",
        }
    )
    assert problems_of(files) == [
        "sample-course/01-start.md:5: invisible line separator (U+2028) is not allowed; "
        "delete it or use a plain line break"
    ]

    files = course_files()
    files["course.yaml"] = files["course.yaml"].replace(b"title: Sample", b"title: \x0bSample")
    assert problems_of(files) == [
        "sample-course/course.yaml:2: invisible vertical tab (U+000B) is not allowed; "
        "delete it or use a plain line break"
    ]


def test_gift_parser_does_not_split_a_question_at_odd_line_breaks():
    text = (
        "::One::First\u2028\u2028question {T}\n\n::Two::Second\x0b\x0bquestion {F}\n\n"
        "::Three::Third {=a ~a}\n"
    )

    result = parse_gift(text, "quiz.gift")

    assert [(q.line, q.title) for q in result.questions] == [(1, "One"), (3, "Two")]
    assert [(p.line, p.message) for p in result.problems] == [
        (5, "answer 'a' appears more than once")
    ]


# -------------------------------------------------------------------- GIFT: the bad line


def test_gift_problems_point_at_the_bad_line_not_the_first_line_of_the_question():
    text = (
        "// header\n"
        "::Refund::A customer has no receipt. {\n"
        "=Store credit#Fine.\n"
        "// a comment inside the question\n"
        "~%500%Cash#Too much.\n"
        "~Store credit#Again.\n"
        "~#No text\n"
        "}\n\n"
        "::Count::How many days? {#\n"
        "=14\n"
        "=ten\n"
        "}\n\n"
        "::Pairs::Match {\n"
        "=Refund -> Money\n"
        "=Exchange\n"
        "}\n"
    )

    assert messages(text) == [
        (5, "answer weight 500% is outside -100%..100%"),
        (7, "empty answer (is there an unescaped = or ~ in a text?)"),
        (6, "answer 'Store credit' appears more than once"),
        (12, "bad numerical answer 'ten'; write 5, 5:0.5 or 4..6"),
        (17, "matching pair without '->': 'Exchange'"),
        (16, "a matching question needs at least 2 pairs"),
    ]


def test_gift_stem_problems_point_at_their_line():
    text = "::Title::\nFirst line\nthen {=a ~b}\nand {=c ~d}\n\n::Open::\nText\nwith {=a ~b\n"

    assert messages(text) == [
        (4, "more than one answer block; write a literal brace as \\{ or \\}"),
        (8, "unclosed '{'"),
    ]


# --------------------------------------------------------------------- answers per question


def test_twenty_thousand_answers_are_refused_quickly_at_the_first_one_too_many():
    answers = "".join(f"~answer {i}\n" for i in range(20_000))
    text = f"::Many::Pick one {{\n=right\n{answers}}}\n"

    started = time.perf_counter()
    problems = messages(text)
    elapsed = time.perf_counter() - started

    assert problems == [
        (
            MAX_ANSWERS + 2,
            f"a question may have at most {MAX_ANSWERS} answers; this is answer {MAX_ANSWERS + 1}",
        )
    ]
    assert elapsed < 2, elapsed  # it took 8.6 s when duplicates were found by count()


def test_duplicate_answers_are_found_in_linear_time_up_to_the_limit():
    answers = "".join(f"~same\n~answer {i}\n" for i in range(MAX_ANSWERS // 2 - 1))
    problems = messages(f"::Many::Pick {{\n=right\n{answers}}}\n")

    assert problems == [(5, "answer 'same' appears more than once")]


# ------------------------------------------------------------------------- size and nesting


def test_an_oversized_lesson_is_refused_before_markdown_parses_it(tmp_path):
    folder = write_course(tmp_path, "sample-course")
    (folder / "01-start.md").write_text("# Big\n\n" + "*a " * (MAX_FILE_BYTES // 3 + 10))

    started = time.perf_counter()
    loaded = load_course(folder)

    assert time.perf_counter() - started < 1
    assert [str(p) for p in loaded.problems] == [
        f"sample-course/01-start.md:1: the file is larger than the limit of "
        f"{MAX_FILE_BYTES // 1024} KB; split it into smaller files"
    ]


def test_a_lesson_just_under_the_limit_is_read():
    body = "Plain words. " * ((MAX_FILE_BYTES - 100) // 13)
    files = course_files(
        lessons={"01-start.md": f"# Start\n\n{body}\n", "02-next.md": "# Next\n\nText.\n"}
    )
    assert len(files["01-start.md"]) <= MAX_FILE_BYTES
    assert load_course_files("sample-course", files).problems == []


@pytest.mark.parametrize(
    "deep", ["extra: " + "[" * 2000 + "]" * 2000 + "\n", "extra:\n  " + "- " * 2000 + "x\n"]
)
def test_deeply_nested_course_yaml_is_reported_not_a_recursion_error(deep):
    files = course_files(extra_yaml=deep)

    problems = problems_of(files)

    assert len(problems) == 1
    assert problems[0].startswith("sample-course/course.yaml:")
    assert problems[0].endswith(
        f"lists and mappings are nested more than {MAX_NESTING} levels deep"
    )


def test_content_check_reports_hostile_files_and_exits_non_zero(app, courses_dir):
    write_course(
        courses_dir, "broken-quiz", quiz=QUIZ.replace("What do you offer", "What do\x0b you offer")
    )
    write_course(courses_dir, "deep-yaml", extra_yaml="extra: " + "{a: " * 2000 + "}" * 2000)

    result = app.test_cli_runner().invoke(args=["content", "check", "--dir", str(courses_dir)])

    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.output.splitlines()
    assert (
        "courses/broken-quiz/quiz.gift:1: invisible vertical tab (U+000B) is not "
        "allowed; delete it or use a plain line break" in lines
    )
    assert (
        "courses/deep-yaml/course.yaml:11: lists and mappings are nested more than "
        f"{MAX_NESTING} levels deep" in lines
    )
    assert "Content OK" not in result.output
