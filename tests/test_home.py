"""Each role's home page: open tasks first, then the figures that matter, each with its n."""

from datetime import timedelta

from babel.dates import format_date

from tests.insights.conftest import PERIODS, history  # noqa: F401 (a fixture)
from trainer.insights import store
from trainer.learn.models import Assignment
from trainer.org.models import PeopleImport
from trainer.scheduler import JobRun
from trainer.util import utcnow


def _home(client) -> str:
    response = client.get("/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _parts(page: str) -> tuple[str, str]:
    tasks, rest = page.split('id="home-todo"', 1)[1].split('id="home-figures"', 1)
    return tasks, rest.split('id="home-links"', 1)[0]


def test_tasks_come_before_figures_and_links(client, login_as, org):
    login_as(org.employee)
    page = _home(client)
    assert (
        page.index('id="home-todo"')
        < page.index('id="home-figures"')
        < page.index('id="home-links"')
    )


def test_managers_see_morale_the_customer_measure_and_training_with_their_n(
    client,
    login_as,
    history,  # noqa: F811
    session,
):
    login_as(history.manager)
    tasks, figures = _parts(_home(client))
    # what insights shows
    view = store.overview_for(session=session, metric="csi", unit=history.s1)
    morale = view["morale"]
    assert f'<h3 id="home-team-{history.s1.id}">{history.s1.name}</h3>' in figures
    assert "Morale (1–5)" in figures
    assert f"{morale['value']:.2f}" in figures and f"n = {morale['n']} answers" in figures
    assert f'data-unit="{history.s1.id}" data-n="{morale["n"]}"' in figures
    change = morale["change"]
    word = "Up" if change > 0 else "Down"
    assert f"{word} {abs(change):.2f} since {morale['since']}" in figures
    measure = view["measure"]
    assert view["chart"]["metric_label"] in figures
    assert f"{measure['value']:.1f}" in figures and f"n = {measure['n']} customers" in figures
    assert f'href="/insights/units/{history.s1.id}"' in figures
    assert f'href="/pulse/results/{history.s1.id}"' in figures
    # A manager sees no gaming flags, and no unit outside their scope.
    assert "gaming flag" not in tasks and history.s2.name not in figures


def test_hr_sees_gaming_flags_and_units_without_commitment(client, login_as, history):  # noqa: F811
    login_as(history.hr)
    tasks, _ = _parts(_home(client))
    # The home page never runs the analysis itself: until the overview has, it says so.
    assert "Gaming flags not checked yet" in tasks and "gaming flags to look into" not in tasks
    assert f'href="/insights/units/{history.company.id}?metric=csi"' in tasks
    assert client.get(f"/insights/units/{history.company.id}").status_code == 200
    tasks, _ = _parts(_home(client))
    assert "not checked yet" not in tasks
    assert "gaming flags to look into</strong> (CSI), on 1 unit:\n    T3." in tasks
    assert "not an accusation" in tasks
    assert f'href="/insights/units/{history.company.id}/detail?metric=csi#flags-h"' in tasks
    assert "with results out but no action plan yet" in tasks


def test_hr_sees_imports_that_failed(client, login_as, org, session):
    session.add(
        PeopleImport(
            created_by=org.hr.id, filename="staff.csv", data=b"", status="failed", error_count=3
        )
    )
    session.add(
        PeopleImport(
            created_by=org.hr.id,
            filename="old.csv",
            data=b"",
            status="failed",
            error_count=1,
            created_at=utcnow() - timedelta(days=30),
        )
    )
    session.add(PeopleImport(created_by=org.hr.id, filename="fine.csv", data=b"", status="done"))
    session.commit()
    login_as(org.hr)
    tasks, _ = _parts(_home(client))
    assert "People import failed:</strong> staff.csv" in tasks and "3 problems" in tasks
    assert "old.csv" not in tasks and "fine.csv" not in tasks
    login_as(org.manager)
    assert "People import failed" not in _home(client)


def test_admins_see_system_status(client, login_as, org, session):
    now = utcnow()
    session.add(
        JobRun(
            name="pulse-open",
            holder="sched-1",
            started_at=now - timedelta(hours=1),
            finished_at=now - timedelta(hours=1),
            error="boom",
        )
    )
    session.add(JobRun(name="mail-outbox", holder="sched-1", started_at=now, finished_at=now))
    session.commit()
    login_as(org.admin)
    tasks, figures = _parts(_home(client))
    assert "The scheduler is not running." in tasks
    assert "Job failed:</strong> Open surveys on their day" in tasks
    assert (
        f'Last job started <time datetime="{now.replace(tzinfo=None).isoformat()}' in figures
        or f'Last job started <time datetime="{now.isoformat()}' in figures
    )
    kind = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[session.get_bind().dialect.name]
    assert f"Database:</strong> {kind}." in figures
    assert "Email:</strong> 0 waiting, 0 failed, 0 sent." in figures
    assert "Send queued email: <time" in figures and "OK" in figures
    # Admin gets HR's tasks too; HR does not get the system panel.
    login_as(org.hr)
    assert "Scheduler:" not in _home(client)


def test_employees_see_neither_system_nor_hr_tasks(client, login_as, org):
    login_as(org.employee)
    page = _home(client)
    for text in (
        "Scheduler:",
        "gaming flag",
        "People import",
        "no commitment",
        "Programmes and cycles",
    ):
        assert text not in page


def test_roles_read_hr_not_hr_lowercase(client, login_as, org):
    login_as(org.hr)
    assert "Signed in as Employee, HR." in _home(client)
    people = client.get("/org/people").get_data(as_text=True)
    assert "<td>Employee, HR</td>" in people and "Hr" not in people
    person = client.get(f"/org/people/{org.hr.id}").get_data(as_text=True)
    assert "> HR</label>" in person or ">HR</label>" in person
    assert "Hr<" not in person


def test_courses_due_are_named_with_their_due_date(client, login_as, org, session):
    from trainer.learn.models import Course, CourseVersion

    today = utcnow().date()
    titles = [
        "Owning the problem",
        "Complaints are a gift",
        "Service under pressure",
        "Putting your people first",
    ]
    for n, title in enumerate(titles):
        course = Course(slug=f"c{n}")
        session.add(course)
        session.flush()
        version = CourseVersion(
            course_id=course.id,
            content_hash=f"h{n}",
            title=title,
            summary="",
            audience="all",
            estimated_minutes=5,
            pass_mark=80,
        )
        session.add(version)
        session.flush()
        course.current_version_id = version.id
        session.add(
            Assignment(
                course_id=course.id, unit_id=org.company.id, due_on=today + timedelta(days=n - 1)
            )
        )
    session.commit()
    login_as(org.employee)
    tasks, _ = _parts(_home(client))
    due = today - timedelta(days=1)
    assert (
        f"<strong>Owning the problem</strong>: <strong>overdue</strong>, was due "
        f"{format_date(due, 'long', locale='en')}" in tasks
    )
    due_today = format_date(today, "long", locale="en")
    assert f"<strong>Complaints are a gift</strong>: due {due_today}." in tasks
    assert "Putting your people first" not in tasks and "1 more course due" in tasks
