"""Time what the scheduler's close job adds per cycle: driver analyses and comment themes, and
the insights analysis's customer drivers.

Usage (from the project root):

    .venv/bin/python benchmarks/close_analyses_bench.py \
        --database sqlite:////tmp/bench/close-10k.sqlite3 --build 10000 \
        --write benchmarks/results/close_analyses.md

`--build N` creates the schema and loads `flask demo --employees N` into an empty database
first (the demo stores every closed cycle's analyses as the close job would). The script then
reruns `trainer.pulse.analyses.store_cycle_analyses` on the latest closed cycle a few times
(rolled back each time, so the database is left as it was): once as the job runs it, and once
with themes switched off, which gives the drivers' share; themes are the difference. It also
times the customer drivers of the company scope on the prepared insights panel.
"""

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from insights_bench import build  # noqa: E402
from machine import cpu_model  # noqa: E402


def _median_seconds(run, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(database: str, repeat: int) -> dict:
    from sqlmodel import Session, func, select

    from trainer import create_app
    from trainer.auth.models import User
    from trainer.insights import store
    from trainer.insights.analysis import customer_drivers_block
    from trainer.pulse import analyses, themes
    from trainer.pulse.models import SurveyResponse
    from trainer.pulse.results import latest_closed_cycle

    app = create_app({"DATABASE_URL": database})
    with app.app_context(), Session(app.extensions["trainer.engine"]) as session:
        cycle = latest_closed_cycle(session=session)
        people = session.exec(select(func.count()).select_from(User)).one()
        answers, comments = session.exec(
            select(func.count(), func.count(SurveyResponse.comment)).where(
                SurveyResponse.survey_id == cycle.id
            )
        ).one()

        def close_job():
            analyses.store_cycle_analyses(cycle, session=session)
            session.rollback()

        full = _median_seconds(close_job, repeat)
        real = themes.find_themes
        themes.find_themes = lambda *a, **k: []
        try:
            drivers_only = _median_seconds(close_job, repeat)
        finally:
            themes.find_themes = real

        version = store.data_version(session=session)
        prepared = store._prepared(session=session, parts=version, level="team")
        metric = next((m for m in prepared.sources.metrics if m.code == "csi"), None)
        metric = metric or prepared.sources.metrics[0]
        customer = _median_seconds(
            lambda: customer_drivers_block(
                prepared.checked, prepared.sources.item_means, prepared.units, metric
            ),
            repeat,
        )
    return {
        "people": people,
        "answers": answers,
        "comments": comments,
        "cycle": cycle.period,
        "close_total": full,
        "drivers": drivers_only,
        "themes": full - drivers_only,
        "customer_drivers": customer,
        "metric": metric.code,
        "units": len(prepared.units),
    }


def report(args, facts: dict, build_seconds: float | None) -> str:
    lines = [
        "# Close-cycle analyses: drivers and comment themes",
        "",
        f"Command: `{' '.join([Path(sys.executable).name, *sys.argv])}`",
        f"Machine: {cpu_model()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.2f} at the end",
        f"Database: `{args.database.split('://')[0]}`; demo with {facts['people']:,} people; "
        f"latest closed cycle {facts['cycle']}: {facts['answers']:,} answers, "
        f"{facts['comments']:,} comments.",
    ]
    if build_seconds is not None:
        lines.append(f"Building the demo took {build_seconds:.0f} s.")
    lines += [
        "",
        f"Median of {args.repeat} runs, in seconds:",
        "",
        "| Work | Seconds |",
        "|---|---|",
        f"| Close job: drivers and themes of every released group | {facts['close_total']:.2f} |",
        f"| of which driver analyses (themes off) | {facts['drivers']:.2f} |",
        f"| of which comment themes (the difference) | {facts['themes']:.2f} |",
        f"| Customer drivers, company scope, {facts['units']} teams, metric "
        f"`{facts['metric']}` (insights analysis) | {facts['customer_drivers']:.2f} |",
        "",
        "The machine is shared (about 7 other processes on 2 cores): read the load average.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True, help="a SQLAlchemy database URL")
    parser.add_argument("--build", type=int, help="load a demo with this many employees first")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--write", type=Path, help="write the results (Markdown) here")
    args = parser.parse_args()
    build_seconds = build(args.database, args.build) if args.build else None
    text = report(args, measure(args.database, args.repeat), build_seconds)
    print(text)
    if args.write:
        args.write.write_text(text)


if __name__ == "__main__":
    main()
