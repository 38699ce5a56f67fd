"""Comment themes (issue 13): found by the scheduler on this server, shown with counts and
shares for groups with 10 or more comments, and comment search within released groups."""

import random

import pytest
from sqlmodel import select

from tests.insights.conftest import close_cycle
from trainer.pulse import analyses
from trainer.pulse.jobs import close_ended_cycles
from trainer.pulse.models import CommentTheme, ItemKind
from trainer.pulse.programmes import ensure_default_programme
from trainer.pulse.themes import MIN_COMMENTS, bank_theme, find_themes
from trainer.util import quarter_bounds, quarter_of, shift_quarter, utcnow

TOPICS = {  # planted topic -> (its telling words, the bank theme it belongs to, phrasings)
    "systems": (
        {"system", "screen", "booking", "crashes"},
        "tools_time",
        [
            "The booking system crashes at busy times",
            "Our booking screen freezes and the system is slow",
            "The system logs us out of the booking screen",
            "Screen crashes again, the system needs fixing",
        ],
    ),
    "workload": (
        {"workload", "shift", "overtime", "heavy"},
        "wellbeing",
        [
            "Workload is too heavy on the late shift",
            "Heavy workload and overtime every shift",
            "The shift pattern means overtime most weeks",
            "Overtime again, the workload is heavy",
        ],
    ),
    "recognition": (
        {"recognition", "thanks", "praise", "noticed"},
        "recognition",
        [
            "Good work gets no recognition or thanks",
            "A word of praise or thanks would be noticed",
            "Recognition only for sales, never praise for service",
            "Nobody noticed our extra effort, no thanks",
        ],
    ),
}
FILLERS = ["", " really", " today", " again", " lately", " sometimes"]


def planted_corpus(seed: int, per_topic: int = 15) -> list[str]:
    rng = random.Random(seed)
    corpus = [
        rng.choice(phrasings) + rng.choice(FILLERS)
        for _, _, phrasings in TOPICS.values()
        for _ in range(per_topic)
    ]
    rng.shuffle(corpus)
    return corpus


@pytest.mark.parametrize("seed", range(5))
def test_each_planted_topic_is_recovered_as_a_theme(seed):
    themes = find_themes(planted_corpus(seed), seed=seed)
    matched = {}
    for name, (words, bank, _) in TOPICS.items():
        best = max(themes, key=lambda t: len(words & set(t.terms)))
        assert len(words & set(best.terms)) >= 2, (name, themes)
        assert best.bank_theme == bank
        matched[name] = best.terms
    assert len(set(matched.values())) == 3  # three different themes
    assert sum(t.comments for t in themes) <= 45 and all(t.of_comments == 45 for t in themes)
    assert [t.comments for t in themes] == sorted((t.comments for t in themes), reverse=True)


def test_themes_are_deterministic_whatever_the_order_of_the_comments():
    corpus = planted_corpus(1)
    first = find_themes(corpus, seed=7)
    for _ in range(3):
        random.shuffle(corpus)
        assert find_themes(corpus, seed=7) == first


def test_nine_comments_make_no_theme_and_a_word_in_one_comment_names_none():
    assert MIN_COMMENTS == analyses.THEME_MIN_COMMENTS == 10
    assert find_themes(planted_corpus(2)[:9], seed=1) == []
    unique = [f"Word{n} nothing shared here {chr(97 + n) * 4}" for n in range(12)]
    themes = find_themes(unique, seed=1)
    assert all("word" not in " ".join(t.terms) for t in themes)


def test_bank_themes_match_in_every_shipped_language():
    assert bank_theme(["workload", "late"]) == "wellbeing"
    assert bank_theme(["überstunden", "schicht"]) == "wellbeing"
    assert bank_theme(["herramientas", "lentas"]) == "tools_time"
    assert bank_theme(["weather", "parking"]) == ""


# Through the close job, the page and the JSON -----------------------------------------------


@pytest.fixture
def closed(session, org, make_unit, make_user):
    """T1: 40 answers and 45 planted comments; T2: 12 answers and 9 comments; T3 (another site):
    12 answers whose comments all mention zebras. The close job has run."""
    for team, count in ((org.t1, 39), (org.t2, 12), (org.t3, 12)):
        for _ in range(count):
            make_user("employee", team)
    period = shift_quarter(quarter_of(utcnow().date()), -1)
    programme = ensure_default_programme(
        org.company, session=session, starts_on=quarter_bounds(period)[0]
    )
    session.commit()
    corpus = planted_corpus(3, per_topic=13)  # 39 comments

    def answers_for(items):
        def person(comment=None):
            answers = {i.id: 8 if i.kind == ItemKind.ENPS else 4 for i in items}
            return answers | ({"comment": comment} if comment else {})

        return {
            org.t1.id: [person(c) for c in corpus] + [person() for _ in range(1)],
            org.t2.id: [person(f"Team two note {n} parking") for n in range(9)]
            + [person() for _ in range(3)],
            org.t3.id: [person(f"Zebra crossing outside is dangerous {n}") for n in range(12)],
        }

    org.cycle = close_cycle(session, programme, period, answers_for)
    close_ended_cycles(session=session, now=utcnow())
    return org


def _themes(session, cycle, unit):
    return [
        (t.terms, t.bank_theme, t.comments, t.of_comments)
        for t in session.exec(
            select(CommentTheme)
            .where(CommentTheme.cycle_id == cycle.id, CommentTheme.unit_id == unit.id)
            .order_by(CommentTheme.position)
        )
    ]


def test_the_close_job_stores_themes_for_groups_with_ten_comments_or_more(session, closed):
    t1 = _themes(session, closed.cycle, closed.t1)
    assert len(t1) >= 3 and all(of == 39 for *_, of in t1)
    assert {"tools_time", "wellbeing", "recognition"} <= {bank for _, bank, _, _ in t1}
    assert _themes(session, closed.cycle, closed.t2) == []  # 9 comments
    assert _themes(session, closed.cycle, closed.s1)  # T1 and T2 together
    # Same cycle, same themes: running the analysis again changes nothing.
    analyses.store_cycle_analyses(closed.cycle, session=session)
    session.commit()
    assert _themes(session, closed.cycle, closed.t1) == t1


def test_the_page_shows_themes_with_count_and_share_only_from_ten_comments(
    client, closed, login_as
):
    login_as(closed.manager)
    page = client.get(f"/pulse/results/{closed.t1.id}?cycle={closed.cycle.id}")
    text = page.get_data(as_text=True)
    assert "What people write about" in text
    assert "in the 39 comments" in text
    assert "(about: Wellbeing and workload)" in text
    assert "comments (" in text and "%)" in text
    doc = client.get(f"/pulse/results/{closed.t1.id}.json?cycle={closed.cycle.id}").get_json()
    assert len(doc["themes"]) >= 3
    assert all(0 < t["share"] <= 1 and t["comments"] >= 1 for t in doc["themes"])
    assert set(doc["themes"][0]) == {"terms", "bank_theme", "comments", "share"}
    few = client.get(f"/pulse/results/{closed.t2.id}?cycle={closed.cycle.id}")
    few_text = few.get_data(as_text=True)
    assert "Themes are shown when a group has at least 10 comments; this one has 9." in few_text
    assert 'class="plain theme-list"' not in few_text
    json_few = client.get(f"/pulse/results/{closed.t2.id}.json?cycle={closed.cycle.id}")
    assert json_few.get_json()["themes"] == []


def test_comment_search_stays_within_groups_the_reader_may_see(client, closed, login_as):
    login_as(closed.manager)
    base = f"/pulse/results/{closed.t1.id}?cycle={closed.cycle.id}"
    found = client.get(f"{base}&q=OVERTIME").get_data(as_text=True)
    assert "comments contain “OVERTIME”" in found
    listed = found.split('aria-labelledby="found-h"')[1].split("</ul>")[0]
    assert listed.count("<li>") >= 1 and "overtime" in listed.lower()
    assert "Booking" not in listed and "recognition" not in listed.lower()
    # Another site's comments never come up.
    none = client.get(f"{base}&q=zebra").get_data(as_text=True)
    assert "0 comments contain “zebra”" in none and "Zebra crossing" not in none
    # Not the manager's site: no page, so no search.
    t3 = client.get(f"/pulse/results/{closed.t3.id}?cycle={closed.cycle.id}&q=zebra")
    assert t3.status_code == 403
    # HR sees T3, whose comments are released.
    login_as(closed.hr)
    hr = client.get(f"/pulse/results/{closed.t3.id}?cycle={closed.cycle.id}&q=zebra")
    assert "12 comments contain “zebra”" in hr.get_data(as_text=True)
    too_long = client.get(f"{base}&q={'x' * 101}")
    assert too_long.status_code == 400
    assert "at most 100 characters" in too_long.get_data(as_text=True)
