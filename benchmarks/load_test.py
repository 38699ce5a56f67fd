"""Locust load test under gunicorn, with every write checked against the database.

Builds (with --build) or reuses the demo, serves it like benchmarks/ratios.py (gunicorn
gthread, 2 workers × 4 threads), runs benchmarks/locustfile.py headless on loopback for a
bounded time, then reports: 5xx responses (goal 0), "database is locked" in the server log
(goal 0), p95 per kind of request, and the quiz attempts and survey participations stored
beside the successful submits locust counted (goal: equal).

    .venv/bin/python benchmarks/load_test.py --build 10000 --write benchmarks/results/load.md
    .venv/bin/python benchmarks/load_test.py --users 10 --minutes 1      # a quick check
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))

from learn_bench import sample_people  # noqa: E402
from ratio import FOLDER, ROOT, THREADS, WORKERS, Connection, Person, serve_trainer  # noqa: E402
from ratios import build, facts, make_app  # noqa: E402

from trainer.db import make_engine  # noqa: E402  (ratios put the project root on sys.path)

RESPONDENTS = 2500  # more than 50 users answer in 5 minutes (each person answers once)
WRITES = {"quiz submit": "quiz_attempt", "survey submit": "survey_participation"}


def plan(port: int, known: dict, courses: list) -> dict:
    """Return what the locustfile reads: cookies, courses, the survey and dashboard paths."""
    conn = Connection(port)

    def overview(role: str) -> str:
        conn.request("GET", "/insights/", person=Person(known["cookies"][role]))
        return conn.location.removeprefix(f"http://127.0.0.1:{port}")

    manager_unit = overview("manager").split("?")[0].rsplit("/", 1)[-1]
    cycle = known["closed_cycle"]
    return {
        "cookies": known["cookies"],
        "learners": known["learners"],
        "respondents": known["respondents"],
        "courses": courses,
        "items": known["items"],
        "survey": f"/pulse/cycles/{known['cycle']}/answer",
        "dashboards": {
            "manager": [overview("manager"), f"/pulse/results/{manager_unit}?cycle={cycle}"],
            "hr": [
                overview("hr"),
                f"/insights/units/{known['company']}?metric=csi",
                f"/pulse/results/{known['team']}?cycle={cycle}",
            ],
        },
    }


def count_rows(url: str) -> dict:
    engine = make_engine(url)
    with engine.connect() as conn:
        counts = {
            name: conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()  # noqa: S608
            for name, table in WRITES.items()
        }
    engine.dispose()
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=f"sqlite:///{FOLDER / 'load-10k.sqlite3'}")
    parser.add_argument(
        "--build",
        type=int,
        metavar="EMPLOYEES",
        help="empty the database and load the demo with this many employees",
    )
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--minutes", type=float, default=5)
    parser.add_argument("--write", type=Path, help="write the report as Markdown to this file")
    args = parser.parse_args()
    url = args.database_url
    FOLDER.mkdir(parents=True, exist_ok=True)
    app = make_app(url)
    if args.build:
        print(f"building the {args.build}-employee demo …", flush=True)
        build(app, url, args.build)
    known = facts(app, RESPONDENTS, 200)
    app.extensions["trainer.engine"].dispose()
    _, courses = sample_people({"TRAINER_DATABASE_URL": url}, 0)
    work = Path(tempfile.mkdtemp(prefix="load-test-"))
    before = count_rows(url)
    load_before = os.getloadavg()
    with serve_trainer(url) as server:
        (work / "plan.json").write_text(json.dumps(plan(server.port, known, courses)))
        log = Path(server.log)
        log_start = log.stat().st_size
        print(f"locust: {args.users} users for {args.minutes:g} min …", flush=True)
        subprocess.run(
            [
                str(Path(sys.executable).parent / "locust"),
                "-f",
                "benchmarks/locustfile.py",
                "--headless",
                "--users",
                str(args.users),
                "--spawn-rate",
                "10",
                "--run-time",
                f"{round(args.minutes * 60)}s",
                "--stop-timeout",
                "30",
                "--host",
                server.url,
                "--only-summary",
            ],
            cwd=ROOT,
            check=False,
            env=dict(
                os.environ,
                BENCH_LOCUST_PLAN=str(work / "plan.json"),
                BENCH_LOCUST_REPORT=str(work / "report.json"),
            ),
        )
        with log.open("rb") as handle:
            handle.seek(log_start)
            locked = handle.read().decode(errors="replace").count("database is locked")
        rss = server.worker_rss_mb()
    after = count_rows(url)
    report = json.loads((work / "report.json").read_text())
    failures = report["failures"]
    server_errors = sum(f["count"] for f in failures if "server error" in f["error"])
    by_name = {row["name"]: row for row in report["requests"]}
    backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite (WAL)"
    lines = [
        f"# Load test: {args.users} users for {args.minutes:g} min, {backend}",
        "",
        f"- {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, command: "
        f"`python benchmarks/load_test.py {' '.join(sys.argv[1:])}`",
        f"- {os.cpu_count()} CPUs, shared; load average before "
        f"{', '.join(f'{x:.1f}' for x in load_before)}, after "
        f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} (1, 5, 15 min)",
        f"- Server: gunicorn gthread, {WORKERS} workers × {THREADS} threads; locust on the same "
        "machine, loopback; users wait 1–3 s between tasks (learners 60 %, survey respondents "
        f"20 %, managers and HR 20 %); warm worker RSS after the run {rss:.0f} MB",
        "",
        f"- 5xx responses: {server_errors} (goal 0)",
        f'- "database is locked" in the server log: {locked} (goal 0)',
    ]
    for name, table in WRITES.items():
        row = by_name.get(name, {"count": 0, "failures": 0})
        succeeded = row["count"] - row["failures"]
        stored = after[name] - before[name]
        lines.append(
            f"- {name}: {succeeded} succeeded, {stored} new `{table}` rows: "
            f"{'all accounted for' if stored == succeeded else 'MISMATCH'}"
        )
    lines += [
        "",
        "| Request | count | failures | p50 ms | p95 ms | max ms | req/s |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in report["requests"]:
        lines.append(
            f"| {row['name']} | {row['count']} | {row['failures']} | {row['p50']:.0f} "
            f"| {row['p95']:.0f} | {row['max']:.0f} | {row['per_second']:.1f} |"
        )
    if failures:
        lines += ["", "Failures:", ""]
        lines += [f"- {f['name']}: {f['error']} × {f['count']}" for f in failures]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        args.write.parent.mkdir(parents=True, exist_ok=True)
        args.write.write_text(text)


if __name__ == "__main__":
    main()
