"""Driver analysis (issue 13): each question against engagement without it, honestly."""

import numpy as np
import pytest

from tests.insights.conftest import close_cycle
from trainer.pulse import drivers as driver_module
from trainer.pulse.driver_results import released_drivers
from trainer.pulse.drivers import MIN_ANSWERS, DriverStatus, analyse
from trainer.pulse.jobs import close_ended_cycles
from trainer.pulse.models import ItemKind
from trainer.pulse.programmes import ensure_default_programme
from trainer.util import quarter_bounds, quarter_of, shift_quarter, utcnow

ITEMS = {item_id: f"Question {item_id}" for item_id in range(1, 7)}
PANELS = 30


def simulate(rng, n, loadings, shifts=None):
    """Return n responses: item j = loading_j · factor + noise, on the 1-5 scale."""
    factor = rng.standard_normal(n)
    shifts = shifts or [0.0] * len(loadings)
    columns = []
    for loading, shift in zip(loadings, shifts, strict=True):
        latent = loading * factor + (1 - loading**2) ** 0.5 * rng.standard_normal(n)
        columns.append(np.clip(np.rint(3 + shift + 1.1 * latent), 1, 5).astype(int))
    return [
        {item_id: int(col[row]) for item_id, col in zip(ITEMS, columns, strict=True)}
        for row in range(n)
    ]


def planted_panels():
    """The first question carries engagement and scores low; the others share the factor weakly."""
    rng = np.random.default_rng(13)
    loadings = [0.85, 0.45, 0.45, 0.45, 0.45, 0.45]
    shifts = [-0.6, 0, 0, 0, 0, 0]
    return [analyse(simulate(rng, 60, loadings, shifts), ITEMS) for _ in range(PANELS)]


def test_a_planted_driver_is_ranked_first_and_named_a_focus_area():
    panels = planted_panels()
    first = [max((d for d in p.drivers), key=lambda d: d.estimate).item_id for p in panels]
    first_rate = first.count(1) / PANELS
    focus_rate = sum(bool(p.focus) and p.focus[0].item_id == 1 for p in panels) / PANELS
    assert first_rate >= 0.8, first_rate
    assert focus_rate >= 0.8, focus_rate
    for panel in panels:
        assert len(panel.focus) <= 3
        for d in panel.drivers:
            assert d.status == DriverStatus.OK and d.n == 60
            assert d.ci_low < d.estimate < d.ci_high
            assert 0 <= d.p_value <= d.q_value <= 1


def test_independent_items_are_rarely_called_drivers():
    rng = np.random.default_rng(7)
    q_values = [
        d.q_value
        for _ in range(PANELS)
        for d in analyse(simulate(rng, 60, [0.0] * 6), ITEMS).drivers
    ]
    assert len(q_values) == PANELS * 6
    assert sum(q < 0.05 for q in q_values) / len(q_values) <= 0.05


def test_focus_areas_are_not_padded():
    rng = np.random.default_rng(3)
    analysis = analyse(simulate(rng, 60, [0.0] * 6), ITEMS)
    assert analysis.focus == []


def test_under_thirty_answers_there_are_no_estimates():
    rng = np.random.default_rng(1)
    analysis = analyse(simulate(rng, MIN_ANSWERS - 1, [0.8] * 6), ITEMS)
    assert analysis.status == DriverStatus.TOO_FEW_ANSWERS
    assert analysis.n == MIN_ANSWERS - 1
    assert analysis.drivers == [] and analysis.focus == []


def test_a_question_everyone_answered_alike_has_insufficient_variance():
    rng = np.random.default_rng(2)
    answers = simulate(rng, 40, [0.6] * 6)
    for response in answers:
        response[1] = 5
    drivers = {d.item_id: d for d in analyse(answers, ITEMS).drivers}
    assert drivers[1].status == DriverStatus.INSUFFICIENT_VARIANCE
    assert drivers[1].estimate is None and drivers[1].q_value is None
    assert drivers[2].status == DriverStatus.OK and drivers[2].q_value is not None


def test_the_interval_is_fisher_z():
    rng = np.random.default_rng(4)
    driver = analyse(simulate(rng, 50, [0.6] * 6), ITEMS).drivers[0]
    z, se = np.arctanh(driver.estimate), 1 / np.sqrt(driver.n - 3)
    assert driver.ci_low == pytest.approx(np.tanh(z - 1.959964 * se), abs=1e-6)
    assert driver.ci_high == pytest.approx(np.tanh(z + 1.959964 * se), abs=1e-6)


# Through the database, the page and the JSON ------------------------------------------------


@pytest.fixture
def unanalysed(session, org, make_unit, make_user):
    """A closed cycle: T1 has 40 answers with a planted driver, T2 12, T3 3 and T4 (its sibling
    under S2) 12, so T3 is suppressed and T2 is released with too few answers for drivers."""
    org.t4 = make_unit("T4", "team", org.s2)
    for team, count in ((org.t1, 39), (org.t2, 12), (org.t3, 12), (org.t4, 12)):
        for _ in range(count):
            make_user("employee", team)
    period = shift_quarter(quarter_of(utcnow().date()), -1)
    programme = ensure_default_programme(
        org.company, session=session, starts_on=quarter_bounds(period)[0]
    )
    session.commit()
    rng = np.random.default_rng(11)
    planted = {}

    def answers_for(items):
        likert = [i for i in items if i.kind == ItemKind.LIKERT]
        planted["driver"] = likert[0]
        loadings = [0.9] + [0.4] * (len(likert) - 1)
        shifts = [-0.8] + [0.0] * (len(likert) - 1)
        out = {}
        for team, n in ((org.t1, 40), (org.t2, 12), (org.t3, 3), (org.t4, 12)):
            factor = rng.standard_normal(n)
            out[team.id] = []
            for person in range(n):
                answers = {i.id: 8 for i in items if i.kind == ItemKind.ENPS}
                for item, loading, shift in zip(likert, loadings, shifts, strict=True):
                    noise = (1 - loading**2) ** 0.5 * rng.standard_normal()
                    latent = loading * factor[person] + noise
                    answers[item.id] = int(np.clip(np.rint(3 + shift + 1.1 * latent), 1, 5))
                out[team.id].append(answers)
        return out

    cycle = close_cycle(session, programme, period, answers_for)
    org.cycle, org.driver = cycle, planted["driver"]
    return org


@pytest.fixture
def closed(unanalysed, session):
    """The same cycle after the scheduler's close job has stored its analyses."""
    close_ended_cycles(session=session, now=utcnow())
    return unanalysed


def test_the_service_reads_answers_of_released_groups_only(session, closed):
    t1 = released_drivers(session=session, cycle=closed.cycle, unit_id=closed.t1.id)
    assert t1.status == DriverStatus.OK and t1.n == 40
    assert t1.focus[0].item_id == closed.driver.id
    t2 = released_drivers(session=session, cycle=closed.cycle, unit_id=closed.t2.id)
    assert t2.status == DriverStatus.TOO_FEW_ANSWERS and t2.n == 12 and t2.drivers == []
    assert released_drivers(session=session, cycle=closed.cycle, unit_id=closed.t3.id) is None


def test_the_results_page_shows_drivers_for_released_teams_only(client, closed, login_as):
    login_as(closed.hr)
    page = client.get(f"/pulse/results/{closed.t1.id}?cycle={closed.cycle.id}")
    text = page.get_data(as_text=True)
    assert "What moves engagement here" in text
    assert f"<strong>{closed.driver.text.rstrip('.')}</strong>: people who rate this higher" in text
    assert "95% interval" in text and "40 answers" in text
    assert '<details class="drivers-table">' in text
    few = client.get(f"/pulse/results/{closed.t2.id}?cycle={closed.cycle.id}")
    assert "Driver analysis needs at least 30 answers; this team has 12." in few.get_data(
        as_text=True
    )
    suppressed = client.get(f"/pulse/results/{closed.t3.id}?cycle={closed.cycle.id}")
    text = suppressed.get_data(as_text=True)
    assert "Not enough responses" in text
    assert "engagement here" not in text and "Driver analysis" not in text


FIELDS = {
    "item_id",
    "item_text",
    "reader_text",
    "target",
    "estimate",
    "ci_low",
    "ci_high",
    "q_value",
    "n",
    "status",
}


def test_the_json_carries_the_documented_driver_fields(client, closed, login_as):
    login_as(closed.hr)

    def drivers(unit):
        return client.get(f"/pulse/results/{unit.id}.json?cycle={closed.cycle.id}").get_json()[
            "drivers"
        ]

    t1 = drivers(closed.t1)
    assert t1 and all(set(d) == FIELDS for d in t1)
    assert all(d["target"] == "engagement" and d["status"] == "ok" and d["n"] == 40 for d in t1)
    top = max(t1, key=lambda d: d["estimate"])
    assert top["item_id"] == closed.driver.id and top["item_text"] == closed.driver.text
    assert top["ci_low"] < top["estimate"] < top["ci_high"] and top["q_value"] < 0.05
    t2 = drivers(closed.t2)
    assert t2 and all(set(d) == FIELDS for d in t2)
    assert all(d["status"] == "too_few_answers" and d["estimate"] is None for d in t2)
    assert all(d["n"] == 12 for d in t2)
    assert drivers(closed.t3) == []


def test_the_page_computes_no_driver_and_shows_the_stored_ones_after_the_close_job(
    client, session, unanalysed, login_as, monkeypatch
):
    calls = []
    real = driver_module.analyse
    monkeypatch.setattr(driver_module, "analyse", lambda *a, **k: calls.append(1) or real(*a, **k))
    login_as(unanalysed.hr)
    url = f"/pulse/results/{unanalysed.t1.id}?cycle={unanalysed.cycle.id}"
    before = client.get(url).get_data(as_text=True)
    assert "The driver analysis appears a few minutes after the survey closes." in before
    assert client.get(url.replace("?", ".json?")).get_json()["drivers"] == []
    assert calls == []

    close_ended_cycles(session=session, now=utcnow())  # the scheduler's close job catches up
    stored = len(calls)
    assert stored >= 1
    after = client.get(url).get_data(as_text=True)
    assert "people who rate this higher" in after and "a few minutes" not in after
    assert client.get(url.replace("?", ".json?")).get_json()["drivers"][0]["status"] == "ok"
    assert len(calls) == stored  # reading computed nothing
    close_ended_cycles(session=session, now=utcnow())  # nothing left to catch up on
    assert len(calls) == stored


def test_the_driver_analysis_needs_no_statistics_stack():
    """Driver analysis uses the standard library only: a fresh process that runs it has
    loaded none of numpy, scipy, pandas, statsmodels."""
    import subprocess
    import sys

    code = (
        "import sys, random; from trainer.pulse.drivers import analyse; "
        "rng = random.Random(1); "
        "answers = [{i: rng.randint(1, 5) for i in range(4)} for _ in range(40)]; "
        "analyse(answers, {i: str(i) for i in range(4)}); "
        "print([m for m in ('numpy', 'scipy', 'pandas', 'statsmodels') if m in sys.modules])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": ":".join(sys.path)},
    )
    assert done.stdout.strip() == "[]"
