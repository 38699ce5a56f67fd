"""The first view of a dashboard nothing has stored yet, and the web workers' memory after it,
with the analysis worked out in a separate process (INSIGHTS_COMPUTE=process, the default) and
in the web worker (inline). Issue 12: a warm web worker under 100 MB.

    .venv/bin/python benchmarks/first_view.py --employees 300

Builds a demo in a temporary folder, then for each mode serves it with gunicorn (2 workers),
empties the stored analyses, signs in as the demo manager and times three pages: their
dashboard (a miss), the same again (stored), and another customer measure (a miss); then
reads each worker's resident memory from /proc. Prints a Markdown table.
"""

import argparse
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["/insights/", "/insights/", "/insights/?metric=nps"]


def flask(env, *args):
    command = [sys.executable, "-m", "flask", "--app", "trainer", *args]
    subprocess.run(command, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def serve(env, port):
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "trainer.wsgi:app",
        ],
        cwd=ROOT,
        env=env,
    )
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)  # noqa: S310
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("gunicorn did not start")


def worker_rss_mb(server) -> list[float]:
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    sizes = []
    for pid in children:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                sizes.append(int(line.split()[1]) / 1024)
    return sizes


def measure(env, port, database) -> tuple[list[float], list[float]]:
    with sqlite3.connect(database) as db:
        db.execute("DELETE FROM insights_analysis")
    server = serve(env, port)
    try:
        base, s = f"http://127.0.0.1:{port}", requests.Session()
        form = s.get(base + "/auth/login").text
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
        s.post(
            base + "/auth/login",
            data={
                "csrf_token": token,
                "email": "manager@example.com",
                "password": "demo-password-2026",
            },
        )
        seconds = []
        for path in PAGES:
            started = time.perf_counter()
            assert s.get(base + path).status_code == 200, path
            seconds.append(time.perf_counter() - started)
        return seconds, worker_rss_mb(server)
    finally:
        server.terminate()
        server.wait()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--employees", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        database = f"{folder}/bench.sqlite3"
        env = dict(
            os.environ,
            TRAINER_DATABASE_URL=f"sqlite:///{database}",
            TRAINER_SECRET_KEY="bench",  # noqa: S106 (a throwaway local server)
            TRAINER_BASE_URL="http://127.0.0.1",
            TRAINER_SEAL_PUBLIC_KEY_FILE=f"{folder}/pub.key",
            TRAINER_SEAL_PRIVATE_KEY_FILE=f"{folder}/priv.key",
        )
        env.pop("TRAINER_TEST_DATABASE_URL", None)
        for step in (
            ["db", "upgrade"],
            ["seal", "generate"],
            ["content", "sync"],
            ["demo", "--employees", str(args.employees)],
        ):
            flask(env, *step)
        print(f"Demo of {args.employees} people; load average {os.getloadavg()[0]:.1f}.\n")
        print("| mode | first view (miss) | again (stored) | other measure (miss) | workers' RSS |")
        print("|---|---|---|---|---|")
        for mode in ("process", "inline"):
            seconds, rss = measure(dict(env, TRAINER_INSIGHTS_COMPUTE=mode), 5099, database)
            times = " | ".join(f"{s:.2f} s" for s in seconds)
            print(f"| {mode} | {times} | {', '.join(f'{m:.0f} MB' for m in rss)} |")


if __name__ == "__main__":
    main()
