"""Read a scenario from YAML, with the line of every node and choice for the problems."""

import yaml

from trainer.content_rules import yaml_nesting_problem
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

REQUIRED_FIELDS = ("id", "title", "setting", "metric", "action", "authority", "start")
TOP_KEYS = {*REQUIRED_FIELDS, "summary", "nodes", "problem_types"}
NODE_KEYS = {"text", "choices", "ending", "debrief"}
CHOICE_KEYS = {"id", "text", "to", "kind", "effects", "reaction"}


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


def _read_yaml(text: str, report: Report):
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


def _yaml_value(node, loader: yaml.SafeLoader, report: Report, seen: dict):
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


def draft_from_yaml(text: str, stem: str, report: Report) -> Draft | None:
    data = _read_yaml(text, report)
    if data is None:
        return None
    if not isinstance(data, _LineMap):
        report.error(1, "expected a mapping of scenario fields at the top level")
        return None
    _warn_unknown_keys(data, TOP_KEYS, "the scenario", report)

    fields = {key: _text(data, key, data.line, "the scenario", report) for key in REQUIRED_FIELDS}
    summary = _text(data, "summary", data.line, "the scenario", report, required=False)
    check_scenario_id(fields["id"], stem, data.lines.get("id", 1), report)

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
    problem_types = read_problem_types(
        data.get("problem_types"),
        "problem_types" in data,
        data.lines.get("problem_types", data.line),
        report,
    )
    return Draft(scenario, data.lines.get("start", 1), terminals, problem_types)


def _yaml_node(
    node_id: str, raw, line: int, node_ids: set[str], terminals: set[str], report: Report
) -> Node:
    where = f"node {node_id!r}"
    if not isinstance(raw, _LineMap):
        report.error(line, f"{where} must be a mapping with 'text' and 'choices' or 'ending'")
        terminals.add(node_id)
        return Node(node_id, "", line=line)
    _warn_unknown_keys(raw, NODE_KEYS, where, report)
    text = _text(raw, "text", line, where, report)
    check_feedback(text, raw.lines.get("text", line), report)
    raw_choices = raw.get("choices")

    if "ending" in raw:
        terminals.add(node_id)
        rating = read_rating(raw["ending"], node_id, raw.lines["ending"], report)
        debrief = _text(raw, "debrief", line, where, report)
        check_feedback(debrief, raw.lines.get("debrief", line), report)
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
    node_id: str, index: int, raw, line: int, node_ids: set[str], report: Report
) -> Choice | None:
    where = f"choice {index} of {node_id!r}"
    if not isinstance(raw, _LineMap):
        report.error(line, f"{where} must be a mapping with 'text', 'to' and 'kind'")
        return None
    _warn_unknown_keys(raw, CHOICE_KEYS, where, report)
    text = _text(raw, "text", line, where, report)
    target = _text(raw, "to", line, where, report)
    if target:
        check_target(target, node_ids, raw.lines["to"], where, report)
    kind = read_kind(raw.get("kind"), raw.lines.get("kind", line), where, report)
    choice_id = read_choice_id(raw.get("id"), node_id, index, raw.lines.get("id", line), report)
    reaction = _text(raw, "reaction", line, where, report, required=False)
    check_feedback(reaction, raw.lines.get("reaction", line), report)

    raw_effects = raw.get("effects")
    effects: dict[str, int] = {}
    if isinstance(raw_effects, _LineMap):
        items = [(key, value, raw_effects.lines[key]) for key, value in raw_effects.items()]
        effects = read_effects(items, where, report)
    elif raw_effects is not None:
        report.error(raw.lines["effects"], f"the effects of {where} must be a mapping")
    return Choice(choice_id, text, target, kind, effects, reaction or None, line)


def _warn_unknown_keys(mapping: _LineMap, known: set[str], where: str, report: Report) -> None:
    for key in mapping:
        if key not in known:
            report.warn(mapping.lines[key], f"unknown field {key!r} in {where} is ignored")


def _text(
    mapping: _LineMap, key: str, line: int, where: str, report: Report, *, required: bool = True
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
