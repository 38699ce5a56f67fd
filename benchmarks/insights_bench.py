"""Measure the insights dashboard under gunicorn: p50/p95 per scope, warm and cold.

Usage (from the project root):

    .venv/bin/python benchmarks/insights_bench.py --database sqlite:////tmp/bench/10k.sqlite3 \
        --build 10000 --requests 200

`--build N` creates the schema and loads `flask demo --employees N` into an empty database
first. The script then starts gunicorn on the database, signs in as the demo HR person, and
times GET requests to the dashboard page (and the JSON endpoints its charts fetch) for the
whole company and for one region. It also times the cache-miss computation (loading the
rollups and computing every statistic) outside the server, which is what grows with the data.
"""

import argparse
import http.cookiejar
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

HR = "hr@example.com"
REGION = "R-N"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build(database: str, employees: int) -> float:
    """Create the schema and load the demo; return the seconds it took."""
    from trainer import create_app
    from trainer.db import import_all_models

    app = create_app({"DATABASE_URL": database})
    import_all_models().metadata.create_all(app.extensions["trainer.engine"])
    start = time.perf_counter()
    result = app.test_cli_runner().invoke(args=["demo", "--employees", str(employees)])
    if result.exit_code != 0:
        raise SystemExit(f"flask demo failed: {result.output}")
    app.extensions["trainer.engine"].dispose()
    return time.perf_counter() - start


def org_facts(database: str) -> dict:
    """Return the scope ids, the row counts that grow with the data, and cache-miss timings."""
    from sqlmodel import Session, func, select

    from trainer import create_app
    from trainer.auth.models import User
    from trainer.insights import services
    from trainer.org.models import OrgUnit
    from trainer.pulse.models import RollupUnit, SurveyResponse

    app = create_app({"DATABASE_URL": database})
    with app.app_context(), Session(app.extensions["trainer.engine"]) as session:
        company = services.company_root(session=session)
        region = services.unit_by_code(session=session, code=REGION)
        facts = {
            "company_id": company.id,
            "region_id": region.id,
            "people": session.exec(select(func.count()).select_from(User)).one(),
            "units": session.exec(select(func.count()).select_from(OrgUnit)).one(),
            "pulse_answers": session.exec(select(func.count()).select_from(SurveyResponse)).one(),
            "pulse_rollup_rows": session.exec(select(func.count()).select_from(RollupUnit)).one(),
        }
        sources = {
            "pulse_rollups": lambda: (services.pulse.morale_by_unit_period(session=session),
                                      services.pulse.suppressed_units(session=session)),
            "outcomes": lambda: [services.outcomes.outcomes_by_unit_period(
                session=session, metric=m) for m in services.metric_codes(session=session)],
            "training_rollup": lambda: services.training_rows(session=session),
        }
        for name, read in sources.items():
            start = time.perf_counter()
            read()
            facts[f"read_{name}_ms"] = 1000 * (time.perf_counter() - start)
        for name, unit in (("company", company), ("region", region)):
            services.clear_cache()
            start = time.perf_counter()
            services.analysis_for(session=session, metric="csi", unit=unit)
            facts[f"cold_{name}_ms"] = 1000 * (time.perf_counter() - start)
    app.extensions["trainer.engine"].dispose()
    return facts


def start_server(database: str, workers: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = dict(os.environ, TRAINER_DATABASE_URL=database,
               TRAINER_SECRET_KEY="bench-secret")  # noqa: S106 (a throwaway local server)
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}",
         "--log-level", "warning", "trainer.wsgi:app"], cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2):  # noqa: S310
                return server, url
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise SystemExit("gunicorn did not start") from None
            time.sleep(0.2)


def signed_in_opener(url: str, email: str, password: str):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{url}/auth/login").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    data = urllib.parse.urlencode({"email": email, "password": password,
                                   "csrf_token": token.group(1)}).encode()
    opener.open(f"{url}/auth/login", data=data)
    return opener


def timed_get(opener, url: str) -> float:
    start = time.perf_counter()
    with opener.open(url) as response:
        response.read()
        if response.status != 200:
            raise SystemExit(f"{url}: HTTP {response.status}")
    return 1000 * (time.perf_counter() - start)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def measure(opener, url: str, requests: int, clients: int) -> dict:
    if clients == 1:
        times = [timed_get(opener, url) for _ in range(requests)]
    else:
        with ThreadPoolExecutor(clients) as pool:
            times = list(pool.map(lambda _: timed_get(opener, url), range(requests)))
    return {"n": len(times), "p50": statistics.median(times), "p95": percentile(times, 95),
            "max": max(times)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True, help="SQLAlchemy URL of the demo database")
    parser.add_argument("--build", type=int, metavar="EMPLOYEES",
                        help="load the demo with this many employees first (empty database)")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=1, help="concurrent clients")
    args = parser.parse_args()

    from trainer.demo import DEMO_PASSWORD

    if args.build:
        print(f"demo build: {build(args.database, args.build):.0f} s")
    facts = org_facts(args.database)
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, "
          f"{platform.processor() or platform.machine()}")
    print("data: " + ", ".join(f"{k} {v}" for k, v in facts.items()
                               if not k.endswith(("_id", "_ms"))))
    print("source reads (ms, in process): " + ", ".join(
        f"{k[5:-3]} {v:.0f}" for k, v in facts.items() if k.startswith("read_")))
    print(f"cache miss (read every source + all statistics, in process): company "
          f"{facts['cold_company_ms']:.0f} ms, region {facts['cold_region_ms']:.0f} ms")
    server, url = start_server(args.database, args.workers)
    try:
        opener = signed_in_opener(url, HR, DEMO_PASSWORD)
        print(f"gunicorn -w {args.workers}, {args.clients} client(s), {args.requests} requests "
              "per URL after warm-up; times in ms")
        print("| scope | URL | first request | p50 | p95 | max |")
        print("|---|---|---|---|---|---|")
        for scope in ("company", "region"):
            unit_id = facts[f"{scope}_id"]
            paths = [f"/insights/units/{unit_id}?metric=csi"] + [
                f"/insights/api/units/{unit_id}/{name}.json?metric=csi"
                for name in ("trends", "scatter", "funnel", "perception")]
            for path in paths:
                first = timed_get(opener, url + path)
                for _ in range(4 * args.workers):  # every worker has the analysis cached
                    timed_get(opener, url + path)
                result = measure(opener, url + path, args.requests, args.clients)
                print(f"| {scope} | `{path}` | {first:.0f} | {result['p50']:.1f} | "
                      f"{result['p95']:.1f} | {result['max']:.1f} |")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
