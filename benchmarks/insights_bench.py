"""Measure the insights dashboard under gunicorn: p50/p95 per scope, warm and cold.

Usage (from the project root):

    .venv/bin/python benchmarks/insights_bench.py --database sqlite:////tmp/bench/10k.sqlite3 \
        --build 10000 --requests 200

`--build N` creates the schema and loads `flask demo --employees N` into an empty database
first. The script then starts gunicorn on the database and the floor app beside it
(benchmarks/ratio.py: the same gthread setup), signs in as the demo HR person, and times GET
requests to the dashboard page (and the JSON endpoints its charts fetch) for the whole company
and for one region, in rounds alternating with the floor's indexed read, and gives each p95 as
a ratio to the read's (goal: at most 3×). It also times the cache-miss computation (loading the
rollups and computing every statistic) outside the server, which is what grows with the data.
"""

import argparse
import http.cookiejar
import os
import platform
import random
import re
import statistics
import sys
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ratio import (  # noqa: E402
    FLOOR_ROWS,
    FOLDER,
    ROOT,
    THREADS,
    WORKERS,
    serve_floor,
    serve_trainer,
    setup_floor,
)

sys.path.insert(0, str(ROOT))

HR = "hr@example.com"
REGION = "R-N"


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
    from trainer.insights import scope, store, training_rollup
    from trainer.org.models import OrgUnit
    from trainer.outcomes.queries import outcomes_by_unit_period
    from trainer.pulse import morale
    from trainer.pulse.models import RollupUnit, SurveyResponse

    app = create_app({"DATABASE_URL": database})
    with app.app_context(), Session(app.extensions["trainer.engine"]) as session:
        company = scope.company_root(session=session)
        region = scope.unit_by_code(session=session, code=REGION)
        facts = {
            "company_id": company.id,
            "region_id": region.id,
            "people": session.exec(select(func.count()).select_from(User)).one(),
            "units": session.exec(select(func.count()).select_from(OrgUnit)).one(),
            "pulse_answers": session.exec(select(func.count()).select_from(SurveyResponse)).one(),
            "pulse_rollup_rows": session.exec(select(func.count()).select_from(RollupUnit)).one(),
        }
        sources = {
            "pulse_rollups": lambda: (
                morale.morale_by_unit_period(session=session),
                morale.suppressed_units(session=session),
            ),
            "outcomes": lambda: [
                outcomes_by_unit_period(session=session, metric=m)
                for m in store.metric_codes(session=session)
            ],
            "training_rollup": lambda: training_rollup.training_rows(session=session),
        }
        for name, read in sources.items():
            start = time.perf_counter()
            read()
            facts[f"read_{name}_ms"] = 1000 * (time.perf_counter() - start)
        for name, unit in (("company", company), ("region", region)):
            store.clear_cache()
            start = time.perf_counter()
            store.analysis_for(session=session, metric="csi", unit=unit)
            facts[f"cold_{name}_ms"] = 1000 * (time.perf_counter() - start)
    app.extensions["trainer.engine"].dispose()
    return facts


def signed_in_opener(url: str, email: str, password: str):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{url}/auth/login").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    data = urllib.parse.urlencode(
        {"email": email, "password": password, "csrf_token": token.group(1)}
    ).encode()
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


def timed(opener, urls: list[str], clients: int) -> list[float]:
    """Return the milliseconds each GET took, sent from `clients` threads."""
    if clients == 1:
        return [timed_get(opener, url) for url in urls]
    with ThreadPoolExecutor(clients) as pool:
        return list(pool.map(lambda url: timed_get(opener, url), urls))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True, help="SQLAlchemy URL of the demo database")
    parser.add_argument(
        "--build",
        type=int,
        metavar="EMPLOYEES",
        help="load the demo with this many employees first (empty database)",
    )
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=1, help="concurrent clients")
    args = parser.parse_args()

    from trainer.demo import DEMO_PASSWORD

    if args.build:
        print(f"demo build: {build(args.database, args.build):.0f} s")
    facts = org_facts(args.database)
    print(
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs, "
        f"{platform.processor() or platform.machine()}"
    )
    print(
        "data: " + ", ".join(f"{k} {v}" for k, v in facts.items() if not k.endswith(("_id", "_ms")))
    )
    print(
        "source reads (ms, in process): "
        + ", ".join(f"{k[5:-3]} {v:.0f}" for k, v in facts.items() if k.startswith("read_"))
    )
    print(
        f"cache miss (read every source + all statistics, in process): company "
        f"{facts['cold_company_ms']:.0f} ms, region {facts['cold_region_ms']:.0f} ms"
    )
    floor_url = f"sqlite:///{FOLDER / 'floor.sqlite3'}"
    setup_floor(floor_url)
    with serve_trainer(args.database) as server, serve_floor(floor_url) as floor:
        url = server.url
        opener = signed_in_opener(url, HR, DEMO_PASSWORD)
        bare = urllib.request.build_opener()
        print(
            f"gunicorn gthread {WORKERS} workers × {THREADS} threads, {args.clients} "
            f"client(s), {args.requests} requests per URL after warm-up in {args.rounds} "
            "rounds alternating with the floor's indexed read; times in ms"
        )
        print("| scope | URL | first request | p50 | p95 | max | floor read p95 | ratio | load |")
        print("|---|---|---|---|---|---|---|---|---|")
        for scope in ("company", "region"):
            unit_id = facts[f"{scope}_id"]
            paths = [f"/insights/units/{unit_id}?metric=csi"] + [
                f"/insights/api/units/{unit_id}/{name}.json?metric=csi"
                for name in ("trends", "scatter", "funnel", "perception")
            ]
            for path in paths:
                first = timed_get(opener, url + path)
                for _ in range(4 * WORKERS * THREADS):  # every worker has the analysis cached
                    timed_get(opener, url + path)
                times, read_times = [], []
                per_round = max(1, args.requests // args.rounds)
                reads = [
                    f"{floor.url}/read?key={random.randrange(FLOOR_ROWS)}" for _ in range(per_round)
                ]
                for _ in range(args.rounds):  # alternate, so both see the same machine
                    read_times += timed(bare, reads, args.clients)
                    times += timed(opener, [url + path] * per_round, args.clients)
                p95, read_p95 = percentile(times, 95), percentile(read_times, 95)
                print(
                    f"| {scope} | `{path}` | {first:.0f} | {statistics.median(times):.1f} | "
                    f"{p95:.1f} | {max(times):.1f} | {read_p95:.1f} | {p95 / read_p95:.1f}× "
                    f"| {os.getloadavg()[0]:.1f} |"
                )


if __name__ == "__main__":
    main()
