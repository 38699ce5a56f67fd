"""Scheduler job: make the fix rollups match the log (idempotent, catches up by itself)."""

from trainer.fixes.rollups import refresh_rollups

JOBS = [  # (name, function, minutes between runs, what it does)
    ("fixes-rollups", refresh_rollups, 30, "Count logged fixes per unit and quarter")
]
