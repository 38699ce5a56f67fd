"""The question bank: the default items, adding, rewording and retiring items."""

from pathlib import Path

import yaml
from flask_babel import gettext as _
from sqlmodel import Session, select

from trainer.pulse.models import ITEM_KINDS, THEMES, ItemKind, ProgrammeItem, PulseError, PulseItem

DEFAULT_BANK = Path(__file__).with_name("default_bank.yaml")


def load_default_bank() -> dict:
    return yaml.safe_load(DEFAULT_BANK.read_text(encoding="utf-8"))


def ensure_default_bank(*, session: Session) -> list[PulseItem]:
    """Create the default items that do not exist yet; return the default pulse's items."""
    bank = load_default_bank()
    existing = {i.code: i for i in session.exec(select(PulseItem)).all()}
    pulse = []
    for spec in bank["items"]:
        item = existing.get(spec["code"])
        if item is None:
            item = PulseItem(
                code=spec["code"],
                theme=spec["theme"],
                kind=spec.get("kind", ItemKind.LIKERT),
                text=spec["text"],
            )
            session.add(item)
        if spec.get("pulse"):
            pulse.append(item)
    session.flush()
    return pulse


def items_by_theme(*, session: Session, active_only: bool = False) -> list[tuple[str, list]]:
    query = select(PulseItem).order_by(PulseItem.code)
    if active_only:
        query = query.where(PulseItem.active)
    grouped: dict[str, list[PulseItem]] = {theme: [] for theme in THEMES}
    for item in session.exec(query).all():
        grouped.setdefault(item.theme, []).append(item)
    return [(theme, items) for theme, items in grouped.items() if items]


def _next_code(theme: str, *, session: Session) -> str:
    prefix = {
        "empowerment": "EMP",
        "tools_time": "TLS",
        "recognition": "REC",
        "manager_action": "MGR",
        "pride": "PRD",
        "customer_focus": "CUS",
        "wellbeing": "WEL",
        "enps": "ENPS",
    }.get(theme, "ITM")
    codes = set(session.exec(select(PulseItem.code)).all())
    n = 1
    while f"{prefix}-{n}" in codes:
        n += 1
    return f"{prefix}-{n}"


def add_item(*, session: Session, theme: str, text: str, kind: str = ItemKind.LIKERT) -> PulseItem:
    if theme not in THEMES:
        raise PulseError(_("Choose one of the themes."))
    if kind not in ITEM_KINDS:
        raise PulseError(_("Choose a scale."))
    if (kind == ItemKind.ENPS) != (theme == "enps"):
        raise PulseError(_("The 0-10 recommendation scale belongs to the eNPS theme only."))
    item = PulseItem(
        code=_next_code(theme, session=session), theme=theme, kind=kind, text=" ".join(text.split())
    )
    session.add(item)
    session.flush()
    return item


def retire_item(item: PulseItem, *, session: Session) -> None:
    """Stop using an item in new cycles; its past results stay."""
    item.active = False
    session.add(item)
    for link in session.exec(select(ProgrammeItem).where(ProgrammeItem.item_id == item.id)).all():
        session.delete(link)
    session.flush()


def reword_item(item: PulseItem, text: str, *, session: Session) -> PulseItem:
    """Create a new item with the new wording and put it in the old one's place."""
    text = " ".join(text.split())
    if text == item.text:
        raise PulseError(_("The wording is unchanged."))
    new = PulseItem(
        code=_next_code(item.theme, session=session),
        theme=item.theme,
        kind=item.kind,
        text=text,
        replaces_id=item.id,
    )
    session.add(new)
    session.flush()
    for link in session.exec(select(ProgrammeItem).where(ProgrammeItem.item_id == item.id)).all():
        session.add(
            ProgrammeItem(programme_id=link.programme_id, item_id=new.id, position=link.position)
        )
        session.delete(link)
    item.active = False
    session.add(item)
    session.flush()
    return new
