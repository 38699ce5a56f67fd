"""20 people x 5 simultaneous submits through gunicorn: one answer each, no server errors."""

import threading

import pytest
import sqlalchemy as sa

from tests.conftest import PASSWORD
from tests.pulse.live import Browser, gunicorn, survey_form
from tests.pulse.test_pulse_linkage import _pool_tuples_on_disk
from trainer.pulse import jobs
from trainer.pulse.models import ResponsePool, SurveyParticipation, SurveyResponse
from trainer.pulse.pool import BATCH
from trainer.pulse.programmes import cycle_items
from trainer.util import utcnow

pytestmark = pytest.mark.slow
USERS, REPEATS = 20, 5


def test_concurrent_double_submits_store_exactly_one_answer_each(
    app, session, database_url, org, make_user, start_cycle, tmp_path
):
    people = [make_user("employee", org.t1 if i % 2 else org.t2) for i in range(USERS)]
    cycle = start_cycle(org)
    items = [(i.id, i.kind) for i in cycle_items(cycle, session=session)]
    session.commit()
    session.close()
    app.extensions["trainer.engine"].dispose()

    with gunicorn(
        database_url,
        workers=4,
        log_path=tmp_path / "gunicorn.log",
        seal_public_key_file=app.config["SEAL_PUBLIC_KEY_FILE"],
    ) as base:
        browsers = []
        for person in people:
            browser = Browser(base)
            browser.login(person.email, PASSWORD)
            token = browser.csrf(f"/pulse/cycles/{cycle.id}/answer?ready=1")
            browsers.append((browser, token))
        barrier = threading.Barrier(USERS * REPEATS)
        results = []

        def post(browser, token, n):
            data = survey_form(token, items, likert=1 + n % 5, comment=f"try {n}")
            barrier.wait()
            status, page, headers = browser.post(f"/pulse/cycles/{cycle.id}/answer", data)
            results.append((status, "already answered" in page, headers.get("Location")))

        threads = [
            threading.Thread(target=post, args=(b, t, n))
            for b, t in browsers
            for n in range(REPEATS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)

    log = (tmp_path / "gunicorn.log").read_text()
    assert len(results) == USERS * REPEATS
    assert not [r for r in results if r[0] >= 500], log[-3000:]
    stored = [r for r in results if r[0] == 302 and "/thanks" in (r[2] or "")]
    polite = [r for r in results if r[0] == 200 and r[1]]
    assert len(stored) == USERS and len(polite) == USERS * (REPEATS - 1), results
    with app.app_context():
        engine = app.extensions["trainer.engine"]
        with engine.connect() as conn:

            def count(model):
                return conn.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()

            assert count(SurveyParticipation) == USERS
            assert count(ResponsePool) == USERS  # sealed: only the scheduler flushes
            assert count(SurveyResponse) == 0
    jobs.flush_pools(session=session, now=utcnow())  # a random 10 opened, 10 stay sealed
    assert (
        session.execute(sa.select(sa.func.count()).select_from(SurveyResponse)).scalar()
        == USERS - BATCH
    )
    if session.get_bind().dialect.name == "postgresql":  # the flush vacuumed the pool
        assert _pool_tuples_on_disk(session) == BATCH
