"""`flask demo`: a realistic demo organisation, a car-dealer group with a call centre.

Features add their own history (pulse cycles, outcomes, training) with `add_demo_step`.
"""

import random
from dataclasses import dataclass, field

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlmodel import Session, func, select

from trainer.auth.models import User
from trainer.auth.services import hash_password
from trainer.org.models import ManagedUnit, OrgUnit
from trainer.org.services import create_unit

DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 (demo data only)
DEMO_DOMAIN = "example.com"
SITES = [  # (region, code, name, kind of site)
    ("North", "LEEDS", "Leeds Motors", "dealer"),
    ("North", "YORK", "York Motors", "dealer"),
    ("North", "HULL", "Hull Motors", "dealer"),
    ("North", "CC", "Customer Contact Centre", "call"),
    ("South", "BRIS", "Bristol Motors", "dealer"),
    ("South", "BATH", "Bath Motors", "dealer"),
    ("South", "EXE", "Exeter Motors", "dealer"),
    ("South", "PLY", "Plymouth Motors", "dealer"),
]
TEAMS = {
    "dealer": [("SALES", "Sales", 1.2), ("SVC", "Service desk", 1.0),
               ("WSHOP", "Workshop", 1.3), ("PARTS", "Parts counter", 0.45)],
    "call": [("IN1", "Inbound calls 1", 1.6), ("IN2", "Inbound calls 2", 1.6),
             ("CARE", "Customer relations", 0.9)],
}
FIRST = ("Amara Ben Chen Dana Elif Farah Gavin Hana Ivan Jonas Kemi Liam Maya Nikos Olu Priya "
         "Quinn Rosa Sami Tomas Uma Vera Wei Yusuf Zofia Aisha Bruno Carla Deniz Emil Freya "
         "Goran Ines Jamal Kasia Leon Mei Nadia Omar Paula Rahul Sofia Theo Yara").split()
LAST = ("Okafor Smith Nowak Haddad Kowalski Silva Jensen Murphy Rossi Chen Patel Adeyemi "
        "Novak Schmidt Garcia Ahmed Kaya Lund Moreau Tanaka Walsh Ivanova Mensah Costa "
        "Fischer Brennan Said Horvat Duarte Nyström").split()


@dataclass
class DemoOrg:
    company: OrgUnit
    regions: list[OrgUnit] = field(default_factory=list)
    sites: list[OrgUnit] = field(default_factory=list)
    teams: list[OrgUnit] = field(default_factory=list)
    logins: dict[str, str] = field(default_factory=dict)  # role -> email
    rng: random.Random = field(default_factory=lambda: random.Random(2026))


def add_demo_step(app: Flask, func) -> None:
    """Run `func(session=..., demo=DemoOrg)` after the demo organisation is built."""
    app.extensions.setdefault("trainer.demo_steps", []).append(func)


def _person(session, demo, password_hash, n, unit, roles, email=None):
    rng = demo.rng
    first, last = rng.choice(FIRST), rng.choice(LAST)
    user = User(email=email or f"{first}.{last}.{n}@{DEMO_DOMAIN}".lower(),
                name=f"{first} {last}", roles=roles, unit_id=unit.id,
                password_hash=password_hash)
    session.add(user)
    return user


def build_org(session: Session, employees: int = 300, seed: int = 2026) -> DemoOrg:
    """Create the demo tree and about `employees` people in it."""
    company = create_unit(session, code="NMG", name="Northwind Motor Group", kind="company",
                          parent=None)
    demo = DemoOrg(company=company, rng=random.Random(seed))
    regions = {}
    for region in ("North", "South"):
        regions[region] = create_unit(session, code=f"R-{region[0]}", name=f"{region} region",
                                      kind="region", parent=company)
        demo.regions.append(regions[region])
    weights = []
    for region, code, name, kind in SITES:
        site = create_unit(session, code=code, name=name, kind="site", parent=regions[region])
        demo.sites.append(site)
        for team_code, team_name, weight in TEAMS[kind]:
            team = create_unit(session, code=f"{code}-{team_code}", name=f"{name}: {team_name}",
                               kind="team", parent=site)
            demo.teams.append(team)
            weights.append(weight)
    # A cheap shared hash: every demo person signs in with DEMO_PASSWORD.
    password_hash = hash_password(DEMO_PASSWORD)
    total_weight = sum(weights)
    n = 0
    managers_by_unit = {}
    for team, weight in zip(demo.teams, weights, strict=True):
        size = max(3, round(employees * 0.95 * weight / total_weight))
        leader = _person(session, demo, password_hash, n := n + 1, team, "employee,manager")
        managers_by_unit[team.id] = leader
        for _ in range(size - 1):
            _person(session, demo, password_hash, n := n + 1, team, "employee")
    for unit in [*demo.sites, *demo.regions]:
        managers_by_unit[unit.id] = _person(session, demo, password_hash, n := n + 1, unit,
                                            "employee,manager")
    session.flush()
    for unit_id, manager in managers_by_unit.items():
        session.add(ManagedUnit(user_id=manager.id, unit_id=unit_id))

    # The named demo logins.
    first_team = demo.teams[1]  # Leeds service desk
    named = {
        "employee": ("employee", first_team, "employee"),
        "manager": ("manager", demo.sites[0], "employee,manager"),
        "hr": ("hr", company, "employee,hr"),
        "admin": ("admin", company, "admin"),
    }
    for role, (local, unit, roles) in named.items():
        user = _person(session, demo, password_hash, 0, unit, roles,
                       email=f"{local}@{DEMO_DOMAIN}")
        demo.logins[role] = user.email
        session.flush()
        if role == "manager":
            session.add(ManagedUnit(user_id=user.id, unit_id=unit.id))
    session.flush()
    return demo


def build_demo(app: Flask, session: Session, employees: int = 300, seed: int = 2026) -> DemoOrg:
    demo = build_org(session, employees=employees, seed=seed)
    for step in app.extensions.get("trainer.demo_steps", []):
        step(session=session, demo=demo)
    return demo


@click.command("demo")
@with_appcontext
@click.option("--employees", default=300, show_default=True, type=click.IntRange(30, 200_000),
              help="About how many people to create.")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has people.")
def demo_command(employees, if_empty):
    """Load the demo organisation with several years of history."""
    from trainer.db import db_session

    session = db_session()
    if session.exec(select(func.count()).select_from(User)).one():
        if if_empty:
            click.echo("The database already has people; demo data not loaded.")
            return
        raise click.UsageError("The database already has people. Use an empty database.")
    demo = build_demo(current_app._get_current_object(), session, employees=employees)
    session.commit()
    people = session.exec(select(func.count()).select_from(User)).one()
    click.echo(f"Demo organisation loaded: {len(demo.sites)} sites, {len(demo.teams)} teams, "
               f"{people} people.")
    click.echo(f"Sign in at /auth/login with password '{DEMO_PASSWORD}' as:")
    for role, email in demo.logins.items():
        click.echo(f"  {role:<9} {email}")


def init_app(app: Flask) -> None:
    app.cli.add_command(demo_command)
