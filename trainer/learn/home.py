"""The learning panel of the home page: the person's assigned courses that are due or
overdue, by name, earliest first."""

from datetime import datetime

from flask_babel import get_locale
from sqlmodel import Session

from trainer.auth.models import User
from trainer.learn.progress import my_learning

SHOWN = 3


def learn_panel(*, session: Session, user: User, now: datetime) -> dict:
    today = now.date()
    learning = my_learning(session=session, user=user, language=str(get_locale()))
    due = [card for card in learning.assigned if not card.completed]
    done = len(learning.assigned) - len(due)
    return {
        "tasks": len(due),
        "due": due[:SHOWN],
        "more": max(0, len(due) - SHOWN),
        "overdue": sum(1 for card in due if card.due_on < today),
        "done": done,
        "today": today,
    }
