"""The content lint for courses: quizzes that give their answers away and unsourced figures,
reported by `flask content check` as file:line warnings, errors with --strict."""

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.learn.learn_factory import write_course
from trainer.content import render_markdown
from trainer.learn.gift import parse_gift
from trainer.learn.lint import lint_lesson, lint_quiz
from trainer.learn.loader import Lesson

REPO_ROOT = Path(__file__).resolve().parents[2]
CORPORA = REPO_ROOT.parent / "shared" / "corpora"
OUTPUT_LINE = re.compile(r"^\S+:\d+: \S")

# Three multiple-choice questions whose right answer is always the longest option.
LONGEST_KEY_QUIZ = """\
::A::What do you say first? {
=Thank her for telling you about it#She feels heard.
~Ask for the receipt#Too soon.
~Say it is not your fault#Defensive.
}

::B::The car is late. When do you ring? {
=As soon as the workshop tells you#Early news leaves her options.
~At the promised time#Too late to plan.
~Once it is ready#She waits at the desk.
}

::C::A caller is angry. What do you do? {
=Let him finish before you answer#Interrupting adds fuel.
~Read him the script#He hears a script.
~Transfer him#He repeats himself.
}

::T::Is a complaint a gift? {TRUE#It is a chance to fix things.#Yes: a chance to fix things.}
"""

# Two options of similar length, the right one in the middle position of length.
BALANCED_QUIZ = """\
::A::What do you say first? {
~Ask for the receipt first#Too soon: she has not finished.
=Thank her for telling you#She feels heard.
~Explain the return policy#She has not asked about it.
}

::B::The car is late. When do you ring? {
~At the time you promised#Too late for her to plan.
~Once the car is ready to go#She has waited without news.
=When the workshop tells you#Early news leaves her options.
}

::T1::He'd rather tell you than the survey. Is that gaming? {FALSE
#Honest feedback to you is not gaming.#It is feedback, not pressure.}

::T2::Saying "you'll get a survey" is fine if you don't ask for a score. {TRUE
#Telling is not asking.#Telling is not asking.}

::M::Match each request to what helps. {
=Refund -> Money back
=Exchange -> Another item
=Repair -> The same item, fixed
####Each remedy answers a different need.
}
"""


def warnings_of(result) -> list[str]:
    return [line for line in result.output.splitlines() if ": warning: " in line]


def check(app, courses_dir, *extra):
    return app.test_cli_runner().invoke(
        args=["content", "check", "--dir", str(courses_dir), *extra]
    )


# ------------------------------------------------------------------------ quizzes


def test_key_longest_in_most_questions_is_flagged_at_the_first_such_question(app, tmp_path):
    write_course(tmp_path / "courses", "long-keys", quiz=LONGEST_KEY_QUIZ)
    lines = warnings_of(check(app, tmp_path / "courses"))
    assert any(
        line.startswith(
            "courses/long-keys/quiz.gift:1: warning: the right answer is "
            "the longest option in 3 of 3 multiple-choice questions (100%"
        )
        for line in lines
    ), lines
    assert "lines 1, 7, 13" in "\n".join(lines)


def test_key_longest_at_the_limit_is_quiet():
    # Longest in 2 of 5 (40%) is allowed; 3 of 5 (60%) is not.
    def quiz(longest: int) -> str:
        blocks = []
        for n in range(5):
            key = "The right answer, long" if n < longest else "Right"
            blocks.append(
                f"::Q{n}::Question {n}? {{\n={key}#Why.\n~Wrong one here#No.\n"
                f"~Another wrong#No.\n}}\n"
            )
        return "\n".join(blocks)

    assert lint_quiz(parse_gift(quiz(2)).questions, "q.gift") == []
    assert len(lint_quiz(parse_gift(quiz(3)).questions, "q.gift")) == 1


def test_true_false_keys_all_the_same_are_flagged():
    quiz = (
        "::T1::Asking for a 10 is fine. {FALSE#It is pressure.#Right.}\n\n"
        "::T2::Silence means satisfied. {FALSE#Not so.#Right.}\n"
    )
    warnings = lint_quiz(parse_gift(quiz).questions, "courses/x/quiz.gift")
    assert [str(w) for w in warnings] == [
        "courses/x/quiz.gift:1: all 2 true/false questions are keyed FALSE: a learner can pass "
        "them by always answering the same. Mix true and false statements"
    ]


def test_a_single_true_false_question_is_not_a_pattern():
    quiz = "::T1::Asking for a 10 is fine. {FALSE#It is pressure.#Right.}\n"
    assert lint_quiz(parse_gift(quiz).questions, "q.gift") == []


def test_an_option_twice_as_long_as_every_other_is_flagged(app, tmp_path):
    quiz = (
        BALANCED_QUIZ
        + """
::Long::A customer swears at the delay. What now? {
~Warn him#He escalates.
=Acknowledge the delay, say what you will do next, and ask him to keep it civil#Calm and clear.
~Walk away#He is left alone.
}
"""
    )
    write_course(tmp_path / "courses", "long-option", quiz=quiz)
    lines = warnings_of(check(app, tmp_path / "courses"))
    assert len(lines) == 1, lines
    assert lines[0].startswith(
        "courses/long-option/quiz.gift:26: warning: the option "
        "'Acknowledge the delay, say what you wil…' is more than 2 "
        "times as long as every other option"
    )


def test_a_matching_question_without_feedback_is_flagged():
    quiz = "::M::Match them. {\n=Refund -> Money back\n=Exchange -> Another item\n}\n"
    warnings = lint_quiz(parse_gift(quiz).questions, "courses/x/quiz.gift")
    assert [(w.line, "no feedback" in w.message) for w in warnings] == [(1, True)]


def test_a_clean_quiz_is_quiet():
    assert lint_quiz(parse_gift(BALANCED_QUIZ).questions, "q.gift") == []


# ------------------------------------------------------------------------ lessons


def lesson(body: str) -> Lesson:
    return Lesson("01-x.md", "X", body, first_line=3)


@pytest.mark.parametrize(
    ("text", "kind", "figure"),
    [
        ("About 68% of customers leave because of indifference.", "percentage", "68%"),
        ("Only 4 per cent ever complain.", "percentage", "4 per cent"),
        ("A lost customer costs €1,200 a year.", "amount of money", "€1,200"),
        ("It costs 500 euros to win one back.", "amount of money", "500 euros"),
        ('She said "sorry" and a lost customer costs €1,200.', "amount of money", "€1,200"),
        ("Only 1 in 26 unhappy customers complains.", "proportion", "1 in 26"),
        ("More than one in four felt pressured.", "proportion", "one in four"),
        ("A new customer costs 5 times more than keeping one.", "multiple", "5 times more"),
        ("A survey of 1,700 car buyers found the same.", "count", "1,700 car buyers"),
        ("The study covered 362 firms.", "count", "362 firms"),
        ("In one sample (n = 240) it held.", "count", "n = 240"),
    ],
)
def test_a_figure_without_a_source_on_its_line_is_flagged(text, kind, figure):
    warnings = lint_lesson(lesson(f"Intro line.\n\n{text}\n"), "courses/x/01-x.md")
    assert len(warnings) == 1, [str(w) for w in warnings]
    assert str(warnings[0]).startswith(
        f"courses/x/01-x.md:5: the {kind} '{figure}' names no source on its line"
    )


@pytest.mark.parametrize(
    "text",
    [
        "About 80% of 362 firms thought they were superior (Bain 2005, https://www.bain.com/x).",
        "80% of firms believed it (Allen, Reichheld, Hamilton & Markey 2005).",
        "Units in the top quarter score 10 % higher (Harter et al. 2002).",
        "A correlation across 7,939 business units (Harter, Schmidt & Hayes 2002, JAP 87:268).",
        "Under the Consumer Rights Act 2015 a refund for faulty goods within 30 days is a right.",
        "The fixed compensation is €250 under Regulation (EC) No 261/2004 for short flights.",
        "For example, you may give a goodwill credit of up to €30.",
        "Your €150 limit is an example; check your company's.",
        '- "On top of that, I\'d like to give you a £20 voucher, because you waited."',
        "> It costs £180 and takes an hour, so the car would still be ready at 5pm.",
        "1. Thank the customer.",
        "Step 3 is the apology.",
        "The car was promised for 17:00; at 15:30 you know it is late.",
        "In 2007 the site changed its survey.",
        "Scores run from 0 to 10, and a 10 is the top.",
        "Groups need at least 5 respondents and comments at least 10.",
        "It takes 5 minutes and you have 14 days to reply.",
        "Take notes: 3 things matter.",
    ],
)
def test_what_is_not_an_unsourced_figure_is_quiet(text):
    assert lint_lesson(lesson(f"{text}\n"), "x.md") == [], text


def test_a_footnote_with_a_source_counts_as_the_source():
    body = (
        "Customers rated 8% of firms as superior.[^bain]\n\n"
        "[^bain]: Allen et al. 2005, Bain & Company, https://www.bain.com/insights/x/\n"
    )
    assert lint_lesson(lesson(body), "x.md") == []


def test_an_undefined_or_unsourced_footnote_is_flagged():
    body = (
        "Customers rated 8% of firms as superior.[^bain]\n\n"
        "Most people (62%) agree.[^vague]\n\n"
        "[^vague]: A survey we saw somewhere.\n"
    )
    warnings = [str(w) for w in lint_lesson(lesson(body), "x.md")]
    assert (
        "x.md:3: footnote [^bain] is never defined: add a line '[^bain]: author, year, "
        "https://…'" in warnings
    )
    assert any(w.startswith("x.md:7: footnote [^vague] names no source") for w in warnings)
    assert any(w.startswith("x.md:5: the percentage '62%' names no source") for w in warnings)
    assert any(w.startswith("x.md:3: the percentage '8%' names no source") for w in warnings)


def test_numbers_in_code_blocks_are_not_figures():
    assert lint_lesson(lesson("```\n50% off\n```\n"), "x.md") == []


def test_lesson_warnings_point_at_the_line_in_the_file(app, tmp_path):
    lessons = {
        "01-start.md": "# Why it matters\n\n\nCustomers who complain **stay**.\n\n"
        "Only 4% of unhappy customers complain.\n",
        "02-listen.md": "# Listen first\n\n- Let them finish\n- Take notes\n",
    }
    write_course(tmp_path / "courses", "folklore", lessons=lessons)
    lines = warnings_of(check(app, tmp_path / "courses"))
    assert lines == [
        "courses/folklore/01-start.md:6: warning: the percentage '4%' names no "
        "source on its line: add the author and year, an https:// address or a "
        "footnote [^1] with the source"
    ]


# ------------------------------------------------------------------------ footnotes render


def test_footnotes_render_as_numbered_links_to_a_sources_list():
    html = str(
        render_markdown(
            "Customers rated 8% of firms superior.[^bain] Again.[^bain]\n\n"
            "[^bain]: Bain 2005, https://www.bain.com/x\n"
        )
    )
    assert '<sup class="footnote-ref"><a href="#fn1" id="fnref1" aria-label="Source 1"' in html
    assert 'id="fnref1:1" aria-label="Source 1" rel="noopener noreferrer">[1]</a>' in html
    assert '<section class="footnotes" aria-label="Sources">\n<h2>Sources</h2>' in html
    assert '<li id="fn1" class="footnote-item"><p>Bain 2005, https://www.bain.com/x' in html
    assert html.count('class="footnote-backref" aria-label="Back to the text"') == 2
    assert "[^bain]" not in html and "[1:1]" not in html


def test_only_footnote_ids_and_classes_survive_sanitizing():
    html = str(render_markdown("Hi[^x]\n\n[^x]: <b id=evil>Bain 2005</b>\n"))
    assert "evil" not in html.replace("&lt;b id=evil&gt;", "")
    from trainer.content import render_text

    quiz_html = str(
        render_text(
            '<a id="login" class="btn" href="#x">x</a><li id="fn1" class="footnote-item">y</li>',
            "html",
        )
    )
    assert 'id="login"' not in quiz_html and "btn" not in quiz_html
    assert 'id="fn1"' in quiz_html


# ------------------------------------------------------------------------ the CLI


def test_warnings_pass_without_strict_and_fail_with_it(app, tmp_path):
    write_course(tmp_path / "courses", "long-keys", quiz=LONGEST_KEY_QUIZ)
    relaxed = check(app, tmp_path / "courses")
    assert relaxed.exit_code == 0, relaxed.output
    assert "with 1 warning (errors with --strict)" in relaxed.output
    strict = check(app, tmp_path / "courses", "--strict")
    assert strict.exit_code == 1
    assert warnings_of(strict) == warnings_of(relaxed)
    assert "1 warning found; --strict treats warnings as errors" in strict.output


def test_a_clean_course_is_quiet_even_with_strict(app, tmp_path):
    lessons = {
        "01-start.md": "# Why it matters\n\nAbout 80% of firms thought they excelled "
        "(Bain 2005, https://www.bain.com/x).\n\n1. Listen\n2. Thank\n",
        "02-listen.md": "# Listen first\n\nRing at 15:30, not at 17:00.\n",
    }
    write_course(tmp_path / "courses", "clean-course", quiz=BALANCED_QUIZ, lessons=lessons)
    result = check(app, tmp_path / "courses", "--strict")
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output
    assert "Content OK (courses, scenarios)" in result.output


def test_problems_and_warnings_are_both_listed_and_fail(app, tmp_path):
    write_course(tmp_path / "courses", "long-keys", quiz=LONGEST_KEY_QUIZ)
    write_course(tmp_path / "courses", "broken", pass_mark=120)
    result = check(app, tmp_path / "courses")
    assert result.exit_code == 1
    assert "1 problem and 1 warning found." in result.output


def test_the_help_documents_the_rules(app):
    result = app.test_cli_runner().invoke(args=["content", "check", "--help"])
    assert "--strict" in result.output
    assert "Numbered steps, times, dates, years, durations" in " ".join(result.output.split())
    assert "- a matching question without feedback" in result.output


def test_shipped_content_passes_strict(app):
    result = app.test_cli_runner().invoke(args=["content", "check", "--strict"])
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output


# ------------------------------------------------------------------------ outside corpora


def test_lint_survives_every_gift_file_of_the_outside_corpus():
    files = sorted((CORPORA / "gift" / "gift-pegjs").glob("*.gift"))
    assert len(files) >= 50
    for path in files:
        questions = parse_gift(path.read_text(encoding="utf-8"), path.name).questions
        for warning in lint_quiz(questions, path.name):
            assert OUTPUT_LINE.match(str(warning)), str(warning)


def test_content_check_over_the_outside_corpora_does_not_crash(app, tmp_path):
    """Each corpus GIFT file becomes the quiz of a course, each Twee file a scenario, through
    symbolic links: the corpora are read where they are, never copied."""
    courses = tmp_path / "courses"
    courses.mkdir()
    (courses / "scenarios").symlink_to(CORPORA / "twee" / "extwee", target_is_directory=True)
    for path in sorted((CORPORA / "gift" / "gift-pegjs").glob("*.gift")):
        slug = re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-")
        folder = write_course(courses, slug, quiz="placeholder")
        (folder / "quiz.gift").unlink()
        (folder / "quiz.gift").symlink_to(path)
    for strict in ((), ("--strict",)):
        result = check(app, courses, *strict)
        assert result.exit_code in (0, 1), result.output
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            result.exception
        )
        lines = result.output.splitlines()
        assert lines and all(OUTPUT_LINE.match(line) for line in lines[:-1]), lines[:5]
        assert re.search(r"\d+ problems? .*found\.|warnings? found", lines[-1]), lines[-1]


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list("0123456789 ,.%€$£[]^:#*-()\nabnxAB=é")), max_size=300)
)
def test_the_lesson_lint_never_fails_and_points_inside_the_lesson(body):
    warnings = lint_lesson(lesson(body), "x.md")
    last_line = 3 + max(len(body.splitlines()), 1)
    assert all(3 <= w.line < last_line for w in warnings), [str(w) for w in warnings]
