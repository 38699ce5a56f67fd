"""Every lesson in the library fits a 390 px phone: nothing, not even a long plain URL,
pushes the page sideways. The new courses' lessons and quizzes also pass axe-core."""

from pathlib import Path

from playwright.sync_api import expect

from trainer.learn.loader import load_course

COURSES = Path(__file__).resolve().parents[2] / "trainer" / "courses"
NEW_COURSES = {"customers-who-need-more", "rights-and-goodwill", "written-service"}
WIDER_THAN_PHONE = """() => [...document.querySelectorAll('main *')]
    .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
    .map(e => e.tagName + ': ' + e.textContent.slice(0, 60))"""


def test_every_lesson_fits_a_phone(page, login, axe_check):
    login(page, "employee@example.com")
    folders = sorted(p.parent for p in COURSES.glob("*/course.yaml"))
    assert NEW_COURSES.issubset({f.name for f in folders})
    for folder in folders:
        course = load_course(folder).course
        for n, lesson in enumerate(course.lessons, 1):
            page.goto(f"/learn/courses/{folder.name}/lessons/{n}")
            expect(page.get_by_role("heading", name=lesson.title, level=1)).to_be_visible()
            assert page.evaluate("document.documentElement.scrollWidth") <= 390, page.url
            assert page.evaluate(WIDER_THAN_PHONE) == [], page.url
            if folder.name in NEW_COURSES:
                axe_check(page)
        if folder.name in NEW_COURSES:
            page.goto(f"/learn/courses/{folder.name}/quiz")
            expect(page.get_by_role("heading", name=f"Quiz: {course.title}")).to_be_visible()
            assert page.evaluate("document.documentElement.scrollWidth") <= 390, page.url
            axe_check(page)
