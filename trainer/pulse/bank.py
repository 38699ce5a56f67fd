"""The question bank: the default items, adding, rewording, retiring and translating items.

An item's English wording is `PulseItem.text`; its other languages live in
`pulse_item_translation`, under the same item id, so answers given in any language roll up
together.
"""

from pathlib import Path

import yaml
from flask_babel import gettext as _
from sqlmodel import Session, col, select

from trainer.pulse.models import (
    ITEM_KINDS,
    THEMES,
    ItemKind,
    ProgrammeItem,
    PulseError,
    PulseItem,
    PulseItemTranslation,
)
from trainer.util import utcnow

SOURCE_LANGUAGE = "en"  # PulseItem.text is the English wording

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
    _ensure_default_translations(bank, session=session)
    return pulse


def _ensure_default_translations(bank: dict, *, session: Session) -> None:
    """Add the bank's translations its items do not have yet (HR's own edits are kept)."""
    codes = [spec["code"] for spec in bank["items"]]
    items = {
        i.code: i for i in session.exec(select(PulseItem).where(col(PulseItem.code).in_(codes)))
    }
    have = set(
        session.exec(
            select(PulseItemTranslation.item_id, PulseItemTranslation.language).where(
                col(PulseItemTranslation.item_id).in_([i.id for i in items.values()])
            )
        ).all()
    )
    for spec in bank["items"]:
        item = items[spec["code"]]
        if item.text != spec["text"]:
            continue  # no longer the bank's wording, so its translations would not fit
        for language, text in (spec.get("translations") or {}).items():
            if (item.id, language) not in have:
                session.add(PulseItemTranslation(item_id=item.id, language=language, text=text))
    session.flush()


def default_comment_prompt(language: str) -> str:
    """The default bank's comment question in `language` (English if it has no translation)."""
    bank = load_default_bank()
    return (bank.get("comment_prompt_translations") or {}).get(language) or bank["comment_prompt"]


def translations_of(item: PulseItem, *, session: Session) -> dict[str, str]:
    """Return an item's wording in each language it is translated into, by language code."""
    rows = session.exec(
        select(PulseItemTranslation).where(PulseItemTranslation.item_id == item.id)
    ).all()
    return {row.language: row.text for row in rows}


def texts_in(language: str, *, session: Session) -> dict[int, str]:
    """Return every item's wording in `language`, by item id (only the translated ones)."""
    if language == SOURCE_LANGUAGE:
        return {}
    rows = session.exec(
        select(PulseItemTranslation.item_id, PulseItemTranslation.text).where(
            PulseItemTranslation.language == language
        )
    ).all()
    return dict(rows)


def save_translations(item: PulseItem, texts: dict[str, str], *, session: Session) -> list[str]:
    """Set an item's wording in other languages; an empty text removes that translation.

    The item keeps its id, so past and future answers stay together. Returns the languages
    whose wording changed."""
    current = {
        row.language: row
        for row in session.exec(
            select(PulseItemTranslation).where(PulseItemTranslation.item_id == item.id)
        ).all()
    }
    changed = []
    for language, text in texts.items():
        if language == SOURCE_LANGUAGE:
            raise PulseError("The English wording is the item itself: reword the item instead.")
        text = " ".join((text or "").split())
        row = current.get(language)
        if not text:
            if row is not None:
                session.delete(row)
                changed.append(language)
        elif row is None:
            session.add(PulseItemTranslation(item_id=item.id, language=language, text=text))
            changed.append(language)
        elif row.text != text:
            row.text, row.updated_at = text, utcnow()
            session.add(row)
            changed.append(language)
    session.flush()
    return changed


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
