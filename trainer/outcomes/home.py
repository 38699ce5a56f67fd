"""The customer-outcomes panel of the home page: gaming flags for HR to look into.

The flags come from the cached insights analysis of the whole company (data-quality signals,
never an accusation), without those on the person's own units.
"""

from datetime import datetime

from flask import current_app
from sqlmodel import Session

from trainer.auth.models import User

SHOWN = 3


def outcomes_panel(*, session: Session, user: User, now: datetime) -> dict:
    from trainer.insights import services as insights

    metric = insights.default_metric(session)
    flags, root = [], insights.company_root(session)
    if metric is not None and root is not None:
        level = current_app.config.get("INSIGHTS_LEVEL", insights.DEFAULT_LEVEL)
        flags = insights.visible_flags(session, user, metric=metric, level=level)
    units = list(dict.fromkeys(f["unit_code"] for f in flags))  # most flagged first below
    units.sort(key=lambda code: -sum(1 for f in flags if f["unit_code"] == code))
    return {"tasks": 1 if flags else 0, "flag_count": len(flags), "units": units[:SHOWN],
            "unit_count": len(units), "metric": metric, "root": root}
