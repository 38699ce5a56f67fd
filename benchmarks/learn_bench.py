"""Lesson-page and quiz-submit latency against the 10,000-employee demo under gunicorn.

Builds (or reuses) a SQLite demo database, starts gunicorn on it, signs in a sample of demo
employees, then times two request kinds with a closed loop of concurrent clients:

- lesson: GET /learn/courses/<course>/lessons/<n> (a random course and lesson)
- submit: POST /learn/courses/<course>/quiz with a complete set of answers (302 to the result)

Both run on the shared gunicorn setup (benchmarks/ratio.py: gthread, 2 workers × 4 threads)
beside the floor app, in rounds alternating with the floor's matched path: lesson with hello
(ratio of p95s, goal at most 3×), submit with a single-row insert (ratio of throughputs, goal
at least 0.5×).

Usage (from the project root):

    .venv/bin/python benchmarks/learn_bench.py --employees 10000 \
        --write benchmarks/results/learn.md

Targets: lesson p95 < 50 ms, quiz submit p95 < 100 ms on a 2-core machine.
"""

import argparse
import http.client
import json
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from html.parser import HTMLParser
from pathlib import Path

from machine import cpu_model  # benchmarks/ is on sys.path when run as a script
from ratio import (
    FOLDER,
    KEEP_ALIVE,
    THREADS,
    WORKERS,
    Sample,
    floor_hello,
    floor_insert,
    run,
    serve_floor,
    serve_trainer,
    setup_floor,
)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGETS_MS = {"lesson": 50, "submit": 100}


def build_database(db_path: Path, employees: int, env: dict) -> float:
    """Create the schema, sync the courses and load the demo; return the seconds it took."""
    from trainer import create_app
    from trainer.db import import_all_models

    db_path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    app = create_app({"DATABASE_URL": env["TRAINER_DATABASE_URL"]})
    import_all_models().metadata.create_all(app.extensions["trainer.engine"])
    app.extensions["trainer.engine"].dispose()
    started = time.perf_counter()
    flask = [sys.executable, "-m", "flask", "--app", "trainer"]
    subprocess.run([*flask, "content", "sync"], cwd=ROOT, env=env, check=True)
    subprocess.run(
        [*flask, "demo", "--employees", str(employees)],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def sample_people(env: dict, count: int) -> tuple[list[str], list[tuple[str, int]]]:
    """Return employee emails and (course slug, lesson count) pairs from the database."""
    import sqlalchemy as sa

    from trainer.db import make_engine

    engine = make_engine(env["TRAINER_DATABASE_URL"])
    with engine.connect() as conn:
        emails = [
            r[0]
            for r in conn.execute(
                sa.text(
                    "SELECT email FROM user_account WHERE active AND roles = 'employee' "
                    "ORDER BY id LIMIT :n"
                ),
                {"n": count},
            )
        ]
        courses = [
            (slug, len(json.loads(lessons) if isinstance(lessons, str) else lessons))
            for slug, lessons in conn.execute(
                sa.text(
                    "SELECT c.slug, v.lessons FROM course c JOIN course_version v "
                    "ON v.id = c.current_version_id WHERE NOT c.retired"
                )
            )
        ]
    engine.dispose()
    return emails, courses


class Client:
    """One signed-in person with a keep-alive connection and a cookie."""

    def __init__(self, port: int):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookie = ""
        self.last_used = time.monotonic()

    def request(self, method: str, path: str, form: list | None = None):
        if time.monotonic() - self.last_used > KEEP_ALIVE - 1:
            self.conn.close()  # the server is closing it: reconnect instead of racing it
        headers = {"Cookie": self.cookie} if self.cookie else {}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        data = response.read().decode()
        self.last_used = time.monotonic()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie" and value.startswith("session="):
                self.cookie = value.split(";", 1)[0]
        return response.status, data

    def sign_in(self, email: str, password: str) -> None:
        _, html = self.request("GET", "/auth/login")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
        status, _ = self.request(
            "POST", "/auth/login", [("csrf_token", token), ("email", email), ("password", password)]
        )
        assert status == 302, f"sign-in failed for {email}: {status}"


class QuizForm(HTMLParser):
    """Read the quiz form: the hidden fields and, per question, the choices it offers."""

    def __init__(self, html: str):
        super().__init__()
        self.hidden, self.choices, self.multi, self.text = [], {}, set(), set()
        self._select = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name", "")
        if tag == "input" and a.get("type") == "hidden" and name in ("csrf_token", "version_id"):
            self.hidden.append((name, a["value"]))
        elif tag == "input" and a.get("type") in ("radio", "checkbox") and name.startswith("q"):
            self.choices.setdefault(name, []).append(a["value"])
            if a["type"] == "checkbox":
                self.multi.add(name)
        elif tag == "input" and a.get("type") == "text" and name.startswith("q"):
            self.text.add(name)
        elif tag == "select" and name.startswith("q"):
            self._select = name
            self.choices[name] = []
        elif tag == "option" and self._select and "value" not in a:
            self.choices[self._select].append(None)

    def handle_data(self, data):
        if self._select and self.choices[self._select] and self.choices[self._select][-1] is None:
            self.choices[self._select][-1] = data

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None

    def answers(self, rng: random.Random) -> list[tuple[str, str]]:
        form = list(self.hidden)
        for name, values in self.choices.items():
            if name in self.multi:
                form += [(name, v) for v in rng.sample(values, rng.randint(1, len(values)))]
            else:
                form.append((name, rng.choice(values)))
        form += [(name, "a guess") for name in self.text]
        return form


def run_phase(
    clients, work, seconds_per_request: list, total: int, concurrency: int, errors: list
) -> float:
    """Run `work(client, rng)` `total` times over `concurrency` threads; return wall time."""
    remaining = [total]
    lock = threading.Lock()

    def loop(worker: int):
        rng = random.Random(worker)
        mine = clients[worker::concurrency]
        while True:
            with lock:
                if remaining[0] <= 0:
                    return
                remaining[0] -= 1
            client = rng.choice(mine)
            started = time.perf_counter()
            try:
                work(client, rng)
            except Exception as exc:  # count it and carry on
                with lock:
                    errors.append(repr(exc))
                continue
            elapsed = time.perf_counter() - started
            with lock:
                seconds_per_request.append(elapsed)

    threads = [threading.Thread(target=loop, args=(w,)) for w in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def summary(name: str, times: list[float], wall: float, floor: Sample) -> dict:
    ms = [t * 1000 for t in times]
    p95, rps = percentile(ms, 95), len(ms) / wall
    ratio = rps / floor.per_second if name == "submit" else p95 / floor.p(95)
    return {
        "name": name,
        "n": len(ms),
        "p50": statistics.median(ms),
        "p95": p95,
        "p99": percentile(ms, 99),
        "max": max(ms),
        "rps": rps,
        "target": TARGETS_MS[name],
        "floor_p95": floor.p(95),
        "floor_rps": floor.per_second,
        "ratio": ratio,
    }


def machine() -> str:
    cpu = cpu_model("unknown CPU")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"nproc {os.cpu_count()}, {cpu}, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}; load average {load} when done"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--employees", type=int, default=10_000)
    parser.add_argument("--db", type=Path, default=Path("/tmp/trainer-bench/learn.sqlite3"))
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="Use the database from an earlier run instead of rebuilding it.",
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds per kind, alternating with the floor"
    )
    parser.add_argument("--concurrency", type=int, default=4, help="simultaneous clients")
    parser.add_argument("--people", type=int, default=40, help="distinct signed-in employees")
    parser.add_argument("--requests", type=int, default=2000, help="requests per kind")
    parser.add_argument("--write", type=Path, help="Also write the results to this file.")
    args = parser.parse_args()

    from trainer.demo import DEMO_PASSWORD

    env = dict(
        os.environ,
        TRAINER_DATABASE_URL=f"sqlite:///{args.db}",
        TRAINER_SECRET_KEY="benchmark-secret",  # noqa: S106
        FLASK_APP="trainer",
    )
    env.pop("TRAINER_MAIL_SERVER", None)
    build_seconds = None
    if not (args.reuse and args.db.exists()):
        print(f"Building the {args.employees}-employee demo in {args.db} …", flush=True)
        build_seconds = build_database(args.db, args.employees, env)
    emails, courses = sample_people(env, args.people)

    floor_url = f"sqlite:///{FOLDER / 'floor.sqlite3'}"
    setup_floor(floor_url)
    with serve_trainer(env["TRAINER_DATABASE_URL"]) as server, serve_floor(floor_url) as floor:
        port = server.port
        print(f"Signing in {len(emails)} employees …", flush=True)
        clients = []
        for email in emails:
            client = Client(port)
            client.sign_in(email, DEMO_PASSWORD)
            clients.append(client)

        def lesson(client, rng):
            slug, count = rng.choice(courses)
            status, _ = client.request(
                "GET", f"/learn/courses/{slug}/lessons/{rng.randint(1, count)}"
            )
            assert status == 200, status

        forms = {}

        def submit(client, rng):
            slug, _ = rng.choice(courses)
            status, _ = client.request(
                "POST", f"/learn/courses/{slug}/quiz", forms[(id(client), slug)].answers(rng)
            )
            assert status == 302, status

        for client in clients:  # warm up the workers and read every quiz form (not timed)
            for slug, _ in courses:
                client.request("GET", f"/learn/courses/{slug}/lessons/1")
                _, html = client.request("GET", f"/learn/courses/{slug}/quiz")
                forms[(id(client), slug)] = QuizForm(html)

        results, errors = [], []
        per_round = max(1, args.requests // args.rounds)
        for name, work, floor_work in (
            ("lesson", lesson, floor_hello),
            ("submit", submit, floor_insert),
        ):
            times: list[float] = []
            floor_sample, wall = Sample(), 0.0
            print(f"Timing {args.requests} {name} requests …", flush=True)
            for number in range(args.rounds):  # alternate, so both see the same machine
                run(
                    floor,
                    floor_work,
                    number * per_round,
                    per_round,
                    args.concurrency,
                    (200, 204),
                    floor_sample,
                )
                wall += run_phase(clients, work, times, per_round, args.concurrency, errors)
            results.append(summary(name, times, wall, floor_sample))
        if errors:
            print(f"{len(errors)} requests failed, e.g. {errors[0]}", file=sys.stderr)

    command = "python benchmarks/learn_bench.py " + " ".join(sys.argv[1:])
    report = render(results, args, build_seconds, command, len(emails), len(errors))
    print(report)
    if args.write:
        args.write.parent.mkdir(parents=True, exist_ok=True)
        args.write.write_text(report)


def render(results, args, build_seconds, command, people: int, failed: int) -> str:
    lines = [
        "# Learn benchmark: lesson page and quiz submit",
        "",
        f"- Command: `{command}`",
        f"- Machine: {machine()}",
        f"- Server: gunicorn gthread, {WORKERS} workers × {THREADS} threads, SQLite (WAL) at "
        f"{args.db}, beside the floor app on the same setup; {args.rounds} rounds per kind, "
        "alternating with the floor (lesson with hello, submit with one insert)",
        f"- Data: `flask demo --employees {args.employees}`"
        + (f" (built in {build_seconds:.0f} s)" if build_seconds else " (reused)"),
        f"- Load: {args.concurrency} concurrent clients in a closed loop (each sends its next "
        f"request when the last one returns), {people} signed-in employees, "
        f"{args.requests} requests per kind, client on the same machine; {failed} failed",
        "",
        "| Request | n | p50 ms | p95 ms | p99 ms | max ms | req/s | target p95 | met "
        "| floor p95 ms | floor req/s | ratio to the floor (goal) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---|",
    ]
    for r in results:
        goal = "≥ 0.5× its req/s" if r["name"] == "submit" else "≤ 3× its p95"
        lines.append(
            f"| {r['name']} | {r['n']} | {r['p50']:.1f} | {r['p95']:.1f} | "
            f"{r['p99']:.1f} | {r['max']:.1f} | {r['rps']:.0f} | < {r['target']} ms | "
            f"{'yes' if r['p95'] < r['target'] else 'NO'} | {r['floor_p95']:.1f} "
            f"| {r['floor_rps']:.0f} | {r['ratio']:.2f}× ({goal}) |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
