"""Web workers do not carry the statistics stack (issue 12): it loads on a cache miss only.
scikit-learn (comment themes, issue 13) is loaded by the scheduler's close job only."""

import subprocess
import sys

STACK = ("numpy", "pandas", "scipy", "statsmodels", "sklearn")


def test_create_app_does_not_import_the_statistics_stack(tmp_path):
    code = (
        "from trainer import create_app; create_app(); import sys; "
        f"print([m for m in {STACK!r} if m in sys.modules])"
    )
    found = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
        env={
            "TRAINER_DATABASE_URL": f"sqlite:///{tmp_path / 'app.sqlite3'}",
            "PYTHONPATH": ":".join(sys.path),
        },
    )
    assert found.stdout.strip() == "[]"


def test_reading_stored_themes_and_drivers_does_not_import_scikit_learn(tmp_path):
    code = (
        "import trainer.pulse.views, trainer.pulse.exports, trainer.pulse.analyses, sys; "
        "print('sklearn' in sys.modules)"
    )
    found = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
        env={"PYTHONPATH": ":".join(sys.path)},
    )
    assert found.stdout.strip() == "False"
