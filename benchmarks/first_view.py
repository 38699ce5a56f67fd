"""The first view of a dashboard nothing has stored yet, and the web workers' memory after it,
with the analysis worked out in a separate process (INSIGHTS_COMPUTE=process, the default) and
in the web worker (inline). Issue 12: a warm web worker under 100 MB.

    .venv/bin/python benchmarks/first_view.py --employees 300

Builds a demo in a temporary folder, then for each mode serves it on the benchmarks' gunicorn
setup (`ratio.gunicorn`: 2 gthread workers × 4 threads),
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
from pathlib import Path

import requests
from ratio import ROOT, Server, gunicorn

PAGES = ["/insights/", "/insights/", "/insights/?metric=nps"]


def flask(env, *args):
    command = [sys.executable, "-m", "flask", "--app", "trainer", *args]
    subprocess.run(command, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def workers_rss_mb(server: Server) -> list[float]:
    """Each worker's resident memory, in MB (the harness reports only the largest)."""
    sizes = []
    for pid in server.workers():
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                sizes.append(int(line.split()[1]) / 1024)
    return sizes


def measure(env, database) -> tuple[list[float], list[float]]:
    with sqlite3.connect(database) as db:
        db.execute("DELETE FROM insights_analysis")
    with gunicorn("trainer.wsgi:app", env, ROOT, "/healthz") as server:
        s = requests.Session()
        form = s.get(server.url + "/auth/login").text
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
        s.post(
            server.url + "/auth/login",
            data={
                "csrf_token": token,
                "email": "manager@example.com",
                "password": "demo-password-2026",
            },
        )
        seconds = []
        for path in PAGES:
            started = time.perf_counter()
            assert s.get(server.url + path).status_code == 200, path
            seconds.append(time.perf_counter() - started)
        return seconds, workers_rss_mb(server)


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
            seconds, rss = measure(dict(env, TRAINER_INSIGHTS_COMPUTE=mode), database)
            times = " | ".join(f"{s:.2f} s" for s in seconds)
            print(f"| {mode} | {times} | {', '.join(f'{m:.0f} MB' for m in rss)} |")


if __name__ == "__main__":
    main()
