"""The interface's messages as `flask translate extract` collects them, for the language tests."""

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg

ROOT = Path(__file__).parent.parent
KEYWORDS = {"_l": None}  # trainer's name for lazy_gettext, as trainer.i18n passes with -k


def extracted_messages() -> dict[str | tuple[str, ...], None]:
    """Return every msgid (a tuple of singular and plural for plural messages) that pybabel
    extracts from trainer/ with the repository's babel.cfg, in the order found."""
    from babel.messages.extract import DEFAULT_KEYWORDS

    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    # babel.cfg's patterns are relative to the repository root.
    method_map = [(pattern.removeprefix("trainer/"), method) for pattern, method in method_map]
    options_map = {pattern.removeprefix("trainer/"): o for pattern, o in options_map.items()}
    found: dict = {}
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        ROOT / "trainer",
        method_map,
        options_map,
        keywords={**DEFAULT_KEYWORDS, **KEYWORDS},
    ):
        found.setdefault(message, None)
    return found
