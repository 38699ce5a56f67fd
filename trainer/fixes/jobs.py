"""Scheduler job: make the fix rollups match the log (idempotent, catches up by itself)."""

from flask_babel import lazy_gettext as _l

from trainer.fixes.rollups import refresh_rollups

JOBS = [  # (name, function, minutes between runs, what it does)
    ("fixes-rollups", refresh_rollups, 30, _l("Count logged fixes per unit and quarter"))
]
