"""The one list of feature packages: create_app sets them up in this order, and the database
imports their models from it.

Each package has an `init_app(app)`; those with tables keep them in `models.py`.
"""

import importlib
from importlib.util import find_spec
from types import ModuleType

FEATURES = (
    "core",
    "auth",
    "org",
    "learn",
    "scenarios",
    "pulse",
    "outcomes",
    "insights",
    "fixes",
    "privacy",
    "scim",
    "kiosk",
)
# Modules on the floor that define tables of their own: the scheduler's lock and job runs, the
# outbox and the audit log.
PLATFORM_MODELS = ("scheduler", "mail", "audit")


def feature_packages() -> list[ModuleType]:
    """Import and return the feature packages, in the order they are set up."""
    return [importlib.import_module(f"trainer.{name}") for name in FEATURES]


def import_models() -> None:
    """Import every module that defines tables, so SQLModel.metadata is complete."""
    for name in FEATURES:
        if find_spec(f"trainer.{name}.models") is not None:
            importlib.import_module(f"trainer.{name}.models")
    for name in PLATFORM_MODELS:
        importlib.import_module(f"trainer.{name}")
