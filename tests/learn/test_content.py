"""Markdown rendering with hostile content, and the `flask content` commands."""

from html.parser import HTMLParser

import pytest

from tests.learn.learn_factory import write_course
from trainer.content import register_content_kind, render_markdown, render_text
from trainer.learn.models import Course, CourseVersion

HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](  javascript:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](vbscript:msgbox(1))",
    '<a href="javascript:alert(1)">x</a>',
    "<iframe src=https://evil.example></iframe>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "![x](javascript:alert(1))",
    '<svg onload="alert(1)"></svg>',
    "<<script>script>alert(1)<</script>/script>",
    "[x](&#106;avascript:alert(1))",
    "<javascript:alert(1)>",
]


class Elements(HTMLParser):
    """Collect every element and attribute a browser would build from some HTML."""

    def __init__(self, html):
        super().__init__()
        self.elements = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))


@pytest.mark.parametrize("source", HOSTILE)
def test_hostile_markdown_never_yields_active_html(source):
    html = str(render_markdown(f"Text before.\n\n{source}\n\nText after."))
    for tag, attrs in Elements(html).elements:
        assert tag in {"p", "a", "em", "strong", "code"}, html
        assert set(attrs) <= {"href", "rel", "title"}, html
        if "href" in attrs:
            assert attrs["href"].split(":")[0].lower() in ("http", "https", "mailto"), html
    assert "Text after." in html


@pytest.mark.parametrize("source", HOSTILE)
@pytest.mark.parametrize("text_format", ["html", "moodle"])
def test_hostile_html_in_quiz_texts_is_sanitized(source, text_format):
    html = str(render_text(f"Before {source} after", text_format))
    for tag, attrs in Elements(html).elements:
        assert tag in {"a", "br"}, html
        assert set(attrs) <= {"href", "rel", "title"}, html
        assert "href" not in attrs or attrs["href"].lower().startswith(("http", "mailto")), html
    assert "alert(1)" not in html.split("Before")[0]


def test_raw_html_is_shown_as_text_not_markup():
    html = str(render_markdown("Hello <b>world</b>"))
    assert "<b>" not in html
    assert "&lt;b&gt;world&lt;/b&gt;" in html


def test_markdown_keeps_the_allowed_structure():
    html = str(
        render_markdown(
            "## Heading\n\n*em* **strong** `code`\n\n> quote\n\n1. one\n2. two\n\n"
            "| a | b |\n|---|--:|\n| 1 | 2 |\n\n[site](https://example.com) "
            "[mail](mailto:care@example.com)\n"
        )
    )
    for tag in (
        "<h2>",
        "<em>",
        "<strong>",
        "<code>",
        "<blockquote>",
        "<ol>",
        "<table>",
        "<th>",
        "<td>",
    ):
        assert tag in html
    assert '<a href="https://example.com" rel="noopener noreferrer">site</a>' in html
    assert 'href="mailto:care@example.com"' in html
    assert "text-align" not in html  # table alignment styles would break the CSP


def test_render_text_escapes_plain_and_sanitizes_html_formats():
    assert str(render_text("a < b\nc", "plain")) == "a &lt; b<br>c"
    assert str(render_text("<em>fine</em><script>x()</script>", "html")) == "<em>fine</em>"
    assert "<strong>" in str(render_text("**bold**", "markdown"))
    assert "onclick" not in str(render_text('<p onclick="x()">hi</p>', "moodle"))


# ------------------------------------------------------------------------ CLI


def test_check_passes_on_the_real_course_library(app):
    result = app.test_cli_runner().invoke(args=["content", "check"])
    assert result.exit_code == 0, result.output
    assert "Content OK" in result.output


def test_the_real_library_has_every_shipped_course_with_lessons_and_quizzes(app, session):
    result = app.test_cli_runner().invoke(args=["content", "sync"])
    assert result.exit_code == 0, result.output
    versions = session.exec(CourseVersion.__table__.select()).all()
    assert len(versions) == 9
    assert all(len(v.lessons) >= 3 and len(v.questions) >= 5 for v in versions)


def test_check_reports_each_problem_as_file_line_reason_and_fails(app, courses_dir):
    write_course(
        courses_dir,
        "broken-course",
        pass_mark=120,
        quiz="::Q::Unclosed {=a ~b\n\n::E::Tell us about it {}\n",
    )
    (courses_dir / "broken-course" / "notes.txt").write_text("draft")
    result = app.test_cli_runner().invoke(args=["content", "check", "--dir", str(courses_dir)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert (
        "courses/broken-course/course.yaml:6: pass_mark must be a whole number from 1 to "
        "100" in lines
    )
    assert "courses/broken-course/quiz.gift:1: unclosed '{'" in lines
    assert any(
        line.startswith("courses/broken-course/quiz.gift:3: essay questions are not supported")
        for line in lines
    )
    assert (
        "courses/broken-course/notes.txt:1: not used by course.yaml: list it under "
        "lessons (or as the quiz), or remove it" in lines
    )
    assert not any("sample-course" in line for line in lines)


def test_sync_refuses_broken_content_and_writes_nothing(app, courses_dir, session):
    write_course(courses_dir, "broken-course", quiz="::Q::Unclosed {=a ~b\n")
    result = app.test_cli_runner().invoke(args=["content", "sync", "--dir", str(courses_dir)])
    assert result.exit_code == 1
    assert "courses/broken-course/quiz.gift:1: unclosed '{'" in result.output
    assert "Nothing was loaded." in result.output
    assert session.exec(Course.__table__.select()).all() == []


def test_sync_loads_then_reports_unchanged(app, courses_dir, session):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["content", "sync", "--dir", str(courses_dir)])
    assert first.exit_code == 0, first.output
    assert "courses: 1 added" in first.output
    second = runner.invoke(args=["content", "sync", "--dir", str(courses_dir)])
    assert second.exit_code == 0
    assert "courses: unchanged (1 courses)" in second.output
    assert len(session.exec(CourseVersion.__table__.select()).all()) == 1


def test_other_content_kinds_plug_into_check_and_sync(app, courses_dir):
    synced = []
    register_content_kind(
        app,
        "notes",
        lambda folder: ["notes/a.txt:3: too short"],
        lambda *, session, courses_dir: synced.append(courses_dir),
    )
    runner = app.test_cli_runner()
    result = runner.invoke(args=["content", "check", "--dir", str(courses_dir)])
    assert result.exit_code == 1
    assert "notes/a.txt:3: too short" in result.output
    result = runner.invoke(args=["content", "sync", "--dir", str(courses_dir)])
    assert result.exit_code == 1 and synced == []
