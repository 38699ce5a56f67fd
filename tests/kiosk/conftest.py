"""Kiosk helpers: people without email, a printed sheet of cards, signing in with a code."""

import re

import pytest
from sqlmodel import select

from tests.pulse.conftest import staffed, start_cycle  # noqa: F401  (fixtures used here too)
from trainer.auth.models import User

CODE = re.compile(r'<p class="card-code">([A-Z0-9]{4}-[A-Z0-9]{4})</p>')


@pytest.fixture
def no_email(session, org):
    """Three people without email in T1 and one in T3."""
    people = []
    for n, unit in enumerate([org.t1, org.t1, org.t1, org.t3], start=1):
        person = User(employee_number=f"W-{n}", name=f"Worker {n}", unit_id=unit.id)
        session.add(person)
        people.append(person)
    session.commit()
    return people


@pytest.fixture
def print_cards(client, login_as):
    """Sign in as `by`, print the sheet for `unit`, sign out; return {name: code}."""

    def run(by, unit, **data):
        login_as(by)
        response = client.post(f"/kiosk/cards/{unit.id}", data=data)
        assert response.status_code == 200, response.status_code
        html = response.get_data(as_text=True)
        names = re.findall(r'<p class="card-name">([^<]+)</p>', html)
        client.post("/auth/logout")
        return dict(zip(names, CODE.findall(html), strict=True))

    return run


@pytest.fixture
def sign_in_with(client):
    def run(code):
        return client.post("/kiosk/", data={"code": code})

    return run


def holder(session, name):
    return session.exec(select(User).where(User.name == name)).one()
