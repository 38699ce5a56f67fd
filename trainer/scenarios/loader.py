"""Load scenarios from YAML and Twee 3 files, and check them before anyone plays them.

Every problem carries the file and the best line number available, so `str(problem)` reads
`file:line: reason`. Problems make a file unusable; warnings are authoring advice.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from trainer.content_rules import (
    character_problems,
    problem_types_problem,
    size_problem,
    yaml_nesting_problem,
)
from trainer.scenarios.engine import (
    EFFECT_RANGES,
    ENDING_RANK,
    ENDINGS,
    KINDS,
    METERS,
    Choice,
    Node,
    Scenario,
    choice_outlook,
    slugify,
)
from trainer.scenarios.twee import LINK_PATTERN, Passage, Problem, parse_links, parse_twee

__all__ = ["LoadResult", "Problem", "load_scenario_file", "load_scenarios"]

REQUIRED_FIELDS = ("id", "title", "setting", "metric", "action", "authority", "start")
TOP_KEYS = {*REQUIRED_FIELDS, "summary", "nodes", "problem_types"}
NODE_KEYS = {"text", "choices", "ending", "debrief"}
CHOICE_KEYS = {"id", "text", "to", "kind", "effects", "reaction"}
INFO_KEYS = ("id", "setting", "metric", "action", "authority", "summary")
OPTIONAL_INFO_KEYS = ("problem_types",)  # comma-separated in ScenarioInfo
SUFFIXES = (".yaml", ".twee", ".tw")  # the Twee 3 specification names both .tw and .twee
TWEE_SKIPPED_PASSAGES = ("StoryTitle", "StoryData", "ScenarioInfo")
IGNORED_TAGS = ("script", "stylesheet")

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
PREACHY_START = re.compile(r"^\W*(correct|incorrect|you should)\b", re.IGNORECASE)
SUGARCUBE_MACRO = re.compile(r"<<.*?>>", re.DOTALL)
HARLOWE_MACRO_START = re.compile(r"\([A-Za-z][\w-]*:")
SETTER_EFFECT = re.compile(r"([A-Za-z_]\w*)([+-]\S*)")
DEBRIEF_SPLIT = "---"


@dataclass
class LoadResult:
    """The outcome of loading one file: a scenario only when there are no problems."""

    scenario: Scenario | None
    problems: list[Problem]
    warnings: list[Problem]
    path: Path | None = None
    problem_types: list[str] = field(default_factory=list)  # fix log problems it practises

    @property
    def ok(self) -> bool:
        return self.scenario is not None


@dataclass
class _Report:
    file: str
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    def error(self, line: int | None, message: str) -> None:
        self.problems.append(Problem(self.file, line, message))

    def warn(self, line: int | None, message: str) -> None:
        self.warnings.append(Problem(self.file, line, message))


@dataclass
class _Draft:
    """A scenario as read, plus what the checks need to avoid reporting one fault twice."""

    scenario: Scenario
    start_line: int
    # Nodes meant as endings, even when their rating is missing or invalid.
    terminals: set[str]
    problem_types: list[str] = field(default_factory=list)


def load_scenario_file(path: str | Path) -> LoadResult:
    """Read and check one `.yaml`, `.twee` or `.tw` scenario file."""
    path = Path(path)
    report = _Report(str(path))
    text = _read_text(path, report)
    if text is None:
        draft = None
    elif path.suffix == ".yaml":
        draft = _from_yaml(text, path.stem, report)
    else:
        draft = _from_twee(text, path.stem, report)
    if draft:
        _check_graph(draft, report)
        _check_authoring(draft, report)
    scenario = draft.scenario if draft and not report.problems else None
    return LoadResult(scenario, report.problems, report.warnings, path,
                      draft.problem_types if draft else [])


def _read_text(path: Path, report: _Report) -> str | None:
    """Return the file's text, or None after reporting why it cannot be parsed."""
    if path.suffix not in SUFFIXES:
        report.error(1, f"unsupported file type {path.suffix!r} (expected .yaml, .twee or .tw)")
        return None
    try:
        too_big = size_problem(path.stat().st_size)
        if too_big:
            report.error(1, too_big)
            return None
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        report.error(1, f"cannot read the file: {error}")
        return None
    for line, reason in character_problems(text):
        report.error(line, reason)
    return None if report.problems else text


def load_scenarios(folder: str | Path) -> list[LoadResult]:
    """Load every `*.yaml`, `*.twee` and `*.tw` file in `folder`, sorted by file name."""
    paths = sorted(path for suffix in SUFFIXES for path in Path(folder).glob(f"*{suffix}"))
    results = []
    owners: dict[str, Path] = {}
    for path in paths:
        result = load_scenario_file(path)
        scenario = result.scenario
        if scenario and scenario.id in owners:
            message = f"scenario id {scenario.id!r} is also used by {owners[scenario.id]}"
            result.problems.append(Problem(str(path), 1, message))
            result.scenario = None
        elif scenario:
            owners[scenario.id] = path
        results.append(result)
    return results


# --- YAML -------------------------------------------------------------------------------


class _LineMap(dict):
    """A YAML mapping that remembers the line of each key."""

    def __init__(self, line: int):
        super().__init__()
        self.line = line
        self.lines: dict = {}


class _LineList(list):
    """A YAML sequence that remembers the line of each item."""

    def __init__(self, line: int):
        super().__init__()
        self.line = line
        self.lines: list[int] = []


def _read_yaml(text: str, report: _Report):
    """Parse YAML safely into plain values, with line numbers on mappings and lists."""
    too_deep = yaml_nesting_problem(text)
    if too_deep:
        report.error(*too_deep)
        return None
    loader = None
    try:
        loader = yaml.SafeLoader(text)
        root = loader.get_single_node()
        if root is None:
            report.error(1, "the file is empty")
            return None
        return _yaml_value(root, loader, report, {})
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        message = f"YAML syntax error: {error.problem}"
        if error.context and error.context_mark:
            message += f" ({error.context} on line {error.context_mark.line + 1})"
        report.error(mark.line + 1 if mark else 1, message)
    except yaml.YAMLError as error:
        report.error(1, f"YAML syntax error: {error}")
    finally:
        if loader:
            loader.dispose()
    return None


def _yaml_value(node, loader: yaml.SafeLoader, report: _Report, seen: dict):
    # An alias is the same node object again: reuse what was built, so that nested
    # aliases ("billion laughs") cannot blow up.
    if id(node) in seen:
        return seen[id(node)]
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        mapping = seen[id(node)] = _LineMap(line)
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                report.error(key_line, "keys must be plain values")
                continue
            key = loader.construct_object(key_node)
            if key in mapping:
                first = mapping.lines[key]
                report.error(key_line, f"duplicate key {key!r} (first at line {first})")
                continue
            mapping[key] = _yaml_value(value_node, loader, report, seen)
            mapping.lines[key] = key_line
        return mapping
    if isinstance(node, yaml.SequenceNode):
        sequence = seen[id(node)] = _LineList(line)
        for item in node.value:
            sequence.append(_yaml_value(item, loader, report, seen))
            sequence.lines.append(item.start_mark.line + 1)
        return sequence
    return loader.construct_object(node)


def _from_yaml(text: str, stem: str, report: _Report) -> _Draft | None:
    data = _read_yaml(text, report)
    if data is None:
        return None
    if not isinstance(data, _LineMap):
        report.error(1, "expected a mapping of scenario fields at the top level")
        return None
    _warn_unknown_keys(data, TOP_KEYS, "the scenario", report)

    fields = {key: _text(data, key, data.line, "the scenario", report) for key in REQUIRED_FIELDS}
    summary = _text(data, "summary", data.line, "the scenario", report, required=False)
    _check_scenario_id(fields["id"], stem, data.lines.get("id", 1), report)

    raw_nodes = data.get("nodes")
    nodes: dict[str, Node] = {}
    terminals: set[str] = set()
    if raw_nodes is None:
        report.error(data.line, "missing required field 'nodes'")
    elif not isinstance(raw_nodes, _LineMap):
        report.error(data.lines["nodes"], "'nodes' must map node ids to nodes")
    else:
        node_ids = {key for key in raw_nodes if isinstance(key, str)}
        for node_id, raw in raw_nodes.items():
            line = raw_nodes.lines[node_id]
            if not isinstance(node_id, str):
                report.error(line, f"node id {node_id!r} must be text (quote it)")
                continue
            nodes[node_id] = _yaml_node(node_id, raw, line, node_ids, terminals, report)

    scenario = Scenario(
        id=fields["id"],
        title=fields["title"],
        setting=fields["setting"],
        metric=fields["metric"],
        action=fields["action"],
        authority=fields["authority"],
        start=fields["start"],
        nodes=nodes,
        summary=summary,
    )
    problem_types = _problem_types(data.get("problem_types"), "problem_types" in data,
                                   data.lines.get("problem_types", data.line), report)
    return _Draft(scenario, data.lines.get("start", 1), terminals, problem_types)


def _problem_types(value, declared: bool, line: int, report: _Report) -> list[str]:
    """Return the declared problem types, or report why they cannot be used."""
    if not declared:
        return []
    why = problem_types_problem(value)
    if why:
        report.error(line, why)
        return []
    return list(value)


def _yaml_node(
    node_id: str, raw, line: int, node_ids: set[str], terminals: set[str], report: _Report
) -> Node:
    where = f"node {node_id!r}"
    if not isinstance(raw, _LineMap):
        report.error(line, f"{where} must be a mapping with 'text' and 'choices' or 'ending'")
        terminals.add(node_id)
        return Node(node_id, "", line=line)
    _warn_unknown_keys(raw, NODE_KEYS, where, report)
    text = _text(raw, "text", line, where, report)
    _check_feedback(text, raw.lines.get("text", line), report)
    raw_choices = raw.get("choices")

    if "ending" in raw:
        terminals.add(node_id)
        rating = _rating(raw["ending"], node_id, raw.lines["ending"], report)
        debrief = _text(raw, "debrief", line, where, report)
        _check_feedback(debrief, raw.lines.get("debrief", line), report)
        if raw_choices:
            report.error(raw.lines["choices"], f"ending {node_id!r} also has choices")
        return Node(node_id, text, ending=rating, debrief=debrief, line=line)

    if "debrief" in raw and not raw_choices:
        terminals.add(node_id)
        report.error(line, f"ending {node_id!r} has no rating: add 'ending: good|acceptable|poor'")
        return Node(node_id, text, line=line)
    if raw_choices is None:
        return Node(node_id, text, line=line)
    if not isinstance(raw_choices, _LineList):
        report.error(raw.lines["choices"], f"the choices of {where} must be a list")
        terminals.add(node_id)
        return Node(node_id, text, line=line)
    if "debrief" in raw:
        report.warn(raw.lines["debrief"], f"{where} is a decision; its debrief is ignored")

    choices = []
    items = zip(raw_choices, raw_choices.lines, strict=True)
    for index, (item, item_line) in enumerate(items, start=1):
        choice = _yaml_choice(node_id, index, item, item_line, node_ids, report)
        if choice:
            choices.append(choice)
    return Node(node_id, text, choices, line=line)


def _yaml_choice(
    node_id: str, index: int, raw, line: int, node_ids: set[str], report: _Report
) -> Choice | None:
    where = f"choice {index} of {node_id!r}"
    if not isinstance(raw, _LineMap):
        report.error(line, f"{where} must be a mapping with 'text', 'to' and 'kind'")
        return None
    _warn_unknown_keys(raw, CHOICE_KEYS, where, report)
    text = _text(raw, "text", line, where, report)
    target = _text(raw, "to", line, where, report)
    if target:
        _check_target(target, node_ids, raw.lines["to"], where, report)
    kind = _kind(raw.get("kind"), raw.lines.get("kind", line), where, report)
    choice_id = _choice_id(raw.get("id"), node_id, index, raw.lines.get("id", line), report)
    reaction = _text(raw, "reaction", line, where, report, required=False)
    _check_feedback(reaction, raw.lines.get("reaction", line), report)

    raw_effects = raw.get("effects")
    effects: dict[str, int] = {}
    if isinstance(raw_effects, _LineMap):
        items = [(key, value, raw_effects.lines[key]) for key, value in raw_effects.items()]
        effects = _effects(items, where, report)
    elif raw_effects is not None:
        report.error(raw.lines["effects"], f"the effects of {where} must be a mapping")
    return Choice(choice_id, text, target, kind, effects, reaction or None, line)


def _warn_unknown_keys(mapping: _LineMap, known: set[str], where: str, report: _Report) -> None:
    for key in mapping:
        if key not in known:
            report.warn(mapping.lines[key], f"unknown field {key!r} in {where} is ignored")


def _text(
    mapping: _LineMap, key: str, line: int, where: str, report: _Report, *, required: bool = True
) -> str:
    value = mapping.get(key)
    if value is None or value == "":
        if required:
            report.error(line, f"missing required field {key!r} in {where}")
        return ""
    if not isinstance(value, str):
        report.error(mapping.lines[key], f"field {key!r} in {where} must be text")
        return ""
    return value.strip()


# --- Twee -------------------------------------------------------------------------------


def _from_twee(text: str, stem: str, report: _Report) -> _Draft | None:
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
    _check_scenario_id(scenario.id, stem, info_lines.get("id", 1), report)
    declared = info.get("problem_types")
    problem_types = _problem_types(
        [code.strip() for code in declared.split(",")] if declared is not None else None,
        declared is not None, info_lines.get("problem_types", 1), report)
    return _Draft(scenario, start_line, terminals, problem_types)


def _scenario_info(passage: Passage | None, report: _Report) -> tuple[dict, dict]:
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


def _twee_node(passage: Passage, node_ids: set[str], terminals: set[str], report: _Report) -> Node:
    name, line = passage.name, passage.line
    links = parse_links(passage.text)
    text = _display_text(passage, report)
    ending_tags = [tag for tag in passage.tags if tag == "ending" or tag.startswith("ending-")]

    if ending_tags:
        terminals.add(name)
        if len(ending_tags) > 1:
            report.error(line, f"ending {name!r} has more than one ending tag")
        rating = _rating(ending_tags[0].removeprefix("ending").lstrip("-"), name, line, report)
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
        _check_feedback(outcome, line + 1, report)
        _check_feedback(debrief, line + 1, report)
        return Node(name, outcome, ending=rating, debrief=debrief or "", line=line)

    _check_feedback(text, line + 1, report)
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
        _twee_choice(name, index, link.label, link.target, link.setter, line + link.line,
                     node_ids, report)
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
    report: _Report,
) -> Choice:
    where = f"choice {index} of {node_id!r}"
    # Passage names lose surrounding spaces, so targets do too.
    label, target = label.strip(), target.strip()
    if not label:
        report.error(line, f"missing required field 'text' in {where}")
    _check_target(target, node_ids, line, where, report)

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
    kind = _kind(kind, line, where, report)
    choice_id = _choice_id(raw_id, node_id, index, line, report)
    return Choice(choice_id, label, target, kind, _effects(effects, where, report), None, line)


def _int_or_text(amount: str) -> int | str:
    try:
        return int(amount)
    except ValueError:
        return amount


def _display_text(passage: Passage, report: _Report) -> str:
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


# --- Checks shared by both formats ------------------------------------------------------


def _check_scenario_id(scenario_id: str, stem: str, line: int, report: _Report) -> None:
    if not scenario_id:
        return
    if not SLUG.match(scenario_id):
        report.error(line, f"id {scenario_id!r} is not a slug (lowercase letters, digits, -)")
    elif scenario_id != stem:
        report.error(line, f"id {scenario_id!r} does not match the file name {stem!r}")


def _check_target(target: str, node_ids: set[str], line: int, where: str, report: _Report) -> None:
    if target not in node_ids:
        report.error(line, f"missing target: {where} leads to {target!r}, which does not exist")


def _kind(value, line: int, where: str, report: _Report) -> str:
    if value is None or value == "":
        report.error(line, f"missing required field 'kind' in {where}")
        return ""
    if value not in KINDS:
        expected = ", ".join(KINDS)
        report.error(line, f"unknown kind {value!r} in {where} (expected one of {expected})")
        return ""
    return value


def _choice_id(value, node_id: str, index: int, line: int, report: _Report) -> str:
    default = f"{slugify(node_id)}-{index}"
    if value is None:
        return default
    if not isinstance(value, str) or not SLUG.match(value):
        report.error(line, f"choice id {value!r} is not a slug (lowercase letters, digits, -)")
        return default
    return value


def _rating(value, node_id: str, line: int, report: _Report) -> str | None:
    if value is None or value == "":
        report.error(line, f"ending {node_id!r} has no rating (expected good, acceptable or poor)")
        return None
    if value not in ENDINGS:
        report.error(
            line,
            f"invalid ending rating {value!r} at {node_id!r} (expected good, acceptable or poor)",
        )
        return None
    return value


def _effects(items: list[tuple], where: str, report: _Report) -> dict[str, int]:
    """Check (meter, value, line) items and return the valid effects in meter order."""
    effects: dict[str, int] = {}
    for meter, value, line in items:
        if meter not in METERS:
            report.error(
                line, f"unknown meter {meter!r} in {where} (expected one of {', '.join(METERS)})"
            )
        elif isinstance(value, bool) or not isinstance(value, int):
            report.error(line, f"effect {meter!r} in {where} must be an integer, not {value!r}")
        elif meter in effects:
            report.error(line, f"effect {meter!r} given twice in {where}")
        else:
            low, high = EFFECT_RANGES[meter]
            if low <= value <= high:
                effects[meter] = value
            else:
                report.error(
                    line,
                    f"meter out of range: {meter} {value:+d} in {where} (allowed {low}..{high})",
                )
    return {meter: effects[meter] for meter in METERS if meter in effects}


def _check_feedback(text: str | None, line: int, report: _Report) -> None:
    match = PREACHY_START.match(text or "")
    if match:
        report.warn(
            line,
            f"feedback starts with {match.group(1)!r}: show what happens next instead of grading",
        )


def _check_graph(draft: _Draft, report: _Report) -> None:
    """Report unreachable nodes, dead ends and loops that never reach an ending."""
    scenario, terminals = draft.scenario, draft.terminals
    nodes = scenario.nodes
    successors = {
        node_id: [choice.to for choice in node.choices if choice.to in nodes]
        for node_id, node in nodes.items()
    }
    for node_id, node in nodes.items():
        if node_id not in terminals and not node.choices:
            report.error(node.line, f"dead end: {node_id!r} has no choices and is not an ending")

    if scenario.start not in nodes:
        if scenario.start:
            report.error(draft.start_line, f"start node {scenario.start!r} does not exist")
        return
    reachable = _reach(successors, [scenario.start])
    for node_id, node in nodes.items():
        if node_id not in reachable:
            report.error(node.line, f"unreachable node {node_id!r}: no path leads to it")

    # Dead ends and missing targets count as ways out: they are reported on their own.
    ways_out = [
        node_id
        for node_id, node in nodes.items()
        if node_id in terminals
        or not node.choices
        or any(choice.to not in nodes for choice in node.choices)
    ]
    predecessors: dict[str, list[str]] = {node_id: [] for node_id in nodes}
    for node_id, targets in successors.items():
        for target in targets:
            predecessors[target].append(node_id)
    can_finish = _reach(predecessors, ways_out)

    for loop in _loops(successors, reachable):
        first = nodes[loop[0]]
        path = " -> ".join([*loop, loop[0]])
        if any(node_id in can_finish for node_id in loop):
            report.warn(first.line, f"loop: {path} can repeat; make sure it is intended")
        else:
            report.error(first.line, f"loop with no way out: {path} never reaches an ending")


def _reach(edges: dict[str, list[str]], starts: list[str]) -> set[str]:
    seen, todo = set(starts), list(starts)
    while todo:
        for target in edges[todo.pop()]:
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def _loops(successors: dict[str, list[str]], within: set[str]) -> list[list[str]]:
    """Return the groups of nodes that can reach each other (cycles), in file order."""
    after = {node_id: _reach(successors, successors[node_id]) for node_id in successors}
    loops, placed = [], set()
    for node_id in successors:
        if node_id in placed or node_id not in within or node_id not in after[node_id]:
            continue
        loop = [other for other in after[node_id] if node_id in after[other]]
        loop.sort(key=list(successors).index)
        placed.update(loop)
        loops.append(loop)
    return loops


def _check_authoring(draft: _Draft, report: _Report) -> None:
    """Give the §7 authoring advice and catch clashing ids."""
    scenario = draft.scenario
    outlook = choice_outlook(scenario)
    slugs: dict[str, str] = {}
    for node in scenario.nodes.values():
        if node.slug in slugs:
            report.error(
                node.line,
                f"node ids {slugs[node.slug]!r} and {node.id!r} share the slug {node.slug!r}",
            )
        slugs.setdefault(node.slug, node.id)
        if len(node.choices) == 1:
            report.warn(node.line, f"decision {node.id!r} has fewer than 2 choices")
        _check_choices(node, outlook, report)

    present = {node.ending for node in scenario.endings}
    for ending in ENDINGS:
        if present and ending not in present:
            report.warn(1, f"no {ending} ending: good, acceptable and poor should all be reachable")


def _check_choices(node: Node, outlook: dict, report: _Report) -> None:
    seen_ids: set[str] = set()
    for index, choice in enumerate(node.choices):
        if choice.id in seen_ids:
            report.error(choice.line, f"duplicate choice id {choice.id!r} in {node.id!r}")
        seen_ids.add(choice.id)
        for other in node.choices[index + 1 :]:
            if other.to == choice.to and other.effects == choice.effects:
                report.warn(
                    other.line,
                    f"choices {choice.id!r} and {other.id!r} lead to the same node "
                    "with the same effects",
                )

    scores = [_axis_scores(choice, outlook[(node.id, choice.id)]) for choice in node.choices]
    for index, (choice, score) in enumerate(zip(node.choices, scores, strict=True)):
        others = scores[:index] + scores[index + 1 :]
        if others and all(_beats(score, other) for other in others):
            report.warn(
                node.line,
                f"option {choice.id!r} at {node.id!r} beats every other option on every axis; "
                "give the others a real upside",
            )


def _axis_scores(choice: Choice, outlook: str | None) -> tuple[int, ...]:
    """Return the choice's effects oriented so that larger is better, plus its outlook."""
    effect = choice.effects.get
    return (
        effect("trust", 0),
        effect("confidence", 0),
        -effect("time", 0),
        -effect("cost", 0),
        -effect("risk", 0),
        ENDING_RANK[outlook],
    )


def _beats(score: tuple[int, ...], other: tuple[int, ...]) -> bool:
    """Return True if `score` is at least as good on every axis and better on one."""
    return all(a >= b for a, b in zip(score, other, strict=True)) and score != other
