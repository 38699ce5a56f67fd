"""Every form, fuzzed: never a 5xx, and a refused submission saves nothing (see
tests/fuzzing.py)."""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from tests.fuzzing import Ctx, Probe, fuzz, overrides
from trainer.util import utcnow


@pytest.fixture
def ctx(app, session, org):
    return Ctx(app, session, org, {})


# Forms ----------------------------------------------------------------------------------------


def _pulse_answers(ctx):
    from trainer.pulse.models import PulseCycle
    from trainer.pulse.programmes import cycle_item_refs

    cycle = ctx.session.get(PulseCycle, ctx.sample("cycle_id"))
    return {f"item-{ref.id}": "3" for ref in cycle_item_refs(cycle, session=ctx.session)}


def _programme(ctx):
    from trainer.pulse.bank import ensure_default_bank

    items = ensure_default_bank(session=ctx.session)
    ctx.session.commit()
    return {
        "name": "Fuzz pulse",
        "item_ids": [str(items[0].id)],
        "unit_ids": [str(ctx.org.s1.id)],
        "recurrence": "quarterly",
        "starts_on": str(utcnow().date() + timedelta(days=3)),
        "window_days": "7",
        "reminder_days": "2,5",
        "budget_per_quarter": "2",
        "comment_prompt": "",
    }


def _new_action(ctx):
    """A valid action for T1, after a closed cycle of the sample programme."""
    from trainer.pulse.models import CycleItem, PulseCycle, PulseProgramme
    from trainer.pulse.programmes import programme_item_ids

    open_cycle = ctx.session.get(PulseCycle, ctx.sample("cycle_id"))
    closed = PulseCycle(
        programme_id=open_cycle.programme_id,
        period="2020Q1",
        quarter="2020Q1",
        opens_at=open_cycle.opens_at - timedelta(days=200),
        closes_at=open_cycle.opens_at - timedelta(days=190),
        status="closed",
    )
    ctx.session.add(closed)
    ctx.session.flush()
    for n, item_id in enumerate(
        programme_item_ids(
            ctx.session.get(PulseProgramme, open_cycle.programme_id), session=ctx.session
        )
    ):
        ctx.session.add(CycleItem(cycle_id=closed.id, item_id=item_id, position=n))
    ctx.session.commit()
    return {
        "text": "Weekly huddle on Mondays.",
        "answers": "theme:empowerment",
        "owner_id": str(ctx.org.manager.id),
        "due_on": str(utcnow().date() + timedelta(30)),
        "details": "",
    }


def _quiz(ctx):
    from tests.learn.learn_factory import form_answers
    from trainer.learn import services

    course = services.course_by_slug(session=ctx.session, slug=ctx.sample("course_slug"))
    version = services.version_for(session=ctx.session, course=course, enrolment=None)
    return {
        "version_id": str(version.id),
        **form_answers(version, ctx.org.employee.id, 2, ctx.app.config["SECRET_KEY"]),
    }


def _decision(ctx):
    from trainer.scenarios.models import Play, ScenarioVersion
    from trainer.scenarios.sync import graph_of

    play = ctx.session.get(Play, ctx.sample("play_id"))
    graph = graph_of(ctx.session.get(ScenarioVersion, play.version_id))
    return {
        "choice": graph.nodes[play.node_id].choices[0].id,
        "node": play.node_id,
        "step": str(len(play.path)),
    }


def _ratings(ctx):
    from trainer.insights.ratings import rating_periods

    return {
        "period": rating_periods()[0],
        f"team_{ctx.org.t1.id}": "3",
        f"team_{ctx.org.t2.id}": "",
    }


def _invite_url(ctx):
    from trainer.auth.services import make_link_token

    return f"/auth/invite/{make_link_token(ctx.org.employee, 'invite')}"


def _fix_form(ctx):
    ctx.sample("fix_id")  # the starter problem lists
    return "/fixes/new"


def _course_id(ctx):
    from trainer.learn import services

    return str(services.course_by_slug(session=ctx.session, slug=ctx.sample("course_slug")).id)


@dataclass(frozen=True)
class Form:
    name: str
    role: str | None  # None: signed out
    url: Any  # ctx -> str
    valid: Any  # ctx -> dict
    ignore: tuple[str, ...] = ()  # tables a refused request may still write
    refused: bool = False  # the base submission itself is refused (a wrong password)


def _person(ctx):
    return {
        "email": "new.person@example.com",
        "name": "New Person",
        "unit_id": str(ctx.org.t1.id),
        "roles": ["employee"],
        "manager_of": [],
        "active": "y",
    }


def _metric(ctx):
    return {
        "label": "Fuzz",
        "direction": "higher_is_better",
        "min_value": "0",
        "max_value": "10",
        "needs_n": "y",
        "description": "",
    }


FORMS = [
    Form(
        "sign in",
        None,
        lambda c: "/auth/login",
        lambda c: {"email": "nobody@example.com", "password": "wrong password"},
        ignore=("login_throttle",),
        refused=True,
    ),  # failures count, though answered 400
    Form(
        "forgotten password",
        None,
        lambda c: "/auth/forgot",
        lambda c: {"email": "nobody@example.com"},
    ),
    Form(
        "set password",
        None,
        _invite_url,
        lambda c: {"password": "a long new password", "confirm": "a long new password"},
    ),
    Form(
        "new unit",
        "hr",
        lambda c: "/org/",
        lambda c: {
            "code": "NEW1",
            "name": "New unit",
            "kind": "team",
            "parent_id": str(c.org.s1.id),
        },
    ),
    Form("rename unit", "hr", lambda c: f"/org/units/{c.org.t1.id}", lambda c: {"name": "Renamed"}),
    Form("new person", "hr", lambda c: "/org/people/new", _person),
    Form(
        "edit person",
        "hr",
        lambda c: f"/org/people/{c.org.employee.id}",
        lambda c: {**_person(c), "email": c.org.employee.email},
    ),
    Form(
        "new metric",
        "hr",
        lambda c: "/outcomes/metrics",
        lambda c: {"code": "fuzz_metric", **_metric(c)},
    ),
    Form("edit metric", "hr", lambda c: f"/outcomes/metrics/{c.sample('metric_id')}", _metric),
    Form(
        "new API token",
        "hr",
        lambda c: "/outcomes/tokens",
        lambda c: {
            "name": "Fuzz",
            "scopes": ["outcomes:read"],
            "unit_id": "0",
            "expires_in_days": "30",
        },
    ),
    Form(
        "new pulse item",
        "hr",
        lambda c: "/pulse/items",
        lambda c: {
            "theme": "empowerment",
            "kind": "likert",
            "text": "I can put things right for customers.",
        },
    ),
    Form(
        "reword pulse item",
        "hr",
        lambda c: f"/pulse/items/{c.sample('item_id')}/reword",
        lambda c: {"text": "I can put things right for customers."},
    ),
    Form(
        "translate pulse item",
        "hr",
        lambda c: f"/pulse/items/{c.sample('item_id')}/translations",
        lambda c: {"de": "Ich kann Probleme von Kunden lösen.", "es": ""},
    ),
    Form("new programme", "hr", lambda c: "/pulse/programmes/new", _programme),
    Form(
        "edit programme",
        "hr",
        lambda c: f"/pulse/programmes/{c.sample('programme_id')}",
        _programme,
    ),
    Form(
        "survey answer",
        "employee",
        lambda c: f"/pulse/cycles/{c.sample('cycle_id')}/answer",
        lambda c: {**_pulse_answers(c), "comment": "Fine."},
    ),
    Form("new action", "manager", lambda c: f"/pulse/plans/{c.org.t1.id}", _new_action),
    Form(
        "action status",
        "manager",
        lambda c: f"/pulse/actions/{c.sample('commitment_id')}/status",
        lambda c: {
            f"a{c.sample('commitment_id')}-status": "in_progress",
            f"a{c.sample('commitment_id')}-note": "Rota drafted.",
        },
    ),
    Form(
        "mark a commitment",
        "employee",
        lambda c: f"/pulse/commitments/{c.sample('commitment_id')}/mark",
        lambda c: {"answer": "yes"},
    ),
    Form(
        "assignment",
        "manager",
        lambda c: "/learn/assignments",
        lambda c: {
            "course_id": _course_id(c),
            "unit_id": str(c.org.t1.id),
            "due_on": str(utcnow().date() + timedelta(days=7)),
        },
    ),
    Form("quiz", "employee", lambda c: f"/learn/courses/{c.sample('course_slug')}/quiz", _quiz),
    Form("ratings", "manager", lambda c: "/insights/ratings", _ratings),
    Form(
        "scenario start",
        "employee",
        lambda c: f"/scenarios/{c.sample('scenario_slug')}/start",
        lambda c: {"mode": "play"},
    ),
    Form(
        "scenario decision",
        "employee",
        lambda c: f"/scenarios/plays/{c.sample('play_id')}/choose",
        _decision,
    ),
    Form(
        "log a fix",
        "employee",
        lambda c: _fix_form(c),
        lambda c: {
            "problem": "billing-error",
            "action": "goodwill",
            "goodwill": "12.50",
            "note": "Refunded the fee",
        },
    ),
    Form(
        "fix limits",
        "hr",
        lambda c: "/fixes/settings",
        lambda c: {
            "unit_id": str(c.org.s1.id),
            "unit_type": "dealer",
            "currency": "GBP",
            "goodwill_limit": "50",
        },
    ),
    Form(
        "fix problem type",
        "hr",
        lambda c: "/fixes/problems",
        lambda c: {"unit_type": "dealer", "code": "late-keys", "label": "Keys not ready"},
    ),
    Form(
        "scenario re-serve",
        "employee",
        lambda c: f"/scenarios/due/{c.sample('reserve_id')}",
        lambda c: {"choice": "credit", "node": "counter"},
    ),
]


@pytest.mark.parametrize("form", FORMS, ids=[f.name for f in FORMS])
def test_form_never_fails_and_saves_nothing_when_refused(form, client, session, ctx, login_as):
    url, valid = form.url(ctx), form.valid(ctx)
    if form.role:
        login_as(ctx.org.user(form.role))
    probe = Probe(client, session, form.ignore)
    baseline = probe.send("POST", url, data=valid)
    assert (baseline.status_code >= 400) == form.refused, baseline.text

    fuzz(
        ctx.app,
        overrides([*valid, "extra"]),
        lambda changed: probe.send("POST", url, data={**valid, **changed}),
    )
