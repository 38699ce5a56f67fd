"""The customer-outcomes panel of the home page: gaming flags for HR to look into.

The flags come from the cached insights analysis of the whole company (data-quality signals,
never an accusation), without those on the person's own units. The home page does not run
that analysis: until the insights overview has, it says the flags are not checked yet.
"""

from datetime import datetime

from flask import current_app
from sqlmodel import Session

from trainer.auth.models import User

SHOWN = 3


def outcomes_panel(*, session: Session, user: User, now: datetime) -> dict:
    from trainer.insights import reports, scope, sources, store

    metric = store.default_metric(session=session)
    flags, root = [], scope.company_root(session=session)
    if metric is not None and root is not None:
        level = current_app.config.get("INSIGHTS_LEVEL", sources.DEFAULT_LEVEL)
        # The home page never waits for the analysis: None until the overview has run it.
        flags = reports.visible_flags(
            session=session, user=user, metric=metric, level=level, cached_only=True
        )
    units = list(dict.fromkeys(f["unit_code"] for f in flags or ()))
    units.sort(key=lambda code: -sum(1 for f in flags if f["unit_code"] == code))
    return {
        "tasks": 1 if flags or flags is None else 0,
        "checked": flags is not None,
        "flag_count": len(flags or ()),
        "units": units[:SHOWN],
        "unit_count": len(units),
        "metric": metric,
        "root": root,
    }
