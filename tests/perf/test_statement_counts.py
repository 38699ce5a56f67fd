"""No hot page runs more statements on a bigger organisation: no query per person or unit."""

from sqlmodel import Session

from tests.conftest import _empty_all_tables
from tests.perf.conftest import LARGE, SMALL, DemoSite
from trainer import create_app, demo
from trainer.db import make_engine
from trainer.fixes import demo as fixes_demo

# The large demo has twice the sites (and so teams and managers), each a copy of one of ours.
MORE_SITES = demo.SITES + [
    (region, f"{code}2", f"{name} II", kind) for region, code, name, kind in demo.SITES
]


def statement_counts(app_config, employees: int) -> dict[str, int]:
    """Load a fresh demo of about `employees` people; count each hot page's statements."""
    engine = make_engine(app_config["DATABASE_URL"], autocommit=True)
    _empty_all_tables(engine)
    app = create_app(app_config)
    try:
        with app.app_context(), Session(engine, expire_on_commit=False) as session:
            site = DemoSite(app, session, employees)
            return {page.name: len(site.load(page)) for page in site.pages()}
    finally:
        app.extensions["trainer.engine"].dispose()
        engine.dispose()


def test_statement_counts_do_not_grow_with_the_organisation(app_config, monkeypatch):
    small = statement_counts(app_config, SMALL)
    with monkeypatch.context() as patch:
        for module in (demo, fixes_demo):
            patch.setattr(module, "SITES", MORE_SITES)
        large = statement_counts(app_config, LARGE)
    print("\npage: statements on the small demo -> on the large demo")
    for name in small:
        print(f"  {name}: {small[name]} -> {large[name]}")
    grew = {name: (small[name], large[name]) for name in small if large[name] > small[name]}
    assert not grew, f"statements per page grew with the data (small, large): {grew}"
