"""Pulse benchmark: survey submit throughput and results-page latency under gunicorn.

Loads the demo organisation (default 10,000 employees, 8 closed quarters of pulse history and
an open cycle) into a fresh database, starts gunicorn and the floor app on the same setup
(benchmarks/ratio.py: gthread, 2 workers × 4 threads), then
1. submits the open survey for --submitters employees from --concurrency client threads
   through the real form (CSRF included), and checks that every answer was stored; each round
   follows a round of as many single-row inserts into the floor, and the report gives the
   submit throughput as a ratio of the insert throughput (goal: at least 0.5×);
2. requests results pages (company, sites, teams over the 8 quarters) and reports p50/p95.

Sign-in is not measured: each client's session cookie is signed with the server's secret key
(what a successful login would set), so argon2 password checks stay out of the numbers.

    .venv/bin/python benchmarks/pulse_bench.py                       # SQLite in /tmp
    .venv/bin/python benchmarks/pulse_bench.py --database-url postgresql://postgres@127.0.0.1/pulse_bench

Results are appended to benchmarks/results/pulse.md.
"""

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from machine import cpu_model  # benchmarks/ is on sys.path when run as a script
from ratio import (
    FOLDER,
    SEAL,
    SECRET,
    THREADS,
    WORKERS,
    Sample,
    floor_insert,
    run,
    serve_floor,
    serve_trainer,
    setup_floor,
    write_seal_keys,
)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlmodel import Session, select  # noqa: E402

from tests.pulse.live import Browser, survey_form  # noqa: E402
from trainer import create_app  # noqa: E402
from trainer.auth.models import User  # noqa: E402
from trainer.db import import_all_models  # noqa: E402
from trainer.demo import build_demo  # noqa: E402
from trainer.org.models import OrgUnit  # noqa: E402
from trainer.pulse.models import (  # noqa: E402
    PulseCycle,
    PulseInvitation,
    ResponsePool,
    SurveyParticipation,
    SurveyResponse,
)
from trainer.pulse.programmes import cycle_items  # noqa: E402
from trainer.pulse.results import closed_cycles  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "pulse.md"


def machine() -> str:
    cpu = cpu_model("unknown")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, load {load}"


def prepare(url: str, employees: int):
    """Create the schema and the demo data; return the app used to sign session cookies."""
    write_seal_keys()
    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": SECRET,
            "TESTING": True,
            "SEAL_PUBLIC_KEY_FILE": str(SEAL / "public.key"),
            "SEAL_PRIVATE_KEY_FILE": str(SEAL / "private.key"),
        }
    )
    engine = app.extensions["trainer.engine"]
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    import_all_models().metadata.create_all(engine)
    started = time.perf_counter()
    with app.app_context(), Session(engine, expire_on_commit=False) as session:
        build_demo(app, session, employees=employees)
        session.commit()
    print(f"demo loaded in {time.perf_counter() - started:.0f} s", flush=True)
    if engine.dialect.name == "postgresql":  # what autovacuum does after a bulk load
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    return app


def session_cookie(app, user: User) -> str:
    serializer = app.session_interface.get_signing_serializer(app)
    return serializer.dumps({"_user_id": user.session_token, "_fresh": True})


def count(session, model) -> int:
    return session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


def bench_submits(app, server, submitters: int, concurrency: int) -> dict:
    engine = app.extensions["trainer.engine"]
    with Session(engine) as session:
        cycle = session.exec(select(PulseCycle).where(PulseCycle.status == "open")).one()
        items = [(i.id, i.kind) for i in cycle_items(cycle, session=session)]
        answered = select(SurveyParticipation.employee_id).where(
            SurveyParticipation.survey_id == cycle.id
        )
        people = session.exec(
            select(User)
            .join(PulseInvitation, PulseInvitation.employee_id == User.id)
            .where(PulseInvitation.cycle_id == cycle.id, User.id.not_in(answered))
            .order_by(User.id)
            .limit(submitters)
        ).all()
        before = (
            count(session, SurveyParticipation),
            count(session, ResponsePool) + count(session, SurveyResponse),
        )
    url = f"/pulse/cycles/{cycle.id}/answer"
    rng = random.Random(1)

    def ready(user):
        browser = Browser(server.url, session_cookie(app, user))
        return browser, browser.csrf(url + "?ready=1")

    with ThreadPoolExecutor(concurrency) as pool:
        clients = list(pool.map(ready, people))
    statuses, lock = [], threading.Lock()

    def submit(client):
        browser, token = client
        data = survey_form(
            token,
            items,
            likert=rng.randint(1, 5),
            enps=rng.randint(0, 10),
            comment="Benchmark comment" if rng.random() < 0.2 else "",
        )
        started = time.perf_counter()
        status, _, headers = browser.post(url, data)
        with lock:
            statuses.append((status, headers.get("Location") or "", time.perf_counter() - started))

    started, client_cpu = time.perf_counter(), time.process_time()
    server_cpu = server.cpu_seconds()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(submit, clients))
    elapsed = time.perf_counter() - started
    client_cpu, server_cpu = time.process_time() - client_cpu, server.cpu_seconds() - server_cpu
    with Session(engine) as session:
        after = (
            count(session, SurveyParticipation),
            count(session, ResponsePool) + count(session, SurveyResponse),
        )
    ok = sum(1 for s, location, _ in statuses if s == 302 and "/thanks" in location)
    latencies = sorted(t for *_, t in statuses)
    return {
        "submits": len(statuses),
        "seconds": round(elapsed, 2),
        "per_second": round(len(statuses) / elapsed, 1),
        "errors": len(statuses) - ok,
        "stored_participations": after[0] - before[0],
        "stored_responses": after[1] - before[1],
        "lost_responses": ok - (after[1] - before[1]),
        "latency_p50_ms": round(1000 * latencies[len(latencies) // 2], 1),
        "latency_p95_ms": round(1000 * latencies[int(len(latencies) * 0.95)], 1),
        "server_cpu_ms_per_submit": round(1000 * server_cpu / len(statuses), 2),
        "client_cpu_ms_per_submit": round(1000 * client_cpu / len(statuses), 2),
    }


def bench_results(app, server, requests: int, concurrency: int) -> dict:
    engine = app.extensions["trainer.engine"]
    with Session(engine) as session:
        hr = session.exec(select(User).where(User.email == "hr@example.com")).one()
        units = session.exec(select(OrgUnit)).all()
        cycles = closed_cycles(session=session)
        raw = count(session, SurveyResponse)
    browser = Browser(server.url, session_cookie(app, hr))
    paths = [f"/pulse/results/{u.id}?cycle={c.id}" for u in units for c in cycles]
    paths += ["/pulse/results"] * len(units)
    rng = random.Random(2)
    chosen = [rng.choice(paths) for _ in range(requests)]
    for path in chosen[:20]:  # warm up templates and connections
        browser.get(path)

    def fetch(path):
        started = time.perf_counter()
        status, _, _ = browser.get(path)
        return status, time.perf_counter() - started

    server_cpu = server.cpu_seconds()
    with ThreadPoolExecutor(concurrency) as pool:
        timings = list(pool.map(fetch, chosen))
    server_cpu = server.cpu_seconds() - server_cpu
    latencies = sorted(t for _, t in timings)
    return {
        "requests": len(timings),
        "errors": sum(1 for s, _ in timings if s != 200),
        "closed_cycles": len(cycles),
        "raw_responses_in_db": raw,
        "p50_ms": round(1000 * statistics.median(latencies), 1),
        "p95_ms": round(1000 * latencies[int(len(latencies) * 0.95)], 1),
        "server_cpu_ms_per_page": round(1000 * server_cpu / len(timings), 2),
    }


def record(args, url_label: str, submits: dict, results: dict) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    command = "   .venv/bin/python benchmarks/pulse_bench.py " + " ".join(sys.argv[1:])
    verdict = (
        "meets"
        if submits["per_second"] >= 200
        and submits["errors"] == 0
        and submits["ratio_to_insert_floor"] >= 0.5
        and submits["lost_responses"] == 0
        and results["p95_ms"] < 100
        else "MISSES"
    )
    text = [
        f"\n## {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {url_label}, {args.employees} employees\n",
        f"- Machine: {machine()}",
        f"- Server: gunicorn gthread, {WORKERS} workers × {THREADS} threads, beside the floor "
        f"app on the same setup; client: {args.concurrency} threads "
        "on the same machine",
        f"- Command:\n\n{command.rstrip()}\n",
        f"- Submits: {json.dumps(submits)}",
        f"- Results pages: {json.dumps(results)}",
        f"- Targets (>= 200 submits/s and >= 0.5× the insert floor, 0 errors, 0 lost, results "
        f"p95 < 100 ms): {verdict}",
    ]
    with RESULTS.open("a", encoding="utf-8") as handle:
        handle.write("\n".join(text) + "\n")
    print("\n".join(text))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="default: a fresh SQLite file in /tmp")
    parser.add_argument("--employees", type=int, default=10_000)
    parser.add_argument("--submitters", type=int, default=1500, help="submits per round")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="submit rounds, each with new people; the median round counts",
    )
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--results-requests", type=int, default=400)
    args = parser.parse_args()
    url = args.database_url
    if not url:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='pulse-bench-')}/bench.sqlite3"
    label = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    app = prepare(url, args.employees)
    app.extensions["trainer.engine"].dispose()
    floor_url = url if url.startswith("postgresql") else f"sqlite:///{FOLDER / 'floor.sqlite3'}"
    setup_floor(floor_url)
    with serve_trainer(url) as server, serve_floor(floor_url) as floor:
        rounds, inserts = [], []
        for number in range(args.rounds):  # alternate, so both see the same machine
            sample = Sample()
            run(
                floor,
                floor_insert,
                number * args.submitters,
                args.submitters,
                args.concurrency,
                (204,),
                sample,
            )
            inserts.append(round(sample.per_second, 1))
            rounds.append(bench_submits(app, server, args.submitters, args.concurrency))
            print("submits", rounds[-1], "floor inserts/s", inserts[-1], flush=True)
        submits = sorted(rounds, key=lambda r: r["per_second"])[len(rounds) // 2]
        submits["rounds_per_second"] = [r["per_second"] for r in rounds]
        submits["floor_inserts_per_second"] = inserts
        submits["ratio_to_insert_floor"] = round(
            submits["per_second"] / statistics.median(inserts), 2
        )
        submits["errors"] = sum(r["errors"] for r in rounds)
        submits["lost_responses"] = sum(r["lost_responses"] for r in rounds)
        results = bench_results(app, server, args.results_requests, min(args.concurrency, 4))
        print("results", results, flush=True)
    record(args, label, submits, results)


if __name__ == "__main__":
    main()
