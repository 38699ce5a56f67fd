"""Send tables as CSV downloads.

Every CSV file the app serves is made by `download`, so no export can skip the spreadsheet
formula guard (`trainer.csvfile.guard_cell`); tests/test_csvfile.py walks the URL map to hold
every export to that.
"""

from collections.abc import Iterable

from flask import Response

from trainer.csvfile import write_guarded


def download(filename: str, rows: Iterable[Iterable]) -> Response:
    """Return `rows` (header first) as a CSV file to download, every cell guarded against
    formula injection."""
    return Response(
        write_guarded(rows),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
