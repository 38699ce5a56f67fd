"""The main navigation and the home page's panels: each feature adds its own from init_app."""

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app

from trainer.access import Role


@dataclass(frozen=True)
class NavItem:
    label: str  # a lazy_gettext string: read in the reader's language
    endpoint: str
    roles: frozenset[Role]  # empty: everyone signed in
    order: int = 50


def add_nav(app: Flask, label: str, endpoint: str, roles=(), order: int = 50) -> None:
    """Add a link to the main navigation for the given roles."""
    app.extensions.setdefault("trainer.nav", []).append(
        NavItem(label, endpoint, frozenset(Role(role) for role in roles), order)
    )


@dataclass(frozen=True)
class HomePanel:
    template: str
    roles: frozenset[Role]  # empty: everyone signed in
    order: int = 50
    # data(session=, user=, now=) -> dict for the template, with "tasks": how many open tasks
    # it lists. A panel with data is included once per part ("tasks", "figures", "links");
    # one without is shown whole, after them.
    data: Callable[..., dict] | None = None


def add_home_panel(
    app: Flask, template: str, roles=(), order: int = 50, data: Callable[..., dict] | None = None
) -> None:
    """Show a partial template on the home page for the given roles (see HomePanel)."""
    app.extensions.setdefault("trainer.home", []).append(
        HomePanel(template, frozenset(Role(role) for role in roles), order, data)
    )


def _visible(items, user) -> list[NavItem]:
    return sorted(
        (i for i in items if not i.roles or user.has_role(*i.roles)), key=lambda i: i.order
    )


def home_panels(user) -> list[HomePanel]:
    return _visible(current_app.extensions.get("trainer.home", []), user)


def nav_for(user) -> list[NavItem]:
    if not user.is_authenticated:
        return []
    return _visible(current_app.extensions.get("trainer.nav", []), user)
