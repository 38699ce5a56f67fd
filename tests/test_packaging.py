"""The wheel ships every file the installed app reads: migrations, course library, templates…

`.ci/wheel-check` builds and deploys the wheel; this test catches the usual cause of a broken
wheel, a new kind of file that no package-data pattern names, in a second.
"""

import glob
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "trainer"


def package_data() -> set[str]:
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]["trainer"]
    # setuptools expands package-data patterns with glob(recursive=True) inside the package.
    return {
        name
        for pattern in patterns
        for name in glob.glob(pattern, root_dir=PACKAGE, recursive=True)
    }


def is_module(path: Path) -> bool:
    """A .py file in a Python package (every folder up to trainer/ has __init__.py)."""
    folders = path.relative_to(PACKAGE).parents  # e.g. learn, "." for trainer/learn/x.py
    return path.suffix == ".py" and all((PACKAGE / f / "__init__.py").is_file() for f in folders)


def test_every_file_in_the_package_ships_in_the_wheel():
    data = package_data()
    files = [
        path.relative_to(PACKAGE)
        for path in PACKAGE.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    ]
    missing = sorted(str(f) for f in files if not is_module(PACKAGE / f) and str(f) not in data)
    assert missing == [], "add package-data patterns in pyproject.toml for these"
    assert {"migrations/env.py", "migrations/script.py.mako", "courses/README.md"} <= data
