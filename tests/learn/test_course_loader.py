"""Loading course folders: every problem is reported with its file and line."""

import pytest

from tests.learn.learn_factory import course_files, write_course
from trainer.learn.loader import (
    content_hash,
    load_course,
    load_course_files,
    load_library,
    question_from_dict,
    question_to_dict,
)


def problems_of(files, folder="sample-course"):
    loaded = load_course_files(folder, files)
    assert loaded.course is None
    return [str(p) for p in loaded.problems]


def test_a_valid_course_loads_with_titles_from_the_lessons():
    loaded = load_course_files("sample-course", course_files())
    assert loaded.problems == []
    course = loaded.course
    assert (course.id, course.title, course.audience, course.pass_mark) == (
        "sample-course",
        "Sample course",
        "employee",
        80,
    )
    assert [lesson.title for lesson in course.lessons] == ["Why it matters", "Listen first"]
    assert course.lessons[0].markdown.startswith("Customers who complain")
    assert [q.type for q in course.questions] == ["mc", "truefalse", "multi", "matching", "short"]


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        ("id: sample-course\n\ttitle: T\n", "sample-course/course.yaml:2: not valid YAML"),
        ("- just\n- a list\n", "sample-course/course.yaml:1: course.yaml must be a mapping"),
        ("id: sample-course\n", "sample-course/course.yaml:1: missing 'title'"),
        (
            "id: other-name\ntitle: T\n",
            "sample-course/course.yaml:1: id 'other-name' must equal "
            "the folder name 'sample-course'",
        ),
        ("title: T\nid: Not A Slug\n", "sample-course/course.yaml:2: id must be a slug"),
        ("id: sample-course\ntitel: T\n", "sample-course/course.yaml:2: unknown key 'titel'"),
        (
            "id: sample-course\naudience: everyone\n",
            "sample-course/course.yaml:2: audience must be one of: employee, manager",
        ),
        (
            "id: sample-course\nestimated_minutes: soon\n",
            "sample-course/course.yaml:2: estimated_minutes must be a whole number",
        ),
        (
            "id: sample-course\npass_mark: true\n",
            "sample-course/course.yaml:2: pass_mark must be a whole number from 1 to 100",
        ),
        ("id: sample-course\nlessons: []\n", "sample-course/course.yaml:2: lessons must be a list"),
        (
            "id: sample-course\nlessons:\n  - 01-start.md\n  - missing.md\n",
            "sample-course/course.yaml:4: lesson missing.md does not exist",
        ),
        (
            "id: sample-course\nlessons:\n  - 01-start.md\n  - 01-start.md\n",
            "sample-course/course.yaml:4: lesson 01-start.md is listed twice",
        ),
        (
            "id: sample-course\nlessons:\n  - ../secret.md\n",
            "sample-course/course.yaml:3: lesson '../secret.md' must be a .md file name",
        ),
        (
            "id: sample-course\nquiz: quiz.txt\n",
            "sample-course/course.yaml:2: quiz must be a .gift file name",
        ),
    ],
)
def test_course_yaml_problems_point_at_the_line(yaml_text, expected):
    files = course_files()
    files["course.yaml"] = yaml_text.encode()
    problems = problems_of(files)
    assert any(p.startswith(expected) for p in problems), problems


def test_a_folder_without_course_yaml_is_reported():
    files = course_files()
    del files["course.yaml"]
    assert (
        "sample-course/course.yaml:1: missing: every course folder needs a course.yaml"
        in problems_of(files)
    )


@pytest.mark.parametrize(
    ("lesson", "expected"),
    [
        (
            "No title line\n\nText.\n",
            "sample-course/01-start.md:1: a lesson starts with a '# Title' line",
        ),
        ("\n\n## Wrong level\n", "sample-course/01-start.md:3: a lesson starts with a '# Title'"),
        ("# Only a title\n", "sample-course/01-start.md:1: the lesson has a title but no text"),
        (
            "# T\n\nText\n\n<script>alert(1)</script>\n",
            "sample-course/01-start.md:5: raw HTML is not allowed",
        ),
        ("# T\n\nSay <b>hello</b>.\n", "sample-course/01-start.md:3: raw HTML is not allowed"),
        (
            "# T\n\nSee [this](javascript:alert(1)).\n",
            "sample-course/01-start.md:3: links may only use http, https or mailto, "
            "not 'javascript:'",
        ),
    ],
)
def test_lesson_problems_point_at_the_line(lesson, expected):
    files = course_files()
    files["01-start.md"] = lesson.encode()
    problems = problems_of(files)
    assert any(p.startswith(expected) for p in problems), problems


def test_a_lesson_that_is_not_utf8_is_reported():
    files = course_files()
    files["01-start.md"] = "# Café\n\nText\n".encode("latin-1")
    assert "sample-course/01-start.md:1: the file is not UTF-8 text" in problems_of(files)


def test_gift_problems_and_unsupported_questions_keep_their_line():
    quiz = "::Ok::Fine? {T}\n\n::Bad::Broken {=a ~b\n\n\n::Essay::Tell us. {}\n"
    problems = problems_of(course_files(quiz=quiz))
    assert "sample-course/quiz.gift:3: unclosed '{'" in problems
    assert any(
        p.startswith("sample-course/quiz.gift:6: essay questions are not supported")
        for p in problems
    )


def test_a_quiz_with_nothing_to_score_is_reported():
    problems = problems_of(course_files(quiz="Just a description, no answers.\n"))
    assert "sample-course/quiz.gift:1: the quiz has no question that can be scored" in problems


def test_unused_files_and_sub_folders_are_reported(tmp_path):
    folder = write_course(tmp_path)
    (folder / "03-draft.md").write_text("# Draft\n\nNot listed.\n")
    (folder / "images").mkdir()
    (folder / ".DS_Store").write_bytes(b"\0")
    problems = [str(p) for p in load_course(folder, prefix="courses/sample-course").problems]
    assert problems == [
        "courses/sample-course/images/:1: sub-folders are not used; keep every file of a "
        "course next to its course.yaml",
        "courses/sample-course/03-draft.md:1: not used by course.yaml: list it under lessons "
        "(or as the quiz), or remove it",
    ]


def test_the_library_skips_the_scenarios_folder_and_reports_paths_from_its_root(tmp_path):
    courses = tmp_path / "courses"
    write_course(courses, "good-course")
    write_course(courses, "bad-course", pass_mark=0)
    (courses / "scenarios").mkdir()
    (courses / "scenarios" / "x.yaml").write_text("not: a course\n")
    loaded, problems = load_library(courses)
    assert [c.id for c in loaded] == ["good-course"]
    assert [str(p) for p in problems] == [
        "courses/bad-course/course.yaml:6: pass_mark must be a whole number from 1 to 100"
    ]


def test_the_hash_covers_every_byte_and_name():
    files = course_files()
    same = dict(reversed(list(files.items())))
    assert content_hash(files) == content_hash(same)
    edited = dict(files, **{"02-listen.md": files["02-listen.md"] + b" "})
    renamed = {("x" + k if k == "02-listen.md" else k): v for k, v in files.items()}
    assert len({content_hash(files), content_hash(edited), content_hash(renamed)}) == 3


def test_questions_survive_the_round_trip_through_json():
    import json

    questions = load_course_files("sample-course", course_files()).course.questions
    for question in questions:
        assert question_from_dict(json.loads(json.dumps(question_to_dict(question)))) == question
