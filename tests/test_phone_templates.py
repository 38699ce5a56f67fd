"""Template rules for phones that hold for every page, checked on the template source."""

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[1] / "trainer" / "templates"
# The shared scroll region: the scroll_region macro, or a div with the same four attributes.
REGION = re.compile(r"scroll_region\(|<div class=\"table-wrap[^\"]*\"[^>]*>")


def _templates():
    return sorted(TEMPLATES.rglob("*.html"))


def test_every_table_sits_in_a_labelled_scroll_region():
    bare = []
    for path in _templates():
        text = path.read_text()
        for match in re.finditer(r"<table\b", text):
            before = text[: match.start()]
            opened = list(REGION.finditer(before))
            region = opened[-1].group(0) if opened else ""
            ok = region.startswith("scroll_region(") or (
                'role="region"' in region
                and 'tabindex="0"' in region
                and ("aria-label=" in region or "aria-labelledby=" in region)
            )
            if not ok:
                bare.append(f"{path.relative_to(TEMPLATES)}:{before.count(chr(10)) + 1}")
    assert not bare, f"tables outside a labelled scroll region (see _tables.html): {bare}"


def test_no_page_asks_to_hold_ctrl_or_cmd():
    asking = [
        str(p.relative_to(TEMPLATES))
        for p in _templates()
        if re.search(r"Hold (down )?(Ctrl|Cmd|Control|Command)", p.read_text())
    ]
    assert not asking
