"""Every trainer path beside its floor: one ratio table, written by one command.

Serves the demo organisation with trainer and the bare floor app (benchmarks/floor/app.py) on
the same gunicorn setup (gthread, 2 workers × 4 threads) at the same time, and measures each
path against its matched floor path in alternating rounds (benchmarks/ratio.py):

- survey submit, quiz submit ↔ one insert (throughput, from --write-clients threads);
- lesson page ↔ hello;
- home pages, insights overview and dashboard, team results pages ↔ one indexed read
  (p95, from --read-clients threads).

    .venv/bin/python benchmarks/ratios.py --build 10000 --write benchmarks/results/ratios.md
    .venv/bin/python benchmarks/ratios.py --build 10000 \
        --database-url postgresql://postgres@127.0.0.1:5432/bench_floor \
        --write benchmarks/results/ratios-postgresql.md

Without --build the database from an earlier run is used; each run submits the survey for
new people, so a reused database runs out of them after a few runs (--build again then).
"""

import argparse
import os
import platform
import random
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))

from learn_bench import QuizForm  # noqa: E402
from machine import cpu_model  # noqa: E402
from ratio import (  # noqa: E402
    FOLDER,
    ROOT,
    SEAL,
    SECRET,
    THREADS,
    WORKERS,
    Connection,
    Pair,
    Person,
    floor_hello,
    floor_insert,
    floor_read,
    measure,
    serve_floor,
    serve_trainer,
    setup_floor,
    table,
    trainer_env,
    write_seal_keys,
)

sys.path.insert(0, str(ROOT))

from sqlmodel import Session, select  # noqa: E402

from tests.pulse.live import survey_form  # noqa: E402
from trainer import create_app  # noqa: E402
from trainer.auth.models import User  # noqa: E402
from trainer.db import import_all_models  # noqa: E402
from trainer.learn.models import Course  # noqa: E402
from trainer.org.models import OrgUnit  # noqa: E402
from trainer.pulse.models import PulseCycle, PulseInvitation, SurveyParticipation  # noqa: E402
from trainer.pulse.programmes import cycle_items  # noqa: E402
from trainer.pulse.results import closed_cycles  # noqa: E402

ROLES = ("employee", "manager", "hr", "admin")


def make_app(url: str):
    """Return an in-process app on the database, to query it and sign session cookies."""
    write_seal_keys()
    return create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": SECRET,
            "SEAL_PUBLIC_KEY_FILE": str(SEAL / "public.key"),
            "SEAL_PRIVATE_KEY_FILE": str(SEAL / "private.key"),
        }
    )


def build(app, url: str, employees: int) -> None:
    """Empty the database, create the schema, sync the courses and load the demo."""
    engine = app.extensions["trainer.engine"]
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    else:
        engine.dispose()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{url.removeprefix('sqlite:///')}{suffix}").unlink(missing_ok=True)
    import_all_models().metadata.create_all(engine)
    engine.dispose()
    env = dict(
        os.environ, **trainer_env(url), TRAINER_SEAL_PRIVATE_KEY_FILE=str(SEAL / "private.key")
    )
    env.pop("TRAINER_MAIL_SERVER", None)
    flask = [sys.executable, "-m", "flask", "--app", "trainer"]
    subprocess.run([*flask, "content", "sync"], cwd=ROOT, env=env, check=True)
    subprocess.run(
        [*flask, "demo", "--employees", str(employees)],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    if engine.dialect.name == "postgresql":  # what autovacuum does after a bulk load
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")


def cookie(app, user: User) -> str:
    """Return the session cookie a sign-in would set for `user` (no argon2 in the numbers)."""
    return app.session_interface.get_signing_serializer(app).dumps(
        {"_user_id": user.session_token, "_fresh": True}
    )


def facts(app, survey_people: int, quiz_people: int) -> dict:
    """Read from the demo the people, units, course and survey the paths need."""
    with Session(app.extensions["trainer.engine"]) as session:

        def user(email):
            return session.exec(select(User).where(User.email == email)).one()

        cycle = session.exec(select(PulseCycle).where(PulseCycle.status == "open")).one()
        answered = select(SurveyParticipation.employee_id).where(
            SurveyParticipation.survey_id == cycle.id
        )
        respondents = session.exec(
            select(User)
            .join(PulseInvitation, PulseInvitation.employee_id == User.id)
            .where(PulseInvitation.cycle_id == cycle.id, User.id.not_in(answered))
            .order_by(User.id)
            .limit(survey_people)
        ).all()
        if len(respondents) < survey_people:
            raise SystemExit(
                f"only {len(respondents)} people have not answered the open survey;"
                " rebuild the demo with --build"
            )
        learners = session.exec(
            select(User)
            .where(User.active, User.roles == "employee")
            .order_by(User.id.desc())
            .limit(quiz_people)
        ).all()
        return {
            "cookies": {role: cookie(app, user(f"{role}@example.com")) for role in ROLES},
            "respondents": [cookie(app, u) for u in respondents],
            "learners": [cookie(app, u) for u in learners],
            "cycle": cycle.id,
            "items": [(i.id, i.kind) for i in cycle_items(cycle, session=session)],
            "closed_cycle": closed_cycles(session=session)[-1].id,
            "company": session.exec(select(OrgUnit).where(OrgUnit.parent_id.is_(None))).one().id,
            "team": session.exec(select(OrgUnit).where(OrgUnit.kind == "team").order_by(OrgUnit.id))
            .first()
            .id,
            "course": session.exec(
                select(Course.slug).where(Course.retired.is_(False)).order_by(Course.slug)
            ).first(),
        }


def pairs(port: int, known: dict, requests: int) -> list[Pair]:
    """Return the measured paths, each with its floor; sign-in and form reads are not timed."""
    setup = Connection(port)
    people = {role: Person(known["cookies"][role]) for role in ROLES}

    def page(role: str, path: str):
        return lambda conn, _: conn.request("GET", path, person=people[role])[0]

    def overview(role: str) -> str:
        """Return where /insights/ sends `role` (their unit's overview)."""
        setup.request("GET", "/insights/", person=people[role])
        return setup.location.removeprefix(f"http://127.0.0.1:{port}") or "/insights/"

    respondents = [Person(c) for c in known["respondents"]]
    answer = f"/pulse/cycles/{known['cycle']}/answer"
    for person in respondents:
        setup.read_csrf(f"{answer}?ready=1", person)
    rng = random.Random(1)

    def survey_submit(conn, i):
        person = respondents[i]
        form = survey_form(
            person.csrf, known["items"], likert=rng.randint(1, 5), enps=rng.randint(0, 10)
        )
        return conn.request("POST", answer, form, person=person)[0]

    quiz = f"/learn/courses/{known['course']}/quiz"
    learners = [Person(c) for c in known["learners"]]
    forms = []
    for person in learners:
        status, html = setup.request("GET", quiz, person=person)
        if status != 200:
            raise SystemExit(f"GET {quiz}: HTTP {status}")
        forms.append(QuizForm(html))

    def quiz_submit(conn, i):
        return conn.request(
            "POST", quiz, forms[i % len(forms)].answers(rng), person=learners[i % len(learners)]
        )[0]

    unit, team, cycle = known["company"], known["team"], known["closed_cycle"]
    return [
        Pair("survey submit", survey_submit, floor_insert, "insert", writes=True, ok=(302,)),
        Pair("quiz submit", quiz_submit, floor_insert, "insert", writes=True, ok=(302,)),
        Pair(
            "lesson page",
            page("employee", f"/learn/courses/{known['course']}/lessons/1"),
            floor_hello,
            "hello",
        ),
        *[Pair(f"{role} home", page(role, "/"), floor_read, "indexed read") for role in ROLES],
        *[
            Pair(
                f"{role} insights overview", page(role, overview(role)), floor_read, "indexed read"
            )
            for role in ("manager", "hr")
        ],
        Pair(
            "insights dashboard (company)",
            page("hr", f"/insights/units/{unit}?metric=csi"),
            floor_read,
            "indexed read",
        ),
        Pair(
            "team pulse results",
            page("hr", f"/pulse/results/{team}?cycle={cycle}"),
            floor_read,
            "indexed read",
        ),
        Pair(
            "team training report",
            page("hr", f"/learn/reports/units/{team}"),
            floor_read,
            "indexed read",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=f"sqlite:///{FOLDER / 'ratios-10k.sqlite3'}")
    parser.add_argument(
        "--build",
        type=int,
        metavar="EMPLOYEES",
        help="empty the database and load the demo with this many employees",
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=100, help="per path and round")
    parser.add_argument("--read-clients", type=int, default=2)
    parser.add_argument("--write-clients", type=int, default=8)
    parser.add_argument("--write", type=Path, help="write the table as Markdown to this file")
    args = parser.parse_args()
    url = args.database_url
    FOLDER.mkdir(parents=True, exist_ok=True)
    app = make_app(url)
    if args.build:
        print(f"building the {args.build}-employee demo …", flush=True)
        build(app, url, args.build)
    floor_url = url if url.startswith("postgresql") else f"sqlite:///{FOLDER / 'floor.sqlite3'}"
    setup_floor(floor_url)
    known = facts(app, args.rounds * args.requests + args.write_clients, 20)
    app.extensions["trainer.engine"].dispose()
    load_before = os.getloadavg()
    with serve_trainer(url) as trainer, serve_floor(floor_url) as floor:
        results = measure(
            pairs(trainer.port, known, args.requests),
            trainer,
            floor,
            rounds=args.rounds,
            requests=args.requests,
            read_clients=args.read_clients,
            write_clients=args.write_clients,
        )
        rss = trainer.worker_rss_mb(), floor.worker_rss_mb()
    backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite (WAL)"
    command = "python benchmarks/ratios.py " + " ".join(sys.argv[1:])
    lines = [
        f"# trainer against the floor, {backend}",
        "",
        f"- {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, command: `{command}`",
        f"- Machine: {os.cpu_count()} CPUs ({cpu_model()}), Python "
        f"{platform.python_version()}; load average before the run "
        f"{', '.join(f'{x:.1f}' for x in load_before)} (1, 5, 15 min); the machine is shared, "
        "so read the ratios, and the load column beside each figure",
        f"- Both servers: gunicorn gthread, {WORKERS} workers × {THREADS} threads, side by side; "
        f"{args.rounds} alternating rounds of {args.requests} requests per path (floor, then "
        f"trainer); reads from {args.read_clients} closed-loop clients, writes from "
        f"{args.write_clients}; the client runs on the same machine",
        "- Ratio: reads, trainer p95 ÷ floor p95 (lower is better); writes, trainer "
        "throughput ÷ floor throughput (higher is better). CPU ms/req: the workers' CPU time "
        "(/proc) over the requests",
        "",
        *table(results),
        "",
        f"Warm web worker RSS (largest worker, after the run): trainer {rss[0]:.0f} MB, "
        f"floor {rss[1]:.0f} MB (goal: trainer < 100 MB: "
        f"{'met' if rss[0] < 100 else 'NOT met'}).",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        args.write.parent.mkdir(parents=True, exist_ok=True)
        args.write.write_text(text)


if __name__ == "__main__":
    main()
