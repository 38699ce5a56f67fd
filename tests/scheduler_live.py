"""Real `flask scheduler` processes for crash tests, with a real SMTP server.

Used by tests/test_scheduler_live.py and benchmarks/crash_loop.py (the long kill -9 loop).
"""

import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOG_TIME = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) ")
LEASE_SECONDS = 2.0


def scheduler_env(database_url: str, app_config: dict, smtp_port: int | None = None) -> dict:
    env = dict(os.environ)
    env.pop("TRAINER_TEST_DATABASE_URL", None)
    env.update(
        TRAINER_DATABASE_URL=database_url,
        TRAINER_SECRET_KEY="scheduler-test-secret",
        TRAINER_SEAL_PUBLIC_KEY_FILE=app_config["SEAL_PUBLIC_KEY_FILE"],
        TRAINER_SEAL_PRIVATE_KEY_FILE=app_config["SEAL_PRIVATE_KEY_FILE"],
        TRAINER_BASE_URL="http://127.0.0.1:5000",
        TRAINER_LOG_LEVEL="DEBUG",
        TRAINER_OUTBOX_POLL_SECONDS="0.3",
        TRAINER_OUTBOX_CLAIM_SECONDS="2",
        TRAINER_SCHEDULER_LEASE_SECONDS=str(LEASE_SECONDS),
    )
    if smtp_port:
        env.update(TRAINER_MAIL_SERVER="127.0.0.1", TRAINER_MAIL_PORT=str(smtp_port))
    return env


class Scheduler:
    """One `flask scheduler` process and its log."""

    def __init__(self, env: dict, log_path: Path):
        self.log_path = log_path
        with open(log_path, "ab") as out:  # the process writes to its own copy of the file
            self.process = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "trainer", "scheduler", "--poll", "0.3"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for(self, text: str, timeout: float = 60, after: int = 0) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.log()[after:]:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"never logged {text!r}:\n{self.log()[-3000:]}")
            time.sleep(0.05)

    def times_of(self, text: str) -> list[datetime]:
        """Return when each log line containing `text` was written."""
        found = []
        for line in self.log().splitlines():
            match = LOG_TIME.match(line)
            if match and text in line:
                found.append(datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f"))
        return found

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.send_signal(signal.SIGKILL)
                self.process.wait(timeout=10)


def crash_while_sending(
    env: dict, received: list, people: int, kills: int, log_dir: Path, seed: int
) -> set[str]:
    """Kill -9 the scheduler at random points while it sends `people` invitations.

    The first kill comes at a random moment after start (opening the cycle, queuing mail or
    sending); the others when the SMTP server has accepted a random number of messages. A
    last scheduler then runs to the end. Return the recipients of the message the server
    accepted last before each kill: the only ones that may get it twice.
    """
    rng = random.Random(seed)
    targets = sorted(rng.sample(range(1, people), kills - 1))
    in_flight = set()
    for round_ in range(kills):
        before = len(received)
        scheduler = Scheduler(env, log_dir / f"scheduler-{round_}.log")
        if round_ == 0:
            time.sleep(rng.uniform(0.5, 4.0))
        else:
            deadline = time.monotonic() + 120
            while len(received) < targets[round_ - 1] and time.monotonic() < deadline:
                if scheduler.process.poll() is not None:
                    raise AssertionError(scheduler.log()[-3000:])
                time.sleep(0.001)
        scheduler.kill()
        if len(received) > before:
            in_flight.add(received[-1]["To"])
    last = Scheduler(env, log_dir / "scheduler-last.log")
    deadline = time.monotonic() + 180
    while len({m["To"] for m in received}) < people and time.monotonic() < deadline:
        if last.process.poll() is not None:
            raise AssertionError(last.log()[-3000:])
        time.sleep(0.1)
    time.sleep(1)  # anything still to come would be a duplicate
    last.stop()
    return in_flight


def duplicates(received: list) -> Counter:
    counts = Counter(m["To"] for m in received)
    return Counter({to: n - 1 for to, n in counts.items() if n > 1})
