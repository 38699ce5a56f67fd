"""A web worker starts without the statistics stack: it is imported only on an analysis that
nothing has stored yet (issue 12: warm workers stay small)."""

import subprocess
import sys

HEAVY = ("numpy", "pandas", "scipy", "statsmodels")

SCRIPT = """
import sys
from trainer import create_app
create_app()
print(" ".join(sorted({m.split(".")[0] for m in sys.modules} & set(sys.argv[1:]))))
"""


def test_the_app_starts_without_numpy_pandas_scipy_or_statsmodels(tmp_path):
    env = {"TRAINER_DATABASE_URL": f"sqlite:///{tmp_path / 'app.sqlite3'}", "PATH": "/usr/bin"}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, *HEAVY],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    assert done.stdout.strip() == ""
