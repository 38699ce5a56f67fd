"""Sample URL arguments for the route-by-role test.

Each entry maps a URL variable name to a function of the test context that returns a value
inside the manager's scope. OUT_OF_SCOPE gives values outside it, for the scope check. A feature
that adds a URL variable adds it here; the matrix test fails on a variable it cannot fill.
"""


def _unit_in_scope(ctx):
    return ctx.org.t1.id


def _api_token(ctx):
    from trainer.outcomes.tokens import create_token

    token, _secret = create_token(
        session=ctx.session, name="Sample token", scopes=["outcomes:write"], created_by=ctx.org.hr
    )
    ctx.session.commit()
    return token.id


def _custom_metric(ctx):
    from trainer.outcomes.metrics import create_metric

    metric = create_metric(
        session=ctx.session,
        code="sample_metric",
        label="Sample",
        direction="higher_is_better",
        min_value=0,
        max_value=10,
        needs_n=False,
    )
    ctx.session.commit()
    return metric.id


def _pulse(ctx):
    """An open pulse cycle for the whole org, and an action for T1 (and one for T3)."""
    if "pulse" not in ctx.cache:
        from trainer.pulse.cycles import open_now
        from trainer.pulse.models import Commitment
        from trainer.pulse.programmes import ensure_default_programme, programme_item_ids
        from trainer.util import utcnow

        programme = ensure_default_programme(
            ctx.org.company, session=ctx.session, starts_on=utcnow().date()
        )
        cycle = open_now(programme, session=ctx.session, now=utcnow())
        commitment = Commitment(cycle_id=cycle.id, unit_id=ctx.org.t1.id, text="Sample")
        outside = Commitment(cycle_id=cycle.id, unit_id=ctx.org.t3.id, text="Elsewhere")
        ctx.session.add_all([commitment, outside])
        ctx.session.commit()
        item_id = programme_item_ids(programme, session=ctx.session)[0]
        ctx.cache["pulse"] = {
            "cycle_id": cycle.id,
            "programme_id": programme.id,
            "item_id": item_id,
            "commitment_id": commitment.id,
            "commitment_out": outside.id,
        }
    return ctx.cache["pulse"]


def _scenario(ctx):
    """A synced scenario, a play of it by the employee with one decision taken, and a
    re-serve item that is due."""
    if "scenario" not in ctx.cache:
        from pathlib import Path

        from trainer.scenarios.models import ReserveItem
        from trainer.scenarios.plays import choose, start_play
        from trainer.scenarios.sync import scenario_by_slug, sync_scenario_folder
        from trainer.util import utcnow

        folder = Path(__file__).parent / "scenarios" / "cases" / "valid"
        sync_scenario_folder(session=ctx.session, folder=folder)
        scenario = scenario_by_slug(session=ctx.session, slug="refund-no-receipt")
        play = start_play(session=ctx.session, user=ctx.org.employee, scenario=scenario)
        choose(
            session=ctx.session,
            play=play,
            node_id=play.node_id,
            step=0,
            choice_index=0,
            base_iri="http://localhost",
        )
        item = ReserveItem(
            user_id=ctx.org.employee.id, scenario_id=scenario.id, node_id="counter", due_at=utcnow()
        )
        ctx.session.add(item)
        ctx.session.commit()
        ctx.cache["scenario"] = {
            "scenario_id": scenario.id,
            "scenario_slug": scenario.slug,
            "play_id": play.id,
            "reserve_id": item.id,
        }
    return ctx.cache["scenario"]


def _learn(ctx, name):
    """A course with the employee's passed attempt and certificate, and assignments."""
    from tests.learn.learn_factory import sample

    return sample(ctx, name)


def _people_import(ctx):
    """A large people upload by HR, waiting for the scheduler."""
    from trainer.org.services import queue_people_import

    job = queue_people_import(
        session=ctx.session, user=ctx.org.hr, filename="staff.csv", data=b"x", total_rows=5000
    )
    ctx.session.commit()
    return job.id


def _fixes(ctx):
    """A fix logged by the employee, and a problem type on the list."""
    if "fixes" not in ctx.cache:
        from trainer.fixes.log import log_fix
        from trainer.fixes.settings import ensure_default_problem_types, problem_types

        ensure_default_problem_types(session=ctx.session)
        fix = log_fix(
            session=ctx.session,
            user=ctx.org.employee,
            problem="billing-error",
            action="on_spot",
            goodwill=None,
        )
        ctx.session.commit()
        problem = problem_types(session=ctx.session)[0]
        ctx.cache["fixes"] = {"fix_id": fix.id, "problem_id": problem.id}
    return ctx.cache["fixes"]


SAMPLES = {
    "unit_id": _unit_in_scope,
    "user_id": lambda ctx: ctx.org.employee.id,
    "token": lambda ctx: "not-a-valid-token",
    "filename": lambda ctx: "css/app.css",
    "cycle_id": lambda ctx: _pulse(ctx)["cycle_id"],
    "programme_id": lambda ctx: _pulse(ctx)["programme_id"],
    "item_id": lambda ctx: _pulse(ctx)["item_id"],
    "commitment_id": lambda ctx: _pulse(ctx)["commitment_id"],
    "token_id": _api_token,
    "metric_id": _custom_metric,
    "scenario_id": lambda ctx: _scenario(ctx)["scenario_id"],
    "scenario_slug": lambda ctx: _scenario(ctx)["scenario_slug"],
    "play_id": lambda ctx: _scenario(ctx)["play_id"],
    "step": lambda ctx: 1,
    "reserve_id": lambda ctx: _scenario(ctx)["reserve_id"],
    "course_slug": lambda ctx: _learn(ctx, "course_slug"),
    "lesson_no": lambda ctx: _learn(ctx, "lesson_no"),
    "attempt_id": lambda ctx: _learn(ctx, "attempt_id"),
    "cert_code": lambda ctx: _learn(ctx, "cert_code"),
    "assignment_id": lambda ctx: _learn(ctx, "assignment_id"),
    "import_id": _people_import,
    "fix_id": lambda ctx: _fixes(ctx)["fix_id"],
    "problem_id": lambda ctx: _fixes(ctx)["problem_id"],
    "scim_id": lambda ctx: str(ctx.org.employee.id),
    "schema_id": lambda ctx: "urn:ietf:params:scim:schemas:core:2.0:User",
    "type_name": lambda ctx: "User",
}

OUT_OF_SCOPE = {
    "unit_id": lambda ctx: ctx.org.t3.id,
    "assignment_id": lambda ctx: _learn(ctx, "assignment_out"),
    "commitment_id": lambda ctx: _pulse(ctx)["commitment_out"],
}


class Ctx:
    """What the sample functions build on: the app, a session, the sample org and a cache."""

    def __init__(self, app, session, org):
        self.app, self.session, self.org = app, session, org
        self.cache = {}


def url_of(app, ctx, endpoint, rule_text, samples):
    """Return the URL of one rule of `endpoint`, its variables filled from `samples`."""
    rule = next(r for r in app.url_map.iter_rules(endpoint) if r.rule == rule_text)
    missing = [a for a in rule.arguments if a not in samples]
    assert not missing, f"tests/access_samples.py has no sample for {missing} ({rule_text})"
    with app.test_request_context():
        from flask import url_for

        return url_for(endpoint, **{a: samples[a](ctx) for a in rule.arguments})


def sign_in(client, user):
    """Make the test client's next requests come from `user` (None: signed out)."""
    with client.session_transaction() as sess:
        sess.clear()
        if user is not None:
            sess["_user_id"] = user.session_token
            sess["_fresh"] = True
