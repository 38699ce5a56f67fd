"""A real multi-worker server (gunicorn) and a small cookie-keeping HTTP client.

Used by the double-submit test and by benchmarks/pulse_bench.py.
"""

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from http.cookiejar import Cookie, CookieJar
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CSRF = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|'
    r'name="csrf_token" value="([^"]+)"'
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server(str):
    """The base URL of a running server, with its master process id."""

    pid: int = 0

    def cpu_seconds(self) -> float:
        """Return the CPU time used so far by the master and its workers."""
        total = 0.0
        tick = os.sysconf("SC_CLK_TCK")
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            pid, ppid = int(stat.parent.name), int(fields[1])
            if self.pid in (pid, ppid):
                total += (int(fields[11]) + int(fields[12])) / tick
        return total


@contextmanager
def gunicorn(
    database_url: str,
    *,
    workers: int = 4,
    log_path: Path | None = None,
    threads: int = 1,
    seal_public_key_file: str,
):
    """Serve trainer.wsgi:app with gunicorn on a free port; yield its base URL."""
    port = free_port()
    env = dict(
        os.environ,
        TRAINER_DATABASE_URL=database_url,
        TRAINER_SECRET_KEY="live-test-secret",
        TRAINER_BASE_URL=f"http://127.0.0.1:{port}",
        TRAINER_SEAL_PUBLIC_KEY_FILE=str(seal_public_key_file),
    )
    env.pop("TRAINER_MAIL_SERVER", None)
    log = open(log_path or os.devnull, "ab")  # noqa: SIM115 (closed below)
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "-w",
        str(workers),
        "--threads",
        str(threads),
        "-b",
        f"127.0.0.1:{port}",
        "--backlog",
        "2048",
        "trainer.wsgi:app",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
    base = Server(f"http://127.0.0.1:{port}")
    base.pid = process.pid
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """Keeps cookies like a browser, follows no redirects, and reads CSRF tokens."""

    def __init__(self, base: str, session_cookie: str | None = None):
        self.base = base
        jar = CookieJar()
        if session_cookie:  # a signed Flask session made by the caller (benchmarks)
            host = urllib.parse.urlsplit(base).hostname
            jar.set_cookie(
                Cookie(
                    0,
                    "session",
                    session_cookie,
                    None,
                    False,
                    host,
                    False,
                    False,
                    "/",
                    True,
                    False,
                    None,
                    False,
                    None,
                    None,
                    {},
                )
            )
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(jar), _NoRedirect()
        )

    def request(self, method: str, path: str, data: dict | None = None):
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base + path, data=body, method=method)  # noqa: S310
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, response.read().decode(), response.headers
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace"), error.headers

    def get(self, path: str):
        return self.request("GET", path)

    def post(self, path: str, data: dict):
        return self.request("POST", path, data)

    def csrf(self, path: str) -> str:
        status, page, _ = self.get(path)
        match = CSRF.search(page)
        assert status == 200 and match, f"GET {path}: {status}"
        return match.group(1) or match.group(2)

    def login(self, email: str, password: str) -> None:
        token = self.csrf("/auth/login")
        status, _, headers = self.post(
            "/auth/login", {"csrf_token": token, "email": email, "password": password}
        )
        assert status == 302, f"login {email}: {status}"


def survey_form(
    token: str,
    item_ids_kinds: list[tuple[int, str]],
    likert: int = 4,
    enps: int = 8,
    comment: str = "",
) -> dict:
    data = {
        f"item-{item_id}": str(enps if kind == "enps" else likert)
        for item_id, kind in item_ids_kinds
    }
    data.update(csrf_token=token, comment=comment)
    return data
