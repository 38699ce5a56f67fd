"""The scale record: demo build time, page p95 and scheduler job times at 10k, 100k and 1M people.

Usage (from the project root, PostgreSQL on 127.0.0.1):

    .venv/bin/python benchmarks/scale.py --sizes 10000 100000
    .venv/bin/python benchmarks/scale.py --sizes 1000000 --build-only   # long: run it apart
    .venv/bin/python benchmarks/scale.py --sizes 1000000 --no-build     # then measure it

Each size gets its own database (`scale_10k`, `scale_100k`, `scale_1m`), dropped and created
with psql, the schema, and `flask demo --employees N`. Then gunicorn serves it and the script
times the HR insights dashboard and a team's pulse results page, signed in as the demo people.
Last, it runs each scheduler job once as the scheduler would, and the heavy work they do when
there is some (closing the open cycle, recomputing a cycle's rollups), each in a transaction
that is rolled back, so the database stays as built. Results are kept per size in
`results/scale.json` and written out as `results/scale.md`.
"""

import argparse
import json
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from insights_bench import build, measure, signed_in_opener, start_server  # noqa: E402
from machine import cpu_model  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
PASSWORD = "demo-password-2026"  # noqa: S105 (the demo's published password)
SERVER = "postgresql://postgres@127.0.0.1:5432"
TEAM = "LEEDS-SVC"  # the demo employee's team


def database_name(employees: int) -> str:
    return (
        f"scale_{employees // 1_000_000}m"
        if employees >= 1_000_000
        else f"scale_{employees // 1000}k"
    )


def recreate(name: str) -> None:
    for sql in (f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}"):
        subprocess.run(["psql", f"{SERVER}/postgres", "-qc", sql], check=True)


def page_times(database: str, requests: int, workers: int) -> dict:
    """p50/p95 of the HR dashboard and the team results page under gunicorn."""
    from sqlmodel import Session, select

    from trainer import create_app
    from trainer.org.models import OrgUnit

    app = create_app({"DATABASE_URL": database})
    with Session(app.extensions["trainer.engine"]) as session:
        team_id = session.exec(select(OrgUnit.id).where(OrgUnit.code == TEAM)).one()
    app.extensions["trainer.engine"].dispose()
    server, url = start_server(database, workers)
    try:
        hr = signed_in_opener(url, "hr@example.com", PASSWORD)
        manager = signed_in_opener(url, "manager@example.com", PASSWORD)
        with hr.open(f"{url}/insights/") as response:
            dashboard = response.geturl()
        pages = {
            "HR insights dashboard": (hr, dashboard),
            "team pulse results (manager)": (manager, f"{url}/pulse/results/{team_id}"),
        }
        out = {}
        for label, (opener, page) in pages.items():
            measure(opener, page, 5, 1)  # warm the caches
            out[label] = measure(opener, page, requests, workers)
        return out
    finally:
        server.terminate()
        server.wait()


def job_times(database: str) -> dict:
    """Seconds per scheduler job, each run once and rolled back."""
    from sqlmodel import Session, select

    from trainer import create_app
    from trainer.pulse import services as pulse
    from trainer.pulse.models import PulseCycle
    from trainer.scheduler import jobs
    from trainer.util import utcnow

    app = create_app({"DATABASE_URL": database})
    engine = app.extensions["trainer.engine"]

    def timed(work) -> float:
        with app.app_context(), Session(engine) as session:
            start = time.perf_counter()
            work(session)
            seconds = time.perf_counter() - start
            session.rollback()
        return seconds

    now = utcnow()
    out = {job.name: timed(lambda s, job=job: job.func(session=s, now=now)) for job in jobs(app)}

    def close_open_cycle(session):
        cycle = session.exec(select(PulseCycle).where(PulseCycle.status == "open")).one()
        pulse.close_cycle(session, cycle, now=now + timedelta(days=30))

    def recompute_latest_rollups(session):
        pulse.compute_rollups(session, pulse.closed_cycles(session)[-1])

    out["forced: close the open pulse cycle"] = timed(close_open_cycle)
    out["forced: recompute a closed cycle's rollups"] = timed(recompute_latest_rollups)
    engine.dispose()
    return out


def row_counts(database: str) -> dict:
    import sqlalchemy as sa

    from trainer.db import make_engine

    engine = make_engine(database)
    tables = ("user_account", "quiz_answer", "survey_response", "fix", "scenario_play")
    with engine.connect() as connection:
        counts = {
            t: connection.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar()  # noqa: S608
            for t in tables
        }
    engine.dispose()
    return counts


def write_markdown(results: dict) -> None:
    sizes = sorted(results, key=int)
    lines = [
        "# Scale record",
        "",
        f"Machine: {cpu_model()}, shared with other work while measured. PostgreSQL, "
        "gunicorn with the workers shown. Written by `benchmarks/scale.py`.",
        "",
        "| | " + " | ".join(f"{int(s):,} people" for s in sizes) + " |",
        "|---|" + "---:|" * len(sizes),
    ]

    def row(label, value):
        lines.append(f"| {label} | " + " | ".join(value(results[s]) for s in sizes) + " |")

    row("demo build (s)", lambda r: f"{r['build_s']:.0f}" if "build_s" in r else "–")
    for table in ("user_account", "quiz_answer", "survey_response", "fix", "scenario_play"):
        row(f"rows in {table}", lambda r, t=table: f"{r['rows'][t]:,}" if "rows" in r else "–")
    labels = sorted({label for r in results.values() for label in r.get("pages", {})})
    for label in labels:
        row(
            f"{label}, p95 (ms)",
            lambda r, k=label: f"{r['pages'][k]['p95']:.0f}" if k in r.get("pages", {}) else "–",
        )
    jobs = sorted({name for r in results.values() for name in r.get("jobs", {})})
    for name in jobs:
        row(
            f"job {name} (s)",
            lambda r, k=name: f"{r['jobs'][k]:.2f}" if k in r.get("jobs", {}) else "–",
        )
    notes = {s: r["note"] for s, r in results.items() if r.get("note")}
    if notes:
        lines += ["", *[f"- {int(s):,}: {note}" for s, note in notes.items()]]
    (RESULTS / "scale.md").write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--build-only", action="store_true", help="build, do not measure")
    parser.add_argument("--no-build", action="store_true", help="measure the built databases")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    store = RESULTS / "scale.json"
    for employees in args.sizes:
        database = f"{SERVER}/{database_name(employees)}"
        record = load(store).get(str(employees), {})
        if not args.no_build:
            recreate(database_name(employees))
            record.clear()
            record["build_s"] = build(database, employees)
            print(f"{employees:,}: built in {record['build_s']:.0f} s", flush=True)
            save(store, employees, record)
        if not args.build_only:
            record["rows"] = row_counts(database)
            record["pages"] = page_times(database, args.requests, args.workers)
            record["jobs"] = job_times(database)
            print(f"{employees:,}: {json.dumps(record)}", flush=True)
        save(store, employees, record)


def save(store: Path, employees: int, record: dict) -> None:
    results = load(store)  # another run (the long 1M build) may have written meanwhile
    results[str(employees)] = record
    store.write_text(json.dumps(results, indent=1) + "\n")
    write_markdown(results)


def load(store: Path) -> dict:
    return json.loads(store.read_text()) if store.exists() else {}


if __name__ == "__main__":
    main()
