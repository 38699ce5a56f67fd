"""The org tree as pulse reads it: units by id, ancestors, tree order, reporting groups."""

from sqlmodel import Session, select

from trainer.org.models import OrgUnit


def units_by_id(*, session: Session) -> dict[int, OrgUnit]:
    return {u.id: u for u in session.exec(select(OrgUnit)).all()}


def ancestor_ids(unit: OrgUnit) -> list[int]:
    """Return the ids of the unit's ancestors, from the top."""
    return [int(i) for i in unit.path.strip("/").split("/") if i]


def tree_key(unit: OrgUnit, units: dict[int, OrgUnit]) -> tuple[str, ...]:
    """Sort key that puts units in tree order: each unit right after its parent, siblings by
    name. (Sorting on the materialised path would list every region before any site.)"""
    return tuple(units[a].name for a in ancestor_ids(unit) if a in units) + (unit.name,)


def short_name(unit: OrgUnit, units: dict[int, OrgUnit]) -> str:
    """Return the unit's name without its parent's, for a tree that shows the parent above it
    ("Leeds Motors: Sales" under "Leeds Motors" reads "Sales")."""
    parent = units.get(unit.parent_id) if unit.parent_id is not None else None
    if parent is not None and unit.name.startswith(f"{parent.name}: "):
        return unit.name[len(parent.name) + 2 :]
    return unit.name


def tree_depth(unit: OrgUnit) -> int:
    return len(ancestor_ids(unit))


def group_keys(
    units: dict[int, OrgUnit], audience_ids: set[int], headcount: dict[int, int], min_group: int
) -> dict[int, int]:
    """Map each audience unit to its reporting group, merging units of fewer than
    `min_group` people (counting merged children) into their parent, bottom-up."""
    size = {u: headcount.get(u, 0) for u in audience_ids}
    merged: set[int] = set()
    for unit_id in sorted(audience_ids, key=lambda i: -len(ancestor_ids(units[i]))):
        parent = units[unit_id].parent_id
        if parent in audience_ids and size[unit_id] < min_group:
            merged.add(unit_id)
            size[parent] += size[unit_id]
    keys: dict[int, int] = {}
    for unit_id in sorted(audience_ids, key=lambda i: len(ancestor_ids(units[i]))):
        parent = units[unit_id].parent_id
        keys[unit_id] = keys[parent] if unit_id in merged else unit_id
    return keys
