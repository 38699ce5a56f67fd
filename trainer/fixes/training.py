"""Match problem types to the courses and scenarios that practise them."""

from collections import defaultdict
from pathlib import Path

_content_cache: dict = {}


def _content_stamp(courses_dir: Path) -> tuple:
    files = [p for p in courses_dir.rglob("*") if p.suffix in (".yaml", ".twee", ".tw")]
    return tuple(sorted((str(p), p.stat().st_mtime_ns) for p in files))


def training_by_problem(courses_dir: str | Path) -> dict[str, list[dict]]:
    """Return {problem code: [{kind, slug, title}]} from the content's `problem_types:`
    declarations (courses and scenarios that load without problems), cached per process
    until a content file changes."""
    from trainer.learn.loader import load_library
    from trainer.scenarios.loader import load_scenarios
    from trainer.scenarios.sync import SCENARIOS_FOLDER

    folder = Path(courses_dir)
    if not folder.is_dir():
        return {}
    stamp = (str(folder), _content_stamp(folder))
    if _content_cache.get("stamp") == stamp:
        return _content_cache["value"]
    found: dict[str, list[dict]] = defaultdict(list)
    courses, _problems = load_library(folder)
    for course in courses:
        for code in course.problem_types:
            found[code].append({"kind": "course", "slug": course.id, "title": course.title})
    scenarios = folder / SCENARIOS_FOLDER
    if scenarios.is_dir():
        for result in load_scenarios(scenarios):
            if result.ok:
                for code in result.problem_types:
                    found[code].append(
                        {
                            "kind": "scenario",
                            "slug": result.scenario.id,
                            "title": result.scenario.title,
                        }
                    )
    value = {
        code: sorted(items, key=lambda i: (i["kind"], i["title"])) for code, items in found.items()
    }
    _content_cache.update(stamp=stamp, value=value)
    return value
