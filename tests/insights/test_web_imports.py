"""Web workers do not carry the statistics stack (issue 12): it loads on a cache miss only.
scikit-learn (comment themes, issue 13) is loaded by the scheduler's close job only."""

import json
import os
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


SERVE_ONE_VIEW = """
import json, sys
from trainer import create_app
config = json.loads(sys.argv[1])
app = create_app(config)
client = app.test_client()
client.post("/auth/login", data={"email": config["EMAIL"], "password": config["PASSWORD"]})
page = client.get(config["PATH"])
print(json.dumps({
    "status": page.status_code,
    "has_headline": "What the data say" in page.get_data(as_text=True),
    "stack": [m for m in STACK if m in sys.modules],
}))
"""


def test_a_web_worker_works_out_a_missing_analysis_in_a_process_of_its_own(
    app_config, history, session, tmp_path
):
    """The first view of a scope nothing has stored yet: the analysis is computed and stored
    by a separate process, and the web process still has no statistics stack afterwards."""
    from sqlmodel import func, select

    from tests.conftest import PASSWORD
    from trainer.insights.models import StoredAnalysis

    session.commit()
    assert session.exec(select(func.count()).select_from(StoredAnalysis)).one() == 0
    config = {
        **{k: v for k, v in app_config.items() if k != "INSIGHTS_COMPUTE"},
        "EMAIL": history.hr.email,
        "PASSWORD": PASSWORD,
        "PATH": f"/insights/units/{history.company.id}/detail",
    }
    config.pop("SERVER_NAME")
    done = subprocess.run(
        [sys.executable, "-c", f"STACK = {STACK!r}\n" + SERVE_ONE_VIEW, json.dumps(config)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": ":".join(sys.path)},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == {"status": 200, "has_headline": True, "stack": []}
    session.rollback()
    assert session.exec(select(func.count()).select_from(StoredAnalysis)).one() >= 1


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
