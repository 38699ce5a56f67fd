"""A new employee takes a whole course on a phone: lessons, a failed quiz, a retry, a pass
and the certificate, with an accessibility check on every kind of page."""

import re
from pathlib import Path

from playwright.sync_api import expect

from tests.e2e.conftest import main_nav
from trainer.learn.loader import load_course

COURSES = Path(__file__).resolve().parents[2] / "trainer" / "courses"


def answer_quiz(page, questions, right: bool):
    """Answer every question on the quiz page; all right, or all wrong."""
    fieldsets = page.locator("fieldset.question")
    scorable = [q for q in questions if q.type != "description"]
    expect(fieldsets).to_have_count(len(scorable))  # waits for the page to load
    for n, question in enumerate(scorable):
        box = fieldsets.nth(n)
        if question.type == "mc":
            wanted = [a for a in question.answers if (a.fraction == 1) == right][:1]
        elif question.type == "multi":
            wanted = [a for a in question.answers if (a.fraction > 0) == right] or question.answers[
                :1
            ]
        if question.type in ("mc", "multi"):
            for answer in wanted:
                box.get_by_label(answer.text, exact=True).check()
        elif question.type == "truefalse":
            value = question.truefalse.correct == right
            box.get_by_label("True" if value else "False", exact=True).check()
        elif question.type == "matching":
            pairs = [m for m in question.matches if m.left]
            for i, match in enumerate(pairs):
                target = match.right if right else pairs[(i + 1) % len(pairs)].right
                box.get_by_label(match.left, exact=True).select_option(label=target)
        else:
            best = max(question.answers, key=lambda a: a.fraction)
            box.get_by_label("Your answer").fill(best.text if right else "I don't know")
    page.get_by_role("button", name="Submit my answers").click()


def test_new_employee_goes_from_login_to_certificate_on_a_phone(page, login, axe_check):
    login(page, "employee@example.com")
    main_nav(page).get_by_role("link", name="Learning").click()
    expect(page.get_by_role("heading", name="My learning", level=1)).to_be_visible()
    axe_check(page)

    assigned = page.locator("section", has=page.locator("#assigned"))
    card = assigned.locator("li.course-card", has_text="Not started").first
    link = card.get_by_role("link").first
    title = link.inner_text()
    link.click()
    slug = page.url.rstrip("/").rsplit("/", 1)[-1]
    course = load_course(COURSES / slug).course
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()
    axe_check(page)

    page.get_by_role("button", name="Start the course").click()
    expect(page.get_by_role("heading", name=course.lessons[0].title, level=1)).to_be_visible()
    expect(page.locator("progress")).to_be_visible()
    axe_check(page)
    page.get_by_role("button", name=re.compile("^Next:")).click()

    # Leave after lesson 2, come back from the course page and carry on where we stopped.
    page.get_by_role("button", name=re.compile("^(Next:|Go to the quiz)")).click()
    page.goto(f"/learn/courses/{slug}")
    if len(course.lessons) > 2:
        page.get_by_role("link", name="Continue: lesson 3").click()
        expect(page.get_by_role("heading", name=course.lessons[2].title)).to_be_visible()
        while "/quiz" not in page.url:
            page.get_by_role("button", name=re.compile("^(Next:|Go to the quiz)")).click()
    else:
        page.get_by_role("link", name="Take the quiz").click()

    expect(page.get_by_role("heading", name=f"Quiz: {title}")).to_be_visible()
    axe_check(page)
    page.get_by_role("button", name="Submit my answers").click()  # nothing answered yet
    expect(page.get_by_role("heading", name="Please answer every question")).to_be_visible()
    axe_check(page)
    answer_quiz(page, course.questions, right=False)
    expect(page.get_by_text("Not passed this time.")).to_be_visible()
    axe_check(page)

    page.get_by_role("link", name="Try again").click()
    answer_quiz(page, course.questions, right=True)
    expect(page.get_by_role("heading", name="Your result: 100%")).to_be_visible()
    expect(page.get_by_text("Your best result, which is the one that counts: 100%")).to_be_visible()

    page.get_by_role("link", name="See your certificate").click()
    certificate = page.locator("article.certificate")
    expect(certificate.get_by_text(title, exact=True)).to_be_visible()
    code = certificate.locator("code").inner_text()
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", code)
    axe_check(page)
    page.emulate_media(media="print")
    assert not page.locator("header.site-header").is_visible()
    assert not page.get_by_role("button", name="Print or save as PDF").is_visible()
    expect(certificate).to_be_visible()
    page.emulate_media(media="screen")

    page.goto(f"/learn/verify?code={code}")
    expect(page.get_by_text(re.compile(r"^✓ Valid( until \d{1,2} \w+ \d{4})?\.$"))).to_be_visible()
    axe_check(page)


def test_managers_and_hr_see_completion_and_item_analysis(page, login, axe_check):
    login(page, "hr@example.com")
    main_nav(page).get_by_role("link", name="Training reports").click()
    expect(page.get_by_role("heading", name="Training completion")).to_be_visible()
    axe_check(page)
    page.get_by_role("link", name="Northwind Motor Group", exact=True).click()
    expect(page.get_by_role("table").first).to_be_visible()
    axe_check(page)
    page.goto("/learn/assignments")
    axe_check(page)
    page.goto("/learn/analysis")
    page.get_by_role("link").filter(has_text="Complaints are a gift").click()
    expect(page.get_by_role("columnheader", name="Most-chosen wrong answer")).to_be_visible()
    axe_check(page)


def test_a_lesson_footnote_links_to_its_source_and_back(page, login, axe_check):
    login(page, "employee@example.com")
    page.goto("/learn/courses/the-score-is-not-the-service/lessons/1")
    references = page.locator("article.lesson sup.footnote-ref a")
    expect(references.first).to_have_text("[1]")
    references.first.click()
    sources = page.get_by_role("region", name="Sources")
    expect(sources).to_contain_text("https://www.genroe.com/blog/")
    back = sources.get_by_role("link", name="Back to the text").first
    expect(back).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    axe_check(page)
    back.click()
    assert page.url.endswith("#fnref1")
