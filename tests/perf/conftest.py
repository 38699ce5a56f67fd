"""A demo organisation, the hot pages to load on it, and a recorder of the SQL they run."""

from contextlib import contextmanager
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from trainer.auth.models import User
from trainer.demo import DEMO_PASSWORD, build_demo
from trainer.learn.models import Course
from trainer.pulse.models import PulseCycle
from trainer.pulse.programmes import cycle_items
from trainer.scenarios.models import Scenario

SMALL, LARGE = 60, 180  # demo employees; the large demo has about three times the people


@dataclass
class Statement:
    sql: str
    parameters: object


@contextmanager
def recorded_statements(engine: sa.Engine):
    """Yield a list that fills with every statement the engine runs, with its parameters."""
    statements: list[Statement] = []

    def record(_conn, _cursor, sql, parameters, _context, executemany):
        if executemany:  # one plan serves every row; explain it with the first
            parameters = parameters[0] if parameters else None
        statements.append(Statement(sql, parameters))

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


@dataclass
class Page:
    name: str
    role: str
    path: str
    form: dict | None = None  # a POST with this form data; otherwise a GET


class DemoSite:
    """The demo organisation loaded into the test app, and its hot pages."""

    def __init__(self, app, session: Session, employees: int):
        self.app, self.session = app, session
        self.demo = build_demo(app, session, employees=employees)
        session.commit()
        self.engine = app.extensions["trainer.engine"]

    def user(self, role: str) -> User:
        email = self.demo.logins[role]
        return self.session.exec(select(User).where(User.email == email)).one()

    def client_for(self, role: str):
        client = self.app.test_client()
        response = client.post(
            "/auth/login", data={"email": self.demo.logins[role], "password": DEMO_PASSWORD}
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    def pages(self) -> list[Page]:
        """Return the hot pages; scenario play and survey submit need a little setup first."""
        session = self.session
        team = self.user("employee").unit_id
        site = self.user("manager").unit_id
        course = session.exec(
            select(Course).where(Course.retired.is_(False)).order_by(Course.id)
        ).first()
        return [
            Page("home (employee)", "employee", "/"),
            Page("home (manager)", "manager", "/"),
            Page("home (hr)", "hr", "/"),
            Page("home (admin)", "admin", "/"),
            Page("team results", "manager", f"/pulse/results/{team}"),
            Page("site results", "manager", f"/pulse/results/{site}"),  # shows comments
            Page("insights (company)", "hr", f"/insights/units/{self.demo.company.id}"),
            Page("insights (site)", "manager", f"/insights/units/{site}"),
            Page("lesson", "employee", f"/learn/courses/{course.slug}/lessons/1"),
            Page("scenario play", "employee", self._new_play_path()),
            Page("survey submit", "employee", *self._survey_submit()),
            Page("my fixes", "employee", "/fixes/"),
            Page("team fixes", "manager", "/fixes/team"),
        ]

    def _new_play_path(self) -> str:
        scenario = self.session.exec(
            select(Scenario).where(Scenario.retired_at.is_(None)).order_by(Scenario.id)
        ).first()
        response = self.client_for("employee").post(
            f"/scenarios/{scenario.slug}/start", data={"mode": "practice"}
        )
        assert response.status_code == 303, response.get_data(as_text=True)
        return response.location

    def _survey_submit(self) -> tuple[str, dict]:
        cycle = self.session.exec(select(PulseCycle).where(PulseCycle.status == "open")).one()
        form = {
            f"item-{i.id}": ("8" if i.kind == "enps" else "4")
            for i in cycle_items(cycle, session=self.session)
        }
        form["comment"] = "The new rota helps."
        return f"/pulse/cycles/{cycle.id}/answer", form

    def load(self, page: Page) -> list[Statement]:
        """Request the page as its role; return the statements the request ran."""
        client = self.client_for(page.role)
        with recorded_statements(self.engine) as statements:
            if page.form is None:
                response = client.get(page.path)
            else:
                response = client.post(page.path, data=page.form)
        assert response.status_code == (200 if page.form is None else 302), page.name
        return statements


@pytest.fixture
def demo_site(app, session):
    """The small demo organisation in the test app."""
    return DemoSite(app, session, SMALL)
