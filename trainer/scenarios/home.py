"""The scenarios panel of the home page: decisions due for practice, plays in progress."""

from datetime import datetime

from sqlmodel import Session

from trainer.auth.models import User
from trainer.scenarios.practice import due_items
from trainer.scenarios.results import results_by_scenario
from trainer.scenarios.sync import active_scenarios


def scenario_panel(*, session: Session, user: User, now: datetime) -> dict:
    results = results_by_scenario(session=session, user=user)
    due = len(due_items(session=session, user=user))
    return {
        "tasks": 1 if due else 0,
        "due": due,
        "open": sum(1 for r in results.values() if r["open"] is not None),
        "played": sum(1 for r in results.values() if r["best"] is not None),
        "available": len(active_scenarios(session=session)),
    }
