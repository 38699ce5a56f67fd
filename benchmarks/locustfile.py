"""Locust load test: learners, survey respondents and managers on the demo organisation.

Run it through benchmarks/load_test.py, which builds the demo, starts gunicorn, writes the plan
this file reads (`BENCH_LOCUST_PLAN`: session cookies and paths, so that argon2 sign-ins stay
out of the numbers), runs locust headless and checks every write against the database.

Request names group the kinds the report gives a p95 for: "page: ...", "quiz submit",
"survey submit", "dashboard: ...". A 5xx is a failure named "server error <code>".
"""

import json
import os
import random
import sys
from itertools import count
from pathlib import Path
from urllib.parse import urlsplit

from locust import HttpUser, between, events, task
from locust.exception import StopUser

sys.path.insert(0, str(Path(__file__).resolve().parent))

from learn_bench import QuizForm  # noqa: E402
from ratio import CSRF  # noqa: E402

PLAN = json.loads(Path(os.environ["BENCH_LOCUST_PLAN"]).read_text())
_next_respondent = count()
_environment = []


@events.init.add_listener
def keep_environment(environment, **_):
    _environment.append(environment)


@events.quit.add_listener
def write_report(**_):
    """Write the final statistics to BENCH_LOCUST_REPORT.

    `quit` fires after every user has stopped, so a request that finished while the run was
    stopping is counted here (locust's CSV files are written before that).
    """
    stats = _environment[0].stats
    report = {
        "requests": [
            {
                "name": e.name,
                "count": e.num_requests,
                "failures": e.num_failures,
                "p50": e.get_response_time_percentile(0.5),
                "p95": e.get_response_time_percentile(0.95),
                "max": e.max_response_time,
                "per_second": e.total_rps,
            }
            for e in sorted(stats.entries.values(), key=lambda e: e.name)
        ],
        "failures": [
            {"name": e.name, "error": str(e.error), "count": e.occurrences}
            for e in stats.errors.values()
        ],
    }
    Path(os.environ["BENCH_LOCUST_REPORT"]).write_text(json.dumps(report))


class Visitor(HttpUser):
    abstract = True
    wait_time = between(1, 3)

    def sign_in(self, cookie: str) -> None:
        """Become the person whose signed session cookie this is."""
        self.client.cookies.clear()  # the domain must match, or the server's next cookie is added
        self.client.cookies.set("session", cookie, domain=urlsplit(self.host).hostname)

    def send(self, method: str, path: str, name: str, ok: int = 200, **kwargs):
        """Send a request; anything but `ok` is a failure, a 5xx named by its code."""
        with self.client.request(
            method, path, name=name, allow_redirects=False, catch_response=True, **kwargs
        ) as response:
            if response.status_code == 0:
                response.failure(f"no response: {response.error!r}")
            elif response.status_code >= 500:
                response.failure(f"server error {response.status_code}")
            elif response.status_code != ok:
                response.failure(f"HTTP {response.status_code}, expected {ok}")
            return response


class Learner(Visitor):
    """An employee reading lessons and taking the quiz (as often as they like)."""

    weight = 6

    def on_start(self):
        self.sign_in(random.choice(PLAN["learners"]))
        self.course, self.lessons = random.choice(PLAN["courses"])

    @task(5)
    def lesson(self):
        number = random.randint(1, self.lessons)
        self.send("GET", f"/learn/courses/{self.course}/lessons/{number}", "page: lesson")

    @task(2)
    def home(self):
        self.send("GET", "/", "page: home")

    @task(2)
    def quiz(self):
        path = f"/learn/courses/{self.course}/quiz"
        form = self.send("GET", path, "page: quiz form")
        if form.status_code == 200:
            self.send(
                "POST",
                path,
                "quiz submit",
                ok=302,
                data=QuizForm(form.text).answers(random.Random()),
            )


class Respondent(Visitor):
    """Each iteration is a different employee answering the open pulse survey once."""

    weight = 2

    @task
    def answer(self):
        index = next(_next_respondent)
        if index >= len(PLAN["respondents"]):
            raise StopUser  # everyone in the plan has answered
        self.sign_in(PLAN["respondents"][index])
        path = PLAN["survey"]
        form = self.send("GET", f"{path}?ready=1", "page: survey form")
        token = CSRF.search(form.text)
        if form.status_code != 200 or not token:
            return
        data = {"csrf_token": token.group(1), "comment": ""}
        data.update(
            {
                f"item-{item}": str(
                    random.randint(0, 10) if kind == "enps" else random.randint(1, 5)
                )
                for item, kind in PLAN["items"]
            }
        )
        self.send("POST", path, "survey submit", ok=302, data=data)


class Manager(Visitor):
    """A manager or HR person looking at dashboards and results."""

    weight = 2

    def on_start(self):
        self.role = random.choice(("manager", "hr"))
        self.sign_in(PLAN["cookies"][self.role])

    @task(2)
    def home(self):
        self.send("GET", "/", "page: home")

    @task(3)
    def dashboards(self):
        for path in PLAN["dashboards"][self.role]:
            self.send("GET", path, "dashboard: " + path.split("?")[0].split("/")[1])
