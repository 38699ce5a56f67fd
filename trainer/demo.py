"""`flask demo`: a realistic demo organisation, a car-dealer group with a call centre.

Features add their own history (pulse cycles, outcomes, training) with `add_demo_step`.
"""

import logging
import random
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import islice

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlmodel import Session, func, select
from werkzeug.utils import import_string

from trainer.access import Role, parse_roles
from trainer.auth.models import User, new_session_token
from trainer.auth.services import hash_password
from trainer.org.models import ManagedUnit, OrgUnit
from trainer.org.services import create_unit
from trainer.util import utcnow

log = logging.getLogger("trainer.demo")
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
    "dealer": [
        ("SALES", "Sales", 1.2),
        ("SVC", "Service desk", 1.0),
        ("WSHOP", "Workshop", 1.3),
        ("PARTS", "Parts counter", 0.45),
    ],
    "call": [
        ("IN1", "Inbound calls 1", 1.6),
        ("IN2", "Inbound calls 2", 1.6),
        ("CARE", "Customer relations", 0.9),
    ],
}
FIRST = (
    "Amara Ben Chen Dana Elif Farah Gavin Hana Ivan Jonas Kemi Liam Maya Nikos Olu Priya "
    "Quinn Rosa Sami Tomas Uma Vera Wei Yusuf Zofia Aisha Bruno Carla Deniz Emil Freya "
    "Goran Ines Jamal Kasia Leon Mei Nadia Omar Paula Rahul Sofia Theo Yara"
).split()
LAST = (
    "Okafor Smith Nowak Haddad Kowalski Silva Jensen Murphy Rossi Chen Patel Adeyemi "
    "Novak Schmidt Garcia Ahmed Kaya Lund Moreau Tanaka Walsh Ivanova Mensah Costa "
    "Fischer Brennan Said Horvat Duarte Nyström"
).split()


@dataclass
class DemoOrg:
    company: OrgUnit
    regions: list[OrgUnit] = field(default_factory=list)
    sites: list[OrgUnit] = field(default_factory=list)
    teams: list[OrgUnit] = field(default_factory=list)
    logins: dict[str, str] = field(default_factory=dict)  # role -> email
    rng: random.Random = field(default_factory=lambda: random.Random(2026))


BULK_BATCH = 20_000  # rows per executemany where COPY is not available


def add_demo_step(app: Flask, func: str) -> None:
    """Run `func(session=..., demo=DemoOrg)` after the demo organisation is built. `func` is
    named ("package.module:function") and imported only then, so web workers never load the
    demo builders or numpy."""
    app.extensions.setdefault("trainer.demo_steps", []).append(func)


def add_serve_step(app: Flask, func: str) -> None:
    """Run `func(session=...)` once `flask demo` has loaded and saved the demo, to have it
    ready to serve (named and imported like a demo step). Tests that build the demo in their
    own process skip these."""
    app.extensions.setdefault("trainer.demo_serve_steps", []).append(func)


def bulk_write(table, columns: tuple[str, ...], rows: Iterable, *, session: Session) -> int:
    """Insert `rows` (tuples in `columns` order) into `table`; return how many were written.

    PostgreSQL gets one COPY, other databases batched executemany. Rows are streamed, so a
    generator keeps memory flat however many there are. Values are converted as SQLAlchemy
    would (JSON columns take Python objects, dates and times become text on SQLite). A
    generator must not query the session: on PostgreSQL its connection is busy with the COPY.
    """
    table = getattr(table, "__table__", table)
    connection = session.connection()
    dialect = connection.dialect
    processors = [
        (index, processor)
        for index, name in enumerate(columns)
        if (processor := table.c[name].type._cached_bind_processor(dialect))
    ]

    def converted(row):
        if not processors:
            return row
        row = list(row)
        for index, processor in processors:
            if row[index] is not None:
                row[index] = processor(row[index])
        return tuple(row)

    count = 0
    if dialect.name == "postgresql":
        with (
            connection.connection.driver_connection.cursor() as cursor,
            cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(converted(row))
                count += 1
        return count
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    sql = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) "  # noqa: S608
        f"VALUES ({', '.join([mark] * len(columns))})"
    )
    rows = iter(rows)
    while batch := [converted(row) for row in islice(rows, BULK_BATCH)]:
        connection.exec_driver_sql(sql, batch)
        count += len(batch)
    return count


def next_id(model, *, session: Session) -> int:
    """Return the first id after the table's highest, for rows written with their ids."""
    return (session.exec(select(func.max(model.id))).one() or 0) + 1


def people_in_batches(*columns, session: Session, batch: int = BULK_BATCH):
    """Yield (id, unit id, *columns) of each person in a unit, by id, reading a batch at a
    time so that a million people never sit in memory at once."""
    after = 0
    while rows := session.exec(
        select(User.id, User.unit_id, *columns)
        .where(User.unit_id.is_not(None), User.id > after)
        .order_by(User.id)
        .limit(batch)
    ).all():
        yield from rows
        after = rows[-1][0]


def fix_sequence(model, *, session: Session) -> None:
    """On PostgreSQL, move the id sequence past ids written with `bulk_write`."""
    if session.get_bind().dialect.name != "postgresql":
        return
    table = model.__tablename__
    session.execute(
        sa.text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
            f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
        )
    )


def build_org(employees: int = 300, seed: int = 2026, *, session: Session) -> DemoOrg:
    """Create the demo tree and about `employees` people in it."""
    company = create_unit(
        session=session, code="NMG", name="Northwind Motor Group", kind="company", parent=None
    )
    demo = DemoOrg(company=company, rng=random.Random(seed))
    regions = {}
    for region in ("North", "South"):
        regions[region] = create_unit(
            session=session,
            code=f"R-{region[0]}",
            name=f"{region} region",
            kind="region",
            parent=company,
        )
        demo.regions.append(regions[region])
    weights = []
    for region, code, name, kind in SITES:
        site = create_unit(
            session=session, code=code, name=name, kind="site", parent=regions[region]
        )
        demo.sites.append(site)
        for team_code, team_name, weight in TEAMS[kind]:
            team = create_unit(
                session=session,
                code=f"{code}-{team_code}",
                name=f"{name}: {team_name}",
                kind="team",
                parent=site,
            )
            demo.teams.append(team)
            weights.append(weight)
    session.flush()
    # A cheap shared hash: every demo person signs in with DEMO_PASSWORD.
    password_hash = hash_password(DEMO_PASSWORD)
    first_id = next_id(User, session=session)
    managers_by_unit = {}  # unit id -> user id

    def people():
        """Yield a leader and the members of each team, then a manager per site and region."""
        total_weight = sum(weights)
        for team, weight in zip(demo.teams, weights, strict=True):
            size = max(3, round(employees * 0.95 * weight / total_weight))
            yield team, "employee,manager"
            for _ in range(size - 1):
                yield team, "employee"
        for unit in [*demo.sites, *demo.regions]:
            yield unit, "employee,manager"

    now, rng = utcnow(), demo.rng

    def rows():
        for user_id, (unit, roles) in enumerate(people(), start=first_id):
            if roles == "employee,manager":
                managers_by_unit[unit.id] = user_id
            first, last = rng.choice(FIRST), rng.choice(LAST)
            yield (
                user_id,
                f"{first}.{last}.{user_id - first_id + 1}@{DEMO_DOMAIN}".lower(),
                f"{first} {last}",
                roles,
                unit.id,
                password_hash,
                True,
                new_session_token(),
                now,
            )

    bulk_write(
        User,
        (
            "id",
            "email",
            "name",
            "roles",
            "unit_id",
            "password_hash",
            "active",
            "session_token",
            "created_at",
        ),
        rows(),
        session=session,
    )
    fix_sequence(User, session=session)
    for unit_id, user_id in managers_by_unit.items():
        session.add(ManagedUnit(user_id=user_id, unit_id=unit_id))

    # The named demo logins.
    first_team = demo.teams[1]  # Leeds service desk
    named = {
        "employee": ("employee", first_team, "employee"),
        "manager": ("manager", demo.sites[0], "employee,manager"),
        "hr": ("hr", company, "employee,hr"),
        "admin": ("admin", company, "admin"),
    }
    for role, (local, unit, roles) in named.items():
        first, last = rng.choice(FIRST), rng.choice(LAST)
        user = User(
            email=f"{local}@{DEMO_DOMAIN}",
            name=f"{first} {last}",
            roles=roles,
            unit_id=unit.id,
            password_hash=password_hash,
        )
        session.add(user)
        demo.logins[role] = user.email
        session.flush()
        if Role.MANAGER in parse_roles(roles):
            session.add(ManagedUnit(user_id=user.id, unit_id=unit.id))
    session.flush()
    return demo


def build_demo(app: Flask, session: Session, employees: int = 300, seed: int = 2026) -> DemoOrg:
    started, cpu = time.perf_counter(), time.process_time()
    demo = build_org(session=session, employees=employees, seed=seed)
    log.info(
        "Demo people: %d in %.0f s (%.0f s CPU here).",
        employees,
        time.perf_counter() - started,
        time.process_time() - cpu,
    )
    for name in app.extensions.get("trainer.demo_steps", []):
        step = import_string(name)
        started, cpu = time.perf_counter(), time.process_time()
        step(session=session, demo=demo)
        log.info(
            "Demo step %s.%s: %.0f s (%.0f s CPU here).",
            step.__module__,
            step.__name__,
            time.perf_counter() - started,
            time.process_time() - cpu,
        )
    return demo


@click.command("demo")
@with_appcontext
@click.option(
    "--employees",
    default=300,
    show_default=True,
    type=click.IntRange(30, 2_000_000),
    help="About how many people to create.",
)
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
    app = current_app._get_current_object()
    demo = build_demo(app, session, employees=employees)
    session.commit()
    for name in app.extensions.get("trainer.demo_serve_steps", []):
        import_string(name)(session=session)
        session.commit()
    people = session.exec(select(func.count()).select_from(User)).one()
    click.echo(
        f"Demo organisation loaded: {len(demo.sites)} sites, {len(demo.teams)} teams, "
        f"{people} people."
    )
    click.echo(f"Sign in at /auth/login with password '{DEMO_PASSWORD}' as:")
    for role, email in demo.logins.items():
        click.echo(f"  {role:<9} {email}")


def init_app(app: Flask) -> None:
    app.cli.add_command(demo_command)
