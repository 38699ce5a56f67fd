"""Read a scenario from a Twee 3 story: passages become nodes, links become choices."""

import re

from trainer.scenarios.checks import (
    Draft,
    Report,
    check_feedback,
    check_scenario_id,
    check_target,
    read_choice_id,
    read_effects,
    read_kind,
    read_problem_types,
    read_rating,
)
from trainer.scenarios.engine import Choice, Node, Scenario
from trainer.scenarios.twee import LINK_PATTERN, Passage, parse_links, parse_twee

INFO_KEYS = ("id", "setting", "metric", "action", "authority", "summary")
OPTIONAL_INFO_KEYS = ("problem_types",)  # comma-separated in ScenarioInfo
TWEE_SKIPPED_PASSAGES = ("StoryTitle", "StoryData", "ScenarioInfo")
IGNORED_TAGS = ("script", "stylesheet")
SUGARCUBE_MACRO = re.compile(r"<<.*?>>", re.DOTALL)
HARLOWE_MACRO_START = re.compile(r"\([A-Za-z][\w-]*:")
SETTER_EFFECT = re.compile(r"([A-Za-z_]\w*)([+-]\S*)")
DEBRIEF_SPLIT = "---"


def draft_from_twee(text: str, stem: str, report: Report) -> Draft | None:
    story = parse_twee(text, report.file)
    report.warnings.extend(story.warnings)
    report.problems.extend(story.errors)
    if not story.passages:
        report.error(1, "no passages: not a scenario")
        return None

    info, info_lines = _scenario_info(story.passage("ScenarioInfo"), report)
    if story.title is None:
        report.error(1, "missing required field 'title' (a StoryTitle passage)")
    start_passage = story.passage("StoryData") or story.passage("Start")
    start_line = start_passage.line if start_passage else 1
    if story.start is None:
        report.error(1, "missing required field 'start': set StoryData.start or add a Start")

    node_passages = []
    for passage in story.passages:
        ignored_tags = [tag for tag in passage.tags if tag in IGNORED_TAGS]
        if ignored_tags:
            report.warn(
                passage.line,
                f"passage {passage.name!r} tagged {ignored_tags[0]} is ignored, never executed",
            )
        elif passage.name not in TWEE_SKIPPED_PASSAGES:
            node_passages.append(passage)

    node_ids = {passage.name for passage in node_passages}
    terminals: set[str] = set()
    nodes = {}
    for passage in node_passages:
        nodes.setdefault(passage.name, _twee_node(passage, node_ids, terminals, report))

    scenario = Scenario(
        id=info.get("id", ""),
        title=story.title or "",
        setting=info.get("setting", ""),
        metric=info.get("metric", ""),
        action=info.get("action", ""),
        authority=info.get("authority", ""),
        start=story.start or "",
        nodes=nodes,
        summary=info.get("summary") or None,
    )
    check_scenario_id(scenario.id, stem, info_lines.get("id", 1), report)
    declared = info.get("problem_types")
    problem_types = read_problem_types(
        [code.strip() for code in declared.split(",")] if declared is not None else None,
        declared is not None,
        info_lines.get("problem_types", 1),
        report,
    )
    return Draft(scenario, start_line, terminals, problem_types)


def _scenario_info(passage: Passage | None, report: Report) -> tuple[dict, dict]:
    """Read the `key: value` lines of the ScenarioInfo passage: (values, line of each key)."""
    values: dict[str, str] = {}
    lines: dict[str, int] = {}
    if passage is None:
        report.error(1, f"missing ScenarioInfo passage (with {', '.join(INFO_KEYS[:-1])})")
        return values, lines
    for offset, line in enumerate(passage.text.split("\n"), start=1):
        if not line.strip():
            continue
        key, colon, value = line.partition(":")
        key = key.strip().lower()
        if not colon or key not in INFO_KEYS + OPTIONAL_INFO_KEYS:
            report.warn(passage.line + offset, f"ScenarioInfo line ignored: {line.strip()!r}")
            continue
        values[key] = value.strip()
        lines[key] = passage.line + offset
    for key in INFO_KEYS[:-1]:
        if not values.get(key):
            report.error(passage.line, f"missing required field {key!r} in ScenarioInfo")
    return values, lines


def _twee_node(passage: Passage, node_ids: set[str], terminals: set[str], report: Report) -> Node:
    name, line = passage.name, passage.line
    links = parse_links(passage.text)
    text = _display_text(passage, report)
    ending_tags = [tag for tag in passage.tags if tag == "ending" or tag.startswith("ending-")]

    if ending_tags:
        terminals.add(name)
        if len(ending_tags) > 1:
            report.error(line, f"ending {name!r} has more than one ending tag")
        rating = read_rating(ending_tags[0].removeprefix("ending").lstrip("-"), name, line, report)
        outcome, debrief = _split_debrief(text)
        if debrief is None:
            report.error(
                line,
                f"missing required field 'debrief' in ending {name!r}: "
                f"write it below a line holding only {DEBRIEF_SPLIT}",
            )
        if links:
            report.error(line + links[0].line, f"ending {name!r} also has choices")
        if not outcome:
            report.error(line, f"missing required field 'text' in ending {name!r}")
        check_feedback(outcome, line + 1, report)
        check_feedback(debrief, line + 1, report)
        return Node(name, outcome, ending=rating, debrief=debrief or "", line=line)

    check_feedback(text, line + 1, report)
    if not links:
        if _split_debrief(text)[1] is not None:
            terminals.add(name)
            report.error(
                line,
                f"ending {name!r} has no rating: "
                "tag it ending-good, ending-acceptable or ending-poor",
            )
        return Node(name, text, line=line)
    choices = [
        _twee_choice(
            name, index, link.label, link.target, link.setter, line + link.line, node_ids, report
        )
        for index, link in enumerate(links, start=1)
    ]
    return Node(name, text, choices, line=line)


def _twee_choice(
    node_id: str,
    index: int,
    label: str,
    target: str,
    setter: str | None,
    line: int,
    node_ids: set[str],
    report: Report,
) -> Choice:
    where = f"choice {index} of {node_id!r}"
    # Passage names lose surrounding spaces, so targets do too.
    label, target = label.strip(), target.strip()
    if not label:
        report.error(line, f"missing required field 'text' in {where}")
    check_target(target, node_ids, line, where, report)

    kind = None
    raw_id = None
    effects = []
    for token in (setter or "").split():
        key, colon, value = token.partition(":")
        effect = SETTER_EFFECT.fullmatch(token)
        if colon and key == "kind":
            kind = value
        elif colon and key == "id":
            raw_id = value
        elif effect:
            meter, amount = effect.groups()
            effects.append((meter, _int_or_text(amount), line))
        else:
            report.error(
                line,
                f"unknown setter token {token!r} in {where} "
                "(expected kind:…, id:… or meter+N / meter-N)",
            )
    kind = read_kind(kind, line, where, report)
    choice_id = read_choice_id(raw_id, node_id, index, line, report)
    return Choice(choice_id, label, target, kind, read_effects(effects, where, report), None, line)


def _int_or_text(amount: str) -> int | str:
    try:
        return int(amount)
    except ValueError:
        return amount


def _display_text(passage: Passage, report: Report) -> str:
    """Return passage text without links and with story-format macros removed."""
    text = LINK_PATTERN.sub("", passage.text)
    text, macros = _strip_macros(text)
    for macro in sorted(set(macros), key=passage.text.find):
        offset = passage.text.count("\n", 0, max(passage.text.find(macro), 0)) + 1
        report.warn(
            passage.line + offset,
            f"story-format macro {macro!r} in {passage.name!r} is ignored, never executed",
        )
    lines = [line.rstrip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _strip_macros(text: str) -> tuple[str, list[str]]:
    """Remove SugarCube `<<…>>` and Harlowe `(name: …)` macros; return the text and them."""
    macros = SUGARCUBE_MACRO.findall(text)
    text = SUGARCUBE_MACRO.sub("", text)
    while match := HARLOWE_MACRO_START.search(text):
        depth, end = 0, match.start()
        while end < len(text):
            depth += {"(": 1, ")": -1}.get(text[end], 0)
            end += 1
            if depth == 0 or text[end - 1] == "\n":
                break
        macros.append(text[match.start() : end].strip())
        text = text[: match.start()] + text[end:]
    return text, macros


def _split_debrief(text: str) -> tuple[str, str | None]:
    """Split ending text at the first line holding only `---`: (outcome, debrief or None)."""
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if line.strip() == DEBRIEF_SPLIT:
            outcome = "\n".join(lines[:index]).strip()
            return outcome, "\n".join(lines[index + 1 :]).strip()
    return text, None
