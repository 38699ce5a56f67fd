"""Choices and quiz options are shown in an order shuffled per play or attempt, kept with it.

The order is stable across a resumed play, the step pages and an attempt's result page; the
xAPI record and the reports keep the choice's id, never its position.
"""

import re
from pathlib import Path

import pytest
from sqlmodel import select

from tests.learn.learn_factory import add_course, form_answers, response_values
from trainer.learn import progress, quizzes, reports
from trainer.learn import services as learn
from trainer.learn.models import QuizAttempt
from trainer.scenarios import engine
from trainer.scenarios.loader import load_scenario_file
from trainer.scenarios.models import ChoiceRecord, Play
from trainer.scenarios.plays import choose, reserve_seed, start_play
from trainer.scenarios.sync import scenario_by_slug, sync_scenario_folder

VALID = Path(__file__).parent / "cases" / "valid"
SLUG = "refund-no-receipt"
GRAPH = load_scenario_file(VALID / f"{SLUG}.yaml").scenario
FILE_ORDER = ["credit", "manager", "cash"]


@pytest.fixture
def scenario(session):
    sync_scenario_folder(session=session, folder=VALID)
    session.commit()
    return scenario_by_slug(session=session, slug=SLUG)


def button_ids(html):
    return re.findall(r'<button type="submit" name="choice" value="([^"]+)" class="choice">', html)


def seeds_with_orders(node, count=2):
    """Return seeds that give `count` different orders of `node`'s choices."""
    found = {}
    for seed in range(200):
        found.setdefault(tuple(engine.choice_order(node, seed)), seed)
        if len(found) == count:
            return list(found.values())
    raise AssertionError("the seeds never changed the order")


def test_the_order_depends_on_the_seed_and_only_on_it():
    node = GRAPH.nodes["counter"]
    assert engine.choice_order(node, None) == [0, 1, 2]
    assert engine.choice_order(node, 12345) == engine.choice_order(node, 12345)
    orders = {tuple(engine.choice_order(node, seed)) for seed in range(50)}
    assert len(orders) == 6  # every order of three choices turns up
    first, second = seeds_with_orders(node)
    assert engine.choice_order(node, first) != engine.choice_order(node, second)


def start(client):
    response = client.post(f"/scenarios/{SLUG}/start", data={"mode": "play"})
    assert response.status_code == 303
    return int(response.location.rsplit("/", 1)[1])


def set_seed(session, play_id, seed):
    play = session.get(Play, play_id)
    play.choice_seed = seed
    session.add(play)
    session.commit()


def test_a_play_gets_a_seed_and_shows_its_order_again_when_resumed(
    client, login_as, org, scenario, session
):
    login_as(org.employee)
    play_id = start(client)
    assert session.get(Play, play_id).choice_seed is not None
    node = GRAPH.nodes["counter"]
    for seed in seeds_with_orders(node, 3):
        set_seed(session, play_id, seed)
        expected = [node.choices[i].id for i in engine.choice_order(node, seed)]
        first = button_ids(client.get(f"/scenarios/plays/{play_id}").get_data(as_text=True))
        assert first == expected
        assert start(client) == play_id  # "Continue" resumes the same play...
        again = button_ids(client.get(f"/scenarios/plays/{play_id}").get_data(as_text=True))
        assert again == first  # ...in the same order


def test_two_plays_with_different_seeds_show_different_orders(
    client, login_as, org, scenario, session, make_user
):
    node = GRAPH.nodes["counter"]
    shown = []
    for seed in seeds_with_orders(node):
        login_as(make_user("employee", org.t1))
        play_id = start(client)
        set_seed(session, play_id, seed)
        shown.append(button_ids(client.get(f"/scenarios/plays/{play_id}").get_data(as_text=True)))
    assert shown[0] != shown[1] and sorted(shown[0]) == sorted(shown[1]) == sorted(FILE_ORDER)


def test_the_choice_is_recorded_by_id_and_the_step_page_shows_the_same_order(
    client, login_as, org, scenario, session
):
    login_as(org.employee)
    play_id = start(client)
    node = GRAPH.nodes["counter"]
    seed = next(s for s in range(200) if engine.choice_order(node, s)[0] == 2)  # cash first
    set_seed(session, play_id, seed)
    html = client.get(f"/scenarios/plays/{play_id}").get_data(as_text=True)
    shown = button_ids(html)
    assert shown[0] == "cash"
    hidden = dict(re.findall(r'name="(node|step)" type="hidden" value="([^"]*)"', html))
    response = client.post(
        f"/scenarios/plays/{play_id}/choose", data={**hidden, "choice": "manager"}
    )
    assert response.status_code == 303

    record = session.exec(select(ChoiceRecord).where(ChoiceRecord.play_id == play_id)).one()
    assert record.choice_id == "manager"
    assert record.xapi["result"]["response"] == "manager"
    # The xAPI definition lists the choices by id, as in the file, whatever the screen showed.
    assert [c["id"] for c in record.xapi["object"]["definition"]["choices"]] == FILE_ORDER
    assert session.get(Play, play_id).path == [["counter", "manager"]]

    step = client.get(response.location).get_data(as_text=True)
    listed = re.search(r'<details class="options-had">(.*?)</details>', step, re.S).group(1)
    texts = re.findall(r"<li>(.*?)(?: <strong>\(your choice\)</strong>)?</li>", listed)
    by_id = {c.id: c.text for c in node.choices}
    assert texts == [by_id[i] for i in shown]
    assert "(your choice)" in listed.split(by_id["manager"])[1].split("</li>")[0]


def test_choice_reports_count_by_id_whatever_order_each_player_saw(
    session, scenario, org, make_user
):
    node = GRAPH.nodes["counter"]
    for seed in seeds_with_orders(node, 3):
        user = make_user("employee", org.t1)
        play = start_play(session=session, user=user, scenario=scenario)
        play.choice_seed = seed
        choose(
            session=session,
            play=play,
            node_id="counter",
            step=0,
            choice_index=engine.choice_index(node, "credit"),
            base_iri="http://localhost",
        )
    session.commit()
    picks = session.exec(select(ChoiceRecord.choice_id)).all()
    assert picks == ["credit"] * 3


def test_a_re_serve_shows_a_shuffled_order_and_keeps_it_on_its_play(
    client, login_as, org, scenario, session
):
    from datetime import timedelta

    from trainer.scenarios.models import ReserveItem
    from trainer.util import utcnow

    item = ReserveItem(
        user_id=org.employee.id,
        scenario_id=scenario.id,
        node_id="counter",
        due_at=utcnow() - timedelta(minutes=1),
    )
    session.add(item)
    session.commit()
    login_as(org.employee)
    node = GRAPH.nodes["counter"]
    seed = reserve_seed(item)
    html = client.get(f"/scenarios/due/{item.id}").get_data(as_text=True)
    assert button_ids(html) == [node.choices[i].id for i in engine.choice_order(node, seed)]
    assert button_ids(client.get(f"/scenarios/due/{item.id}").get_data(as_text=True)) == button_ids(
        html
    )
    client.post(f"/scenarios/due/{item.id}", data={"node": "counter", "choice": "credit"})
    play = session.exec(select(Play).where(Play.mode == "reserve")).one()
    assert play.choice_seed == seed and play.path == [["counter", "credit"]]


# ---------------------------------------------------------------------- quiz options


def option_texts(html, index):
    block = html.split(f'id="question-{index}"')[1].split("</fieldset>")[0]
    return re.findall(r'<input type="radio" name="q\d+" value="\d+"> <span>(.*?)</span>', block)


def seen_texts(html, index):
    block = html.split(f'id="answer-{index}"')[1].split("</ol>")[0]
    return [
        re.sub(r"<[^>]+>", "", t).strip()
        for t in re.findall(r"<li>(.*?)(?: <strong>\(your answer\)</strong>)?</li>", block)
    ]


def test_quiz_options_keep_their_order_on_reload_and_on_the_result_page(
    app, client, login_as, org, session
):
    course = add_course(session)
    session.commit()
    version = learn.version_for(session=session, course=course, enrolment=None)
    login_as(org.employee)
    url = f"/learn/courses/{course.slug}/quiz"
    page = client.get(url).get_data(as_text=True)
    shown = [re.sub(r"<[^>]+>", "", t).strip() for t in option_texts(page, 0)]
    assert sorted(shown) == ["A cash refund", "Nothing", "Store credit"]
    assert [
        re.sub(r"<[^>]+>", "", t).strip()
        for t in option_texts(client.get(url).get_data(as_text=True), 0)
    ] == shown

    data = {
        "version_id": str(version.id),
        **form_answers(version, org.employee.id, 1, app.config["SECRET_KEY"]),
    }
    response = client.post(url, data=data)
    assert response.status_code == 302
    attempt = session.exec(select(QuizAttempt)).one()
    assert attempt.option_seed and attempt.answers["0"] == 0  # stored by file index
    result = client.get(response.location).get_data(as_text=True)
    assert seen_texts(result, 0) == shown
    assert "Store credit <strong>(your answer)</strong>" in result.replace("<p>", "").replace(
        "</p>", ""
    )

    app.config["SECRET_KEY"] = "a new key"  # the stored seed, not the key, gives the order
    feedback = quizzes.attempt_feedback(version, attempt)
    assert [text for text, _, _ in feedback[0].options] == shown


def test_each_attempt_has_its_own_seed_and_item_analysis_counts_by_option(session, org):
    course = add_course(session)
    version = learn.version_for(session=session, course=course, enrolment=None)
    enrolment = progress.start_course(session=session, user=org.employee, course=course)
    seeds = [quizzes.quiz_seed("key", org.employee.id, version.id, n) for n in (1, 2, 3)]
    assert len(set(seeds)) == 3
    orders = {
        tuple(quizzes.shuffled_options(seed, 0, 3))
        for seed in (quizzes.quiz_seed("key", org.employee.id, version.id, n) for n in range(1, 40))
    }
    assert len(orders) > 1
    for seed in seeds:
        quizzes.submit_quiz(
            session=session,
            user=org.employee,
            enrolment=enrolment,
            version=version,
            option_seed=seed,
            responses=response_values(quizzes.questions_of(version), wrong=(0,)),
        )
    session.commit()
    row = next(
        r for r in reports.item_analysis(session=session, version=version) if r["index"] == 0
    )
    assert (row["answered"], row["top_wrong"], row["top_wrong_count"]) == (3, "Nothing", 3)
