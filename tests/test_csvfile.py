"""The one CSV writer guards every download against formula injection."""

import csv
import io

import pytest

from tests.csv_checks import EVIL
from trainer.csvfile import download, guard_cell


@pytest.mark.parametrize("text", [EVIL, "+1+1", "-2+3", "@SUM(A1:A2)", "\tcmd", "\rcmd", "-",
                                  "=1", "-cmd|' /C calc'!A0"])
def test_text_a_spreadsheet_would_run_is_prefixed_with_a_quote(text):
    assert guard_cell(text) == "'" + text


@pytest.mark.parametrize("value", [-3, -2.5, 0, "-3.5", "-12", "+4", "-1e-05", ".5", "T1",
                                   "a=b", "", None, "'=already quoted"])
def test_numbers_and_ordinary_text_are_left_alone(value):
    assert guard_cell(value) == value


def test_download_guards_every_cell_and_keeps_negative_numbers(app):
    with app.test_request_context():
        response = download("units.csv", [["unit_name", "score"], [EVIL, -0.25], ["@x", "-7"]])

    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="units.csv"'
    assert list(csv.reader(io.StringIO(response.get_data(as_text=True)))) == [
        ["unit_name", "score"], ["'" + EVIL, "-0.25"], ["'@x", "-7"]]
