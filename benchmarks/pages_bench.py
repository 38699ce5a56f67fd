"""Home pages and the insights overview: p95 beside the floor's indexed read, and page heights.

Serves the demo database (built with `--build N`) and the floor app (benchmarks/floor/app.py)
on the same gunicorn setup (benchmarks/ratio.py), in the same run. Times each role's home page
and the insights overview (manager: their site; HR: the company) signed in as the demo
people, alternating rounds with the floor's indexed read and hello so that both see the same
machine. Then opens each page in headless Chromium at 390 × 844 and records its height in
phone screens.
"""

import argparse
import os
import sys
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from insights_bench import build, percentile, signed_in_opener, timed_get  # noqa: E402
from machine import cpu_model  # noqa: E402
from ratio import FLOOR_ROWS, THREADS, WORKERS, serve_floor, serve_trainer, setup_floor  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "demo-password-2026"  # noqa: S105 (the demo's published password)
PHONE = {"width": 390, "height": 844}
READ, HELLO = "floor: indexed read", "floor: hello"


def pages(url: str) -> list[tuple[str, str, str]]:
    """(label, role, path) for each page measured; the overview paths follow the redirect."""
    found = []
    for role in ("employee", "manager", "hr", "admin"):
        found.append((f"{role} home", role, "/"))
    for role in ("manager", "hr"):
        opener = signed_in_opener(url, f"{role}@example.com", PASSWORD)
        with opener.open(f"{url}/insights/") as response:
            found.append((f"{role} insights overview", role, response.geturl().removeprefix(url)))
    return found


def heights(url: str, measured: list[tuple[str, str, str]]) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    out = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=os.environ.get("TRAINER_CHROMIUM", "/usr/bin/chromium")
        )
        for label, role, path in measured:
            context = browser.new_context(viewport=PHONE, is_mobile=True, base_url=url)
            page = context.new_page()
            page.goto("/auth/login")
            page.get_by_label("Email").fill(f"{role}@example.com")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(lambda u: "/auth/login" not in u)
            page.goto(path)
            page.wait_for_load_state("networkidle")
            out[label] = page.evaluate("document.documentElement.scrollHeight") / PHONE["height"]
            context.close()
        browser.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", default="sqlite:////tmp/trainer-bench/pages-10k.sqlite3")
    parser.add_argument("--build", type=int, help="build the demo with this many employees")
    parser.add_argument("--requests", type=int, default=200, help="requests per page")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--write", help="write the results as Markdown to this file")
    args = parser.parse_args()
    folder = Path("/tmp/trainer-bench")
    folder.mkdir(parents=True, exist_ok=True)
    if args.build:
        path = Path(args.database.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        print(f"demo built in {build(args.database, args.build):.0f} s")
    floor_url = f"sqlite:///{folder / 'floor.sqlite3'}"
    setup_floor(floor_url)
    with serve_trainer(args.database) as server, serve_floor(floor_url) as floor:
        url = server.url
        measured = pages(url)
        openers = {
            role: signed_in_opener(url, f"{role}@example.com", PASSWORD)
            for role in ("employee", "manager", "hr", "admin")
        }
        bare = urllib.request.build_opener()
        for _label, role, path in measured:  # warm the caches
            for _ in range(5):
                timed_get(openers[role], url + path)
        times = {label: [] for label, _, _ in measured}
        times[READ] = []
        times[HELLO] = []
        per_round = max(1, args.requests // args.rounds)
        for number in range(args.rounds):  # alternate, so both see the same machine
            times[HELLO] += [timed_get(bare, f"{floor.url}/hello") for _ in range(per_round)]
            times[READ] += [
                timed_get(
                    bare, f"{floor.url}/read?key={(number * per_round + i) * 7919 % FLOOR_ROWS}"
                )
                for i in range(per_round)
            ]
            for label, role, path in measured:
                times[label] += [timed_get(openers[role], url + path) for _ in range(per_round)]
        screens = heights(url, measured)
    read_p95, hello_p95 = percentile(times[READ], 95), percentile(times[HELLO], 95)
    lines = [
        "# Home pages and insights overview against the floor",
        "",
        f"Machine: {cpu_model()}, {os.cpu_count()} CPUs. Database: `{args.database}`.",
        f"Both servers: gunicorn gthread, {WORKERS} workers × {THREADS} threads; one client, "
        f"{args.requests} requests per page in {args.rounds} alternating rounds; load average "
        f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} (1, 5, 15 min) at the end.",
        "",
        f"Command: `.venv/bin/python benchmarks/pages_bench.py --database {args.database}"
        f"{' --build ' + str(args.build) if args.build else ''} --requests {args.requests}`",
        "",
        "| Page | p50 ms | p95 ms | p95 ÷ indexed read p95 (goal ≤ 3×) | p95 ÷ hello p95 "
        "| height at 390 × 844 (screens) |",
        "|---|---|---|---|---|---|",
    ]
    for label, values in times.items():
        p95 = percentile(values, 95)
        height = f"{screens[label]:.1f}" if label in screens else ""
        lines.append(
            f"| {label} | {percentile(values, 50):.1f} | {p95:.1f} "
            f"| {p95 / read_p95:.1f}× | {p95 / hello_p95:.1f}× | {height} |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        Path(args.write).write_text(text)


if __name__ == "__main__":
    main()
