"""Builders for the fixes tests: people who log fixes, and the rollups the job makes."""

from datetime import timedelta

import pytest

from trainer.fixes.log import log_fix
from trainer.fixes.rollups import refresh_rollups
from trainer.fixes.settings import ensure_default_problem_types, save_settings
from trainer.util import utcnow


@pytest.fixture
def fixes_setup(session, org):
    """The starter problem lists, and settings on S1: a dealer site paying in GBP, limit 50."""
    ensure_default_problem_types(session=session)
    save_settings(
        session=session, unit=org.s1, unit_type="dealer", currency="GBP", goodwill_limit=50
    )
    session.commit()
    return org


@pytest.fixture
def log_fixes(session, make_user, fixes_setup):
    """Create `people` employees in `unit`, each logging `each` fixes, and refresh the rollups.

    `actions` cycles over the fixes; returns the people."""

    def build(
        unit, people, each=2, actions=("on_spot",), problem="late-car", goodwill=None, when=None
    ):
        made = [make_user("employee", unit) for _ in range(people)]
        at = when or utcnow()
        n = 0
        for person in made:
            for i in range(each):
                log_fix(
                    session=session,
                    user=person,
                    problem=problem,
                    action=actions[n % len(actions)],
                    goodwill=goodwill,
                    note=f"note {person.id} {i}",
                    now=at - timedelta(minutes=5 * n),
                )
                n += 1
        refresh_rollups(session=session, now=utcnow())
        session.commit()
        return made

    return build
