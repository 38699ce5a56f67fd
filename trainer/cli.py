"""The `flask import …` command group; features add their importers to it."""

from flask.cli import AppGroup

import_cli = AppGroup("import", help="Import people or customer outcomes from CSV files.")
