"""Playing scenarios through the web: every ending, stale posts, replays, re-serves, xAPI."""

import json
import re
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from trainer.scenarios.loader import load_scenario_file
from trainer.scenarios.models import ChoiceRecord, Play, ReserveItem, ScenarioActor
from trainer.scenarios.practice import due_items
from trainer.scenarios.results import results_by_scenario
from trainer.scenarios.sync import scenario_by_slug, sync_scenario_folder
from trainer.util import utcnow

VALID = Path(__file__).parent / "cases" / "valid"
SLUG = "refund-no-receipt"
GRAPH = load_scenario_file(VALID / f"{SLUG}.yaml").scenario


def choice_id(node_id, index):
    """Return the id of a choice by its place in the file (the page posts ids)."""
    return GRAPH.nodes[node_id].choices[index].id


@pytest.fixture
def scenario(session):
    sync_scenario_folder(session=session, folder=VALID)
    session.commit()
    return scenario_by_slug(session=session, slug=SLUG)


def words(html):
    """Return the page's text with tags removed and whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def start(client, mode="play"):
    response = client.post(f"/scenarios/{SLUG}/start", data={"mode": mode})
    assert response.status_code == 303, response.get_data(as_text=True)
    return int(response.location.rsplit("/", 1)[1])


def decision_form(client, play_id):
    """Return the hidden fields of the decision screen."""
    html = client.get(f"/scenarios/plays/{play_id}").get_data(as_text=True)
    node = re.search(r'name="node" type="hidden" value="([^"]*)"', html).group(1)
    step = re.search(r'name="step" type="hidden" value="([^"]*)"', html).group(1)
    return {"node": node, "step": step}


def choose(client, play_id, index, form=None):
    """Post the choice at `index` in the file's order (not the shuffled order on screen)."""
    form = form or decision_form(client, play_id)
    return client.post(
        f"/scenarios/plays/{play_id}/choose",
        data={**form, "choice": choice_id(form["node"], index)},
    )


def play_through(client, choices, mode="play"):
    play_id = start(client, mode)
    for index in choices:
        response = choose(client, play_id, index)
        assert response.status_code == 303, response.get_data(as_text=True)
        assert client.get(response.location).status_code == 200  # the reaction screen
    return play_id


@pytest.mark.parametrize(
    ("choices", "ending", "totals"),
    [
        ([0, 0], "Good ending", {"Customer trust": 3, "Time to resolve": "10 min"}),
        ([1, 0], "Acceptable ending", {"Customer trust": -1, "Time to resolve": "30 min"}),
        ([2, 1], "Poor ending", {"Customer trust": 4, "Policy risk": 3}),
    ],
)
def test_play_to_each_ending(client, login_as, org, scenario, choices, ending, totals):
    login_as(org.employee)
    play_id = play_through(client, choices)
    response = client.get(f"/scenarios/plays/{play_id}")
    assert response.status_code == 302 and response.location.endswith(f"/{play_id}/ending")
    html = client.get(f"/scenarios/plays/{play_id}/ending").get_data(as_text=True)
    assert ending in html
    assert "Debrief" in html and "Best path" in html
    for label, value in totals.items():
        assert re.search(rf"<th scope=\"row\">{label}</th><td class=\"num\">{value}</td>", html)


def buttons(html):
    return re.findall(r'<button type="submit" name="choice" value="([^"]+)" class="choice">', html)


def test_decision_screen_is_a_post_form_of_buttons(client, login_as, org, scenario):
    login_as(org.employee)
    html = client.get(f"/scenarios/plays/{start(client)}").get_data(as_text=True)
    assert '<form method="post"' in html
    assert sorted(buttons(html)) == ["cash", "credit", "manager"]  # ids, never positions
    assert "<legend>What do you do?</legend>" in html


def test_reaction_shows_what_happened_and_meters_in_words(client, login_as, org, scenario):
    login_as(org.employee)
    play_id = start(client)
    response = choose(client, play_id, 0)
    assert response.location.endswith(f"/scenarios/plays/{play_id}/steps/1")
    html = client.get(response.location).get_data(as_text=True)
    assert "She thinks about it and puts her purse away." in html
    text = words(html)
    assert "Customer trust ▲ +2 better now 2" in text
    assert "Cost to the business ▲ +30 worse now 30" in text
    assert "No change: Policy risk." in text
    assert f'href="/scenarios/plays/{play_id}"' in html  # Continue


def test_a_repeated_post_is_not_recorded_twice(client, login_as, org, scenario, session):
    login_as(org.employee)
    play_id = start(client)
    form = decision_form(client, play_id)
    assert choose(client, play_id, 0, form).status_code == 303
    again = choose(client, play_id, 1, form)
    assert again.status_code == 303 and again.location.endswith(f"/scenarios/plays/{play_id}")
    assert "already made" in client.get(again.location).get_data(as_text=True)
    records = session.exec(select(ChoiceRecord).where(ChoiceRecord.play_id == play_id)).all()
    assert [r.choice_id for r in records] == ["credit"]


def test_a_post_after_the_end_is_friendly(client, login_as, org, scenario):
    login_as(org.employee)
    play_id = start(client)
    choose(client, play_id, 0)
    last = decision_form(client, play_id)
    choose(client, play_id, 0, last)
    response = choose(client, play_id, 1, last)
    assert response.status_code == 303 and response.location.endswith("/ending")


@pytest.mark.parametrize(
    "data",
    [
        {"choice": "0"},
        {"choice": "happy"},
        {"choice": "abc"},
        {"choice": ""},
        {"node": ""},
        {"step": "x"},
        {"choice": "x" * 101},
    ],
)
def test_an_invalid_choice_is_a_400(client, login_as, org, scenario, data):
    login_as(org.employee)
    play_id = start(client)
    form = {**decision_form(client, play_id), "choice": "credit", **data}
    response = client.post(f"/scenarios/plays/{play_id}/choose", data=form)
    assert response.status_code == 400


def test_nobody_else_sees_or_plays_a_play(client, login_as, org, scenario):
    login_as(org.employee)
    play_id = start(client)
    form = decision_form(client, play_id)
    login_as(org.manager)
    assert client.get(f"/scenarios/plays/{play_id}").status_code == 404
    assert (
        client.post(
            f"/scenarios/plays/{play_id}/choose", data={**form, "choice": "credit"}
        ).status_code
        == 404
    )
    login_as(org.hr)
    assert client.get(f"/scenarios/plays/{play_id}/ending").status_code == 404


def test_start_resumes_an_unfinished_play(client, login_as, org, scenario):
    login_as(org.employee)
    play_id = start(client)
    assert start(client) == play_id
    assert start(client, "practice") != play_id


def test_best_result_is_kept_across_replays(client, login_as, org, scenario, session):
    login_as(org.employee)
    good = play_through(client, [0, 0])
    poor = play_through(client, [2, 1])
    html = client.get("/scenarios/").get_data(as_text=True)
    assert re.search(r"Best result: <span[^>]*>Good ending</span> · Latest: <span[^>]*>Poor", html)
    scenario = scenario_by_slug(session=session, slug=SLUG)
    result = results_by_scenario(session=session, user=org.employee)[scenario.id]
    assert (result["best"].play_id, result["latest"].play_id, result["count"]) == (good, poor, 2)
    plays = session.exec(
        select(Play).where(Play.user_id == org.employee.id).order_by(Play.id)
    ).all()
    assert [p.is_first_attempt for p in plays] == [True, False]


def test_practice_plays_are_never_first_attempts(client, login_as, org, scenario, session):
    login_as(org.employee)
    practice = play_through(client, [0, 0], mode="practice")
    real = play_through(client, [0, 0])
    assert "Private practice" in client.get(f"/scenarios/plays/{practice}/ending").get_data(
        as_text=True
    )
    assert session.get(Play, practice).mode == "practice"
    assert not session.get(Play, practice).is_first_attempt
    assert not session.get(Play, real).is_first_attempt


def test_each_choice_records_an_xapi_answered_statement(client, login_as, org, scenario, session):
    login_as(org.employee)
    play_id = play_through(client, [0])
    record = session.exec(select(ChoiceRecord).where(ChoiceRecord.play_id == play_id)).one()
    statement = record.xapi
    actor = session.get(ScenarioActor, org.employee.id)
    assert statement["actor"] == {"account": {"homePage": "http://localhost", "name": actor.name}}
    assert org.employee.email not in json.dumps(statement)
    assert statement["verb"]["id"] == "http://adlnet.gov/expapi/verbs/answered"
    assert statement["object"]["id"] == f"http://localhost/xapi/scenario/{SLUG}/node/counter"
    definition = statement["object"]["definition"]
    assert definition["interactionType"] == "choice"
    assert [c["id"] for c in definition["choices"]] == ["credit", "manager", "cash"]
    assert "correctResponsesPattern" not in definition
    assert statement["result"]["response"] == "credit"
    extensions = statement["result"]["extensions"]
    assert extensions["http://localhost/xapi/ext/trust"] == 2
    assert extensions["http://localhost/xapi/ext/cost"] == 30
    assert all(key.startswith("http://localhost/xapi/ext/") for key in extensions)
    play = session.get(Play, play_id)
    assert statement["context"]["registration"] == play.registration
    uuid.UUID(statement["id"])
    assert statement["timestamp"].endswith("Z")
    assert record.meters_after == {"trust": 2, "time": 5, "cost": 30, "risk": 0, "confidence": 1}
    assert (record.kind, record.step, record.node_id) == ("own", 1, "counter")


def test_content_is_sanitised(client, login_as, org, session, tmp_path):
    text = (
        (VALID / f"{SLUG}.yaml")
        .read_text()
        .replace(
            "A regular customer wants a cash refund",
            "<script>alert(1)</script> A regular customer wants a *cash* refund",
        )
    )
    (tmp_path / f"{SLUG}.yaml").write_text(text)
    sync_scenario_folder(session=session, folder=tmp_path)
    session.commit()
    login_as(org.employee)
    html = client.get(f"/scenarios/plays/{start(client)}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html and "<em>cash</em>" in html


def make_due(session, user):
    items = session.exec(select(ReserveItem).where(ReserveItem.user_id == user.id)).all()
    for item in items:
        item.due_at = utcnow() - timedelta(minutes=1)
        session.add(item)
    session.commit()
    return items


def test_a_poor_ending_fills_the_reserve_queue(client, login_as, org, scenario, session):
    login_as(org.employee)
    play_through(client, [2, 1])  # cash, then the fee: both shut out a better ending
    items = session.exec(select(ReserveItem).order_by(ReserveItem.node_id)).all()
    assert [(i.node_id, i.stage) for i in items] == [("cash", 0), ("counter", 0)]
    due_in = items[0].due_at - utcnow()
    assert timedelta(days=1, hours=23) < due_in <= timedelta(days=2)
    assert "Due for practice" not in client.get("/scenarios/").get_data(as_text=True)
    response = client.get(f"/scenarios/due/{items[0].id}")
    assert response.status_code == 302  # not due yet


def test_a_reserve_is_served_and_advances_when_answered_well(
    client, login_as, org, scenario, session
):
    login_as(org.employee)
    play_through(client, [2, 1])
    make_due(session, org.employee)
    html = client.get("/scenarios/").get_data(as_text=True)
    assert "Due for practice" in html
    item = session.exec(select(ReserveItem).where(ReserveItem.node_id == "counter")).one()
    page = client.get(f"/scenarios/due/{item.id}").get_data(as_text=True)
    assert "Two people are queuing behind her." in page

    response = client.post(
        f"/scenarios/due/{item.id}", data={"node": "counter", "choice": "credit"}
    )
    assert response.status_code == 303
    feedback = words(client.get(response.location).get_data(as_text=True))
    assert "best ending still within reach: Good ending" in feedback
    assert "Customer trust ▲ +2" in feedback
    session.refresh(item)
    assert item.stage == 1
    assert timedelta(days=6) < item.due_at - utcnow() <= timedelta(weeks=1)
    reserve_play = session.exec(select(Play).where(Play.mode == "reserve")).one()
    assert not reserve_play.is_first_attempt and reserve_play.finished

    again = client.post(f"/scenarios/due/{item.id}", data={"node": "counter", "choice": "credit"})
    assert again.status_code == 303 and again.location.endswith("/scenarios/")
    assert session.exec(select(Play).where(Play.mode == "reserve")).all() == [reserve_play]


def test_a_reserve_answered_weakly_starts_again_and_three_good_answers_clear_it(
    client, login_as, org, scenario, session
):
    login_as(org.employee)
    play_through(client, [2, 1])
    item = session.exec(select(ReserveItem).where(ReserveItem.node_id == "counter")).one()
    for choice, stage in [(2, 0), (0, 1), (1, 2)]:
        make_due(session, org.employee)
        client.post(
            f"/scenarios/due/{item.id}",
            data={"node": "counter", "choice": choice_id("counter", choice)},
        )
        session.refresh(item)
        assert item.stage == stage
    make_due(session, org.employee)
    client.post(f"/scenarios/due/{item.id}", data={"node": "counter", "choice": "credit"})
    session.refresh(item)
    assert item.cleared_at is not None
    make_due(session, org.employee)
    assert [i.node_id for i in due_items(session=session, user=org.employee)] == ["cash"]


def test_another_persons_reserve_is_not_found(client, login_as, org, scenario, session):
    login_as(org.employee)
    play_through(client, [2, 1])
    item = make_due(session, org.employee)[0]
    login_as(org.manager)
    assert client.get(f"/scenarios/due/{item.id}").status_code == 404


def test_home_panel_and_nav(client, login_as, org, scenario):
    login_as(org.employee)
    html = client.get("/").get_data(as_text=True)
    assert "you have played 0 of 1" in html
    assert ">Scenarios</a>" in html and "Scenario reports" not in html
    login_as(org.manager)
    assert "Scenario reports" in client.get("/").get_data(as_text=True)


def test_a_retired_scenario_is_hidden_but_old_results_stay(
    client, login_as, org, scenario, session, tmp_path
):
    login_as(org.employee)
    finished = play_through(client, [2, 1])
    make_due(session, org.employee)
    item = session.exec(select(ReserveItem)).first()
    sync_scenario_folder(session=session, folder=tmp_path)  # the file is gone
    session.commit()
    assert SLUG not in client.get("/scenarios/").get_data(as_text=True)
    assert client.get(f"/scenarios/{SLUG}").status_code == 404
    assert client.get(f"/scenarios/due/{item.id}").status_code == 404
    assert due_items(session=session, user=org.employee) == []
    html = client.get(f"/scenarios/plays/{finished}/ending").get_data(as_text=True)
    assert "Poor ending" in html and "Play again" not in html
