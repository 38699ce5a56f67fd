"""Command groups that several features add to: `flask import …` and `flask people …`."""

from flask.cli import AppGroup

import_cli = AppGroup("import", help="Import people or customer outcomes from CSV files.")
people_cli = AppGroup("people", help="Export or erase what is stored about a person.")
