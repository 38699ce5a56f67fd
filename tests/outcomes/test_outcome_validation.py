"""The pure checks: periods, numbers, ranges, duplicates and JSON rows."""

from datetime import date

import pytest

from trainer.outcomes.validation import BUILTIN_METRICS, check_json_rows, check_rows, parse_period

TODAY = date(2026, 8, 20)  # in 2026Q3
UNITS = {"T1": 1, "T2": 2, "LEEDS-SVC": 3}
METRICS = {m.code: m for m in BUILTIN_METRICS}


def check(*rows, **kwargs):
    numbered = [
        (line, dict(zip(["unit_code", "period", "metric", "value", "n"], row, strict=False)))
        for line, row in enumerate(rows, start=2)
    ]
    return check_rows(numbered, units=UNITS, metrics=METRICS, today=TODAY, **kwargs)


def messages(errors):
    return [str(e) for e in errors]


@pytest.mark.parametrize(
    ("raw", "period"),
    [
        ("2026Q3", "2026Q3"),
        ("2026q1", "2026Q1"),
        ("2025-Q4", "2025Q4"),
        (" 2024 Q2 ", "2024Q2"),
        ("2026-07-01", "2026Q3"),
        ("2026-03-31", "2026Q1"),
        ("2026-09-30", "2026Q3"),
    ],
)
def test_quarters_and_dates_become_quarters(raw, period):
    assert parse_period(raw, today=TODAY) == period


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("2026Q5", "not a period"),
        ("Q3 2026", "not a period"),
        ("31/07/2026", "not a period"),
        ("2026-02-30", "not a real date"),
        ("2026Q4", "in the future; the latest quarter you can import is 2026Q3"),
        ("2026-10-01", "in the future"),
        ("1999Q4", "before 2000"),
        ("", "not a period"),
    ],
)
def test_bad_periods_say_why(raw, reason):
    with pytest.raises(ValueError, match=reason):
        parse_period(raw, today=TODAY)


def test_a_good_row_is_cleaned_with_its_unit_id_and_quarter():
    clean, errors = check(["T1", "2026-08-01", "CSAT", " 87.5 ", "212"])
    assert errors == []
    assert clean == [
        {
            "unit_id": 1,
            "unit_code": "T1",
            "period": "2026Q3",
            "metric": "csat",
            "value": 87.5,
            "n": 212,
        }
    ]


def test_every_problem_of_every_row_is_named_with_line_and_column():
    _clean, errors = check(
        ["T9", "2026Q3", "csat", "80", "10"],
        ["T1", "2026Q9", "csat", "80", "10"],
        ["T1", "2026Q3", "cast", "80", "10"],
        ["T1", "2026Q2", "csat", "lots", "ten"],
    )
    assert messages(errors) == [
        "line 2, column unit_code: No unit has the code 'T9'.",
        "line 3, column period: '2026Q9' is not a period. Use a quarter like 2026Q3 or a date "
        "like 2026-07-31.",
        "line 4, column metric: Unknown metric 'cast'. Metrics are: csat, nps, csi, "
        "complaints, retention. HR can define custom metrics.",
        "line 5, column value: 'lots' is not a number.",
        "line 5, column n: 'ten' is not a whole number of 0 or more (write 1200, without "
        "separators).",
    ]


def test_a_unit_code_in_the_wrong_case_gets_a_suggestion():
    _clean, errors = check(["leeds-svc", "2026Q3", "csat", "80", "10"])
    assert "Did you mean 'LEEDS-SVC'?" in errors[0].message


@pytest.mark.parametrize(
    ("metric", "value", "reason"),
    [
        ("csat", "100.5", "100.5 is out of range: csat values are from 0 to 100."),
        ("csat", "-1", "-1 is out of range: csat values are from 0 to 100."),
        ("nps", "-101", "-101 is out of range: nps values are from -100 to 100."),
        ("complaints", "-0.1", "-0.1 is out of range: complaints values are at least 0."),
        ("retention", "101", "101 is out of range: retention values are from 0 to 100."),
        ("csat", "nan", "'nan' is not a finite number."),
        ("csat", "inf", "'inf' is not a finite number."),
        ("csat", "", "The value is empty."),
        ("csat", "87,5", "'87,5' is not a number. Use a dot as the decimal separator."),
    ],
)
def test_values_must_be_finite_numbers_in_the_metric_range(metric, value, reason):
    _clean, errors = check(["T1", "2026Q3", metric, value, "50"])
    assert [(e.column, e.message) for e in errors] == [("value", reason)]


def test_a_decimal_comma_is_read_in_semicolon_files():
    clean, errors = check(["T1", "2026Q3", "csat", "87,5", "50"], decimal_comma=True)
    assert errors == []
    assert clean[0]["value"] == 87.5


@pytest.mark.parametrize("n", ["-1", "2.5", "1,200", "1.200,5", "many"])
def test_n_must_be_a_whole_number_of_zero_or_more(n):
    _clean, errors = check(["T1", "2026Q3", "csat", "80", n])
    assert [e.column for e in errors] == ["n"]


def test_n_written_as_a_whole_float_is_accepted():
    clean, _errors = check(["T1", "2026Q3", "csat", "80", "120.0"])
    assert clean[0]["n"] == 120


def test_n_is_required_for_survey_metrics_and_optional_for_complaints_and_retention():
    clean, errors = check(
        ["T1", "2026Q3", "csat", "80", ""],
        ["T1", "2026Q3", "complaints", "2.5", ""],
        ["T1", "2026Q3", "retention", "71", ""],
    )
    assert messages(errors) == [
        "line 2, column n: n is required for csat: the number of customers behind the value."
    ]
    assert [(r["metric"], r["n"]) for r in clean] == [("complaints", None), ("retention", None)]


def test_two_rows_for_one_unit_metric_and_quarter_name_both_lines():
    _clean, errors = check(
        ["T1", "2026Q3", "csat", "80", "10"],
        ["T2", "2026Q3", "csat", "70", "10"],
        ["T1", "2026-08-01", "csat", "82", "12"],
    )
    assert len(errors) == 1
    assert errors[0].line == 4
    assert errors[0].column == "period"
    assert "T1 2026Q3 csat already appears on line 2" in errors[0].message


def test_optional_columns_are_checked_and_kept_only_when_present():
    rows = [
        (
            2,
            {
                "unit_code": "T1",
                "period": "2026Q3",
                "metric": "csat",
                "value": "80",
                "n": "100",
                "topbox": "0.42",
                "responses": "100",
                "invited": "400",
            },
        ),
        (
            3,
            {
                "unit_code": "T2",
                "period": "2026Q3",
                "metric": "csat",
                "value": "80",
                "n": "100",
                "topbox": "",
                "responses": "",
                "invited": "",
            },
        ),
        (
            4,
            {
                "unit_code": "LEEDS-SVC",
                "period": "2026Q3",
                "metric": "csat",
                "value": "80",
                "n": "100",
                "topbox": "42",
                "responses": "500",
                "invited": "400",
            },
        ),
    ]
    clean, errors = check_rows(rows, units=UNITS, metrics=METRICS, today=TODAY)
    assert clean[0] == {
        "unit_id": 1,
        "unit_code": "T1",
        "period": "2026Q3",
        "metric": "csat",
        "value": 80.0,
        "n": 100,
        "topbox": 0.42,
        "responses": 100,
        "invited": 400,
    }
    assert clean[1]["topbox"] is None and clean[1]["invited"] is None
    assert messages(errors) == [
        "line 4, column topbox: 42 is not a share between 0 and 1 (write 0.42 for 42%).",
        "line 4, column responses: 500 responses is more than the 400 invited.",
    ]
    plain, _ = check(["T1", "2026Q3", "csat", "80", "10"])
    assert "topbox" not in plain[0]


def test_json_rows_need_json_types_and_exactly_the_known_fields():
    rows = [
        {"unit_code": "T1", "period": "2026Q3", "metric": "csat", "value": 81, "n": 10},
        {"unit_code": "T1", "period": "2026Q2", "metric": "csat", "value": "81", "n": 10},
        {"unit_code": "T1", "period": "2026Q1", "metric": "csat", "value": True, "n": None},
        {"unit_code": 7, "period": 2026, "metric": "csat", "value": 1, "n": 10.5},
        {"unit_code": "T1", "period": "2026Q3", "metric": "nps", "value": 1},
        {"unit_code": "T1", "period": "2026Q3", "metric": "nps", "value": 1, "n": 1, "x": 1},
        ["T1", "2026Q3"],
    ]
    clean, errors = check_json_rows(rows, units=UNITS, metrics=METRICS, today=TODAY)
    assert [(e.line, e.column, e.message) for e in errors] == [
        (1, "value", "Send a JSON number, not the text '81'."),
        (2, "value", "Send a number, not true or false."),
        (2, "n", "n is required for csat: the number of customers behind the value."),
        (3, "unit_code", "Send text (a JSON string), not a number."),
        (3, "period", "Send text (a JSON string), not a number."),
        (3, "n", "'10.5' is not a whole number of 0 or more (write 1200, without separators)."),
        (4, "n", "This field is missing."),
        (
            5,
            "x",
            "Unknown field. Expected: unit_code, period, metric, value, n, topbox, "
            "responses, invited.",
        ),
        (6, None, "Each row must be a JSON object."),
    ]
    assert [c["period"] for c in clean] == ["2026Q3"]
