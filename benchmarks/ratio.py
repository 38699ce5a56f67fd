"""Measure trainer against the floor: the same gunicorn setup serving a bare Flask app.

The floor (`benchmarks/floor/app.py`) does the least each kind of request must do: `/hello`
(no database), `POST /insert` (one committed row) and `/read` (one indexed row). Both servers
run `gunicorn -k gthread -w 2 --threads 4` on the same machine at the same time; each trainer
path is measured in rounds that alternate with its matched floor path, so both see the same
machine. For each path the harness records p50/p95 (reads) or throughput (writes), the ratio to
the floor, the CPU per request of the server's workers (from /proc) and the load average.
"""

import http.client
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLOOR = Path(__file__).resolve().parent / "floor"
WORKERS, THREADS = 2, 4
# Longer than a load-test user's pause (1–3 s), so that a client never reuses a connection the
# server is closing at that moment (a reset, not a server error; a reverse proxy hides it).
KEEP_ALIVE = 5
FLOOR_ROWS = 100_000  # the floor's read table: a realistic rollup table size
FOLDER = Path(tempfile.gettempdir()) / "trainer-bench"
SEAL = FOLDER / "seal"
SECRET = "bench-secret"  # noqa: S105 (throwaway local servers; benchmarks sign cookies with it)
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class Server:
    """A gunicorn master on a port, with its workers' CPU time and memory from /proc."""

    def __init__(self, process: subprocess.Popen, port: int, log: str):
        self.process, self.port, self.log = process, port, log
        self.url = f"http://127.0.0.1:{port}"

    def workers(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def cpu_seconds(self) -> float:
        """Return the CPU time (user + system) the workers have used so far."""
        tick = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for pid in self.workers():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # a worker that just exited
                continue
            total += (int(fields[11]) + int(fields[12])) / tick
        return total

    def worker_rss_mb(self) -> float:
        """Return the resident memory of the largest worker, in MB."""
        sizes = []
        for pid in self.workers():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    sizes.append(int(line.split()[1]) / 1024)
        return max(sizes)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(app: str, env: dict, cwd: Path, ready_path: str):
    """Serve `app` with 2 gthread workers × 4 threads on a free port; yield the Server."""
    port = free_port()
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "-k",
        "gthread",
        "-w",
        str(WORKERS),
        "--threads",
        str(THREADS),
        "-b",
        f"127.0.0.1:{port}",
        "--keep-alive",
        str(KEEP_ALIVE),
        "--backlog",
        "2048",
        "--log-level",
        "warning",
        app,
    ]
    log = open(Path(tempfile.gettempdir()) / f"bench-{app.split(':')[0]}.log", "ab")  # noqa: SIM115
    process = subprocess.Popen(
        command, cwd=cwd, env=dict(os.environ, **env), stdout=log, stderr=log
    )
    server = Server(process, port, log.name)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _ = Connection(port).request("GET", ready_path)
                if status == 200 and len(server.workers()) == WORKERS:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"gunicorn {app} did not start (see {log.name})")
            time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def setup_floor(database_url: str) -> None:
    """Create the floor's tables afresh and fill its read table with FLOOR_ROWS rows."""
    subprocess.run(
        [sys.executable, str(FLOOR / "app.py"), "--setup"],
        check=True,
        env=dict(os.environ, FLOOR_DATABASE_URL=database_url, FLOOR_ROWS=str(FLOOR_ROWS)),
    )


def serve_floor(database_url: str):
    """Serve the floor app on `database_url` (its tables made by setup_floor())."""
    return gunicorn(
        "app:app",
        {"FLOOR_DATABASE_URL": database_url, "FLOOR_ROWS": str(FLOOR_ROWS)},
        FLOOR,
        "/hello",
    )


def write_seal_keys() -> None:
    """Write the key pair survey answers are sealed with, once (trainer will not start without)."""
    if (SEAL / "public.key").exists():
        return
    sys.path.insert(0, str(ROOT))
    from trainer import create_app
    from trainer.seal import write_key_pair

    write_key_pair(
        create_app(
            {
                "DATABASE_URL": "sqlite://",
                "SEAL_PUBLIC_KEY_FILE": str(SEAL / "public.key"),
                "SEAL_PRIVATE_KEY_FILE": str(SEAL / "private.key"),
            }
        )
    )


def trainer_env(database_url: str) -> dict:
    """Return the settings of a web process on `database_url` (only the public seal key)."""
    return {
        "TRAINER_DATABASE_URL": database_url,
        "TRAINER_SECRET_KEY": SECRET,
        "TRAINER_SEAL_PUBLIC_KEY_FILE": str(SEAL / "public.key"),
    }


def serve_trainer(database_url: str):
    """Serve trainer.wsgi:app on `database_url`."""
    write_seal_keys()
    return gunicorn("trainer.wsgi:app", trainer_env(database_url), ROOT, "/healthz")


@dataclass
class Person:
    """A session cookie (signed by the caller, or set by the server) and its CSRF token."""

    cookie: str = ""
    csrf: str = ""


class Connection:
    """One keep-alive HTTP connection; one per client thread."""

    def __init__(self, port: int):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.location = ""  # the last response's Location header
        self.last_used = time.monotonic()

    def request(
        self, method: str, path: str, form: dict | list | None = None, person: Person | None = None
    ) -> tuple[int, str]:
        if time.monotonic() - self.last_used > KEEP_ALIVE - 1:
            self.conn.close()  # the server is closing it: reconnect instead of racing it
        headers = {"Cookie": f"session={person.cookie}"} if person and person.cookie else {}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        text = response.read().decode(errors="replace")
        self.location = response.getheader("Location", "")
        self.last_used = time.monotonic()
        for value in response.headers.get_all("Set-Cookie") or []:
            if person and value.startswith("session="):
                person.cookie = value.split(";", 1)[0].removeprefix("session=")
        return response.status, text

    def read_csrf(self, path: str, person: Person) -> None:
        """GET a form page as `person` and keep its CSRF token (not timed)."""
        status, page = self.request("GET", path, person=person)
        match = CSRF.search(page)
        if status != 200 or not match:
            raise SystemExit(f"GET {path}: HTTP {status}, no CSRF token")
        person.csrf = match.group(1)


# A unit of work: send request number `i` on `conn`, return the HTTP status.
Work = Callable[[Connection, int], int]


def floor_hello(conn: Connection, _: int) -> int:
    return conn.request("GET", "/hello")[0]


def floor_read(conn: Connection, i: int) -> int:
    return conn.request("GET", f"/read?key={i * 7919 % FLOOR_ROWS}")[0]


def floor_insert(conn: Connection, i: int) -> int:
    return conn.request("POST", "/insert", {"score": i % 5 + 1, "comment": ""})[0]


@dataclass
class Pair:
    """One measured path: what trainer does, what the floor does, and what counts as success."""

    label: str
    trainer: Work
    floor: Work
    floor_label: str  # "hello", "indexed read" or "insert"
    writes: bool = False
    ok: tuple[int, ...] = (200,)


@dataclass
class Sample:
    """Requests timed on one server for one path, summed over the rounds."""

    times: list[float] = field(default_factory=list)
    seconds: float = 0.0
    cpu: float = 0.0
    errors: int = 0
    loads: list[float] = field(default_factory=list)

    def p(self, q: float) -> float:
        ordered = sorted(self.times)
        return 1000 * ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]

    @property
    def per_second(self) -> float:
        return len(self.times) / self.seconds

    @property
    def cpu_ms(self) -> float:
        return 1000 * self.cpu / max(1, len(self.times))


def run(
    server: Server,
    work: Work,
    start: int,
    requests: int,
    clients: int,
    ok: tuple[int, ...],
    sample: Sample,
) -> None:
    """Send `requests` requests from `clients` closed-loop threads; add them to `sample`."""
    lock = threading.Lock()
    next_index = [start]

    def loop():
        conn = Connection(server.port)
        while True:
            with lock:
                if next_index[0] >= start + requests:
                    return
                index = next_index[0]
                next_index[0] += 1
            began = time.perf_counter()
            status = work(conn, index)
            elapsed = time.perf_counter() - began
            with lock:
                sample.times.append(elapsed)
                sample.errors += status not in ok

    threads = [threading.Thread(target=loop) for _ in range(clients)]
    cpu, began = server.cpu_seconds(), time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sample.seconds += time.perf_counter() - began
    sample.cpu += server.cpu_seconds() - cpu
    sample.loads.append(os.getloadavg()[0])


@dataclass
class Result:
    pair: Pair
    trainer: Sample
    floor: Sample

    @property
    def ratio(self) -> float:
        """Writes: trainer's throughput ÷ the floor's. Reads: trainer's p95 ÷ the floor's."""
        if self.pair.writes:
            return self.trainer.per_second / self.floor.per_second
        return self.trainer.p(95) / self.floor.p(95)


def measure(
    pairs: list[Pair],
    trainer: Server,
    floor: Server,
    *,
    rounds: int,
    requests: int,
    read_clients: int,
    write_clients: int,
    log=print,
) -> list[Result]:
    """Measure each pair in `rounds` rounds, each a floor run then a trainer run.

    Request numbers run from 0 to rounds × requests - 1 (the warm-up uses -clients to -1), so
    a write can pick a different person for each request.
    """
    results = []
    for pair in pairs:
        clients = write_clients if pair.writes else read_clients
        for work, server in ((pair.trainer, trainer), (pair.floor, floor)):  # warm up
            run(server, work, -clients, clients, clients, pair.ok, Sample())
        result = Result(pair, Sample(), Sample())
        for number in range(rounds):
            start = number * requests
            run(floor, pair.floor, start, requests, clients, (200, 204), result.floor)
            run(trainer, pair.trainer, start, requests, clients, pair.ok, result.trainer)
        log(f"{pair.label}: {summary(result)}")
        results.append(result)
    return results


def summary(result: Result) -> str:
    t, f = result.trainer, result.floor
    if result.pair.writes:
        return (
            f"{t.per_second:.0f}/s vs {f.per_second:.0f}/s = {result.ratio:.2f}×, {t.errors} errors"
        )
    return f"p95 {t.p(95):.1f} ms vs {f.p(95):.1f} ms = {result.ratio:.1f}×, {t.errors} errors"


GOALS = {
    "insert": ("≥ 0.5×", lambda r: r >= 0.5),
    "hello": ("≤ 3×", lambda r: r <= 3),
    "indexed read": ("≤ 3×", lambda r: r <= 3),
}


def table(results: list[Result]) -> list[str]:
    """Return the results as Markdown table lines."""
    lines = [
        "| Path | trainer p50 / p95 ms | trainer req/s | floor path | floor p50 / p95 ms "
        "| floor req/s | ratio | goal | met | CPU ms/req trainer / floor | load (1 min) "
        "| errors |",
        "|---|---:|---:|---|---:|---:|---:|---|---|---:|---:|---:|",
    ]
    for r in results:
        t, f = r.trainer, r.floor
        goal, met = GOALS[r.pair.floor_label]
        kind = "throughput" if r.pair.writes else "p95"
        lines.append(
            f"| {r.pair.label} | {t.p(50):.1f} / {t.p(95):.1f} | {t.per_second:.0f} "
            f"| {r.pair.floor_label} | {f.p(50):.1f} / {f.p(95):.1f} | {f.per_second:.0f} "
            f"| {r.ratio:.2f}× ({kind}) | {goal} | {'yes' if met(r.ratio) else 'NO'} "
            f"| {t.cpu_ms:.1f} / {f.cpu_ms:.1f} "
            f"| {min(t.loads):.1f}–{max(t.loads):.1f} | {t.errors + f.errors} |"
        )
    return lines
