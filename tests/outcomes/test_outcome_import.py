"""The CSV import: all or nothing, idempotent upserts, and every kind of bad file."""

import time

import pytest

from trainer.outcomes import imports


@pytest.fixture
def good(csv_text):
    return csv_text(
        "T1,2026Q1,csat,81.5,120",
        "T2,2026Q1,csat,77,95",
        "T1,2026-05-10,nps,32,110",
        "S1,2026Q2,complaints,2.4,",
    )


def test_a_good_file_is_imported_with_dates_stored_as_quarters(org, import_text, stored, good):
    report = import_text(good)
    assert report.ok, report.errors
    assert (report.rows, report.created, report.updated, report.unchanged) == (4, 4, 0, 0)
    rows, imports = stored()
    assert sorted(rows) == sorted(
        [
            (org.t1.id, "2026Q1", "csat", 81.5, 120, None, None, None),
            (org.t2.id, "2026Q1", "csat", 77.0, 95, None, None, None),
            (org.t1.id, "2026Q2", "nps", 32.0, 110, None, None, None),
            (org.s1.id, "2026Q2", "complaints", 2.4, None, None, None, None),
        ]
    )
    assert imports == 1


def test_importing_the_same_file_again_changes_nothing(org, import_text, stored, good):
    import_text(good)
    before = stored()[0]
    report = import_text(good)
    assert (report.created, report.updated, report.unchanged) == (0, 0, 4)
    assert stored()[0] == before


def test_changed_values_are_updated_in_place(org, import_text, stored, good, csv_text):
    import_text(good)
    report = import_text(
        csv_text("T1,2026Q1,csat,83,125", "T2,2026Q1,csat,77,95", "T3,2026Q1,csat,60,40")
    )
    assert (report.created, report.updated, report.unchanged) == (1, 1, 1)
    rows = {(r[0], r[1], r[2]): r for r in stored()[0]}
    assert rows[(org.t1.id, "2026Q1", "csat")][3:5] == (83.0, 125)
    assert len(rows) == 5


def test_an_optional_column_left_out_keeps_the_stored_value_and_a_blank_clears_it(
    org, import_text, stored, csv_text
):
    header = "unit_code,period,metric,value,n,topbox,responses,invited"
    import_text(csv_text("T1,2026Q1,csat,80,100,0.4,100,300", header=header))
    report = import_text(csv_text("T1,2026Q1,csat,81,100"))
    assert report.updated == 1
    assert stored()[0] == [(org.t1.id, "2026Q1", "csat", 81.0, 100, 0.4, 100, 300)]
    import_text(csv_text("T1,2026Q1,csat,81,100,,100,300", header=header))
    assert stored()[0] == [(org.t1.id, "2026Q1", "csat", 81.0, 100, None, 100, 300)]


def test_a_dry_run_counts_but_writes_nothing(org, import_text, stored, good):
    report = import_text(good, dry_run=True)
    assert report.ok and report.created == 4
    assert stored() == ([], 0)


def test_a_byte_order_mark_and_semicolons_with_decimal_commas_import_cleanly(
    org, import_text, stored
):
    text = "\ufeffunit_code;period;metric;value;n\r\nT1;2026Q1;csat;81,5;120\r\n"
    report = import_text(text)
    assert report.ok, report.errors
    assert stored()[0] == [(org.t1.id, "2026Q1", "csat", 81.5, 120, None, None, None)]


# Bad files: each names the line and column and writes nothing.


def assert_rejected(report, stored, *expected):
    assert not report.ok
    assert [str(e) for e in report.errors] == list(expected)
    assert stored() == ([], 0)


def test_wrong_columns_are_named(org, import_text, stored):
    report = import_text("unit,period,metric,value,value,sample\nT1,2026Q1,csat,80,80,10\n")
    assert_rejected(
        report,
        stored,
        "line 1, column unit_code: This column is missing.",
        "line 1, column n: This column is missing.",
        "line 1, column unit: Unknown column. Expected: unit_code, period, metric, value, n, "
        "topbox, responses, invited.",
        "line 1, column sample: Unknown column. Expected: unit_code, period, metric, value, n, "
        "topbox, responses, invited.",
        "line 1, column value: This column appears twice.",
    )


def test_unknown_units_are_named(org, import_text, stored, csv_text):
    report = import_text(csv_text("T1,2026Q1,csat,80,10", "NOPE,2026Q1,csat,80,10"))
    assert_rejected(report, stored, "line 3, column unit_code: No unit has the code 'NOPE'.")


def test_bad_and_future_periods_are_named(org, import_text, stored, csv_text):
    report = import_text(
        csv_text(
            "T1,2026Q1,csat,80,10",
            "T1,Spring 2026,csat,80,10",
            "T1,2099Q1,csat,80,10",
            "T1,2026-13-01,csat,80,10",
        )
    )
    assert not report.ok
    assert [(e.line, e.column) for e in report.errors] == [
        (3, "period"),
        (4, "period"),
        (5, "period"),
    ]
    assert "in the future" in report.errors[1].message
    assert stored() == ([], 0)


def test_duplicates_within_a_file_name_both_lines(org, import_text, stored, csv_text):
    report = import_text(
        csv_text("T1,2026Q1,csat,80,10", "T2,2026Q1,csat,80,10", "T1,2026-02-14,csat,82,10")
    )
    assert_rejected(
        report,
        stored,
        "line 4, column period: T1 2026Q1 csat already appears on line 2. Each unit has one "
        "value per metric and quarter (dates in one quarter count as that quarter): combine "
        "them into one row.",
    )


def test_non_numeric_values_are_named(org, import_text, stored, csv_text):
    report = import_text(
        csv_text("T1,2026Q1,csat,eighty,10", "T2,2026Q1,csat,NaN,10", "T3,2026Q1,csat,80,ten")
    )
    assert_rejected(
        report,
        stored,
        "line 2, column value: 'eighty' is not a number.",
        "line 3, column value: 'NaN' is not a finite number.",
        "line 4, column n: 'ten' is not a whole number of 0 or more (write 1200, without "
        "separators).",
    )


def test_a_row_with_the_wrong_number_of_fields_is_named(org, import_text, stored, csv_text):
    report = import_text(csv_text("T1,2026Q1,csat,80,10", "T2,2026Q1,csat,80"))
    assert_rejected(report, stored, "line 3: Expected 5 fields, found 4.")


def test_one_bad_row_among_good_ones_saves_nothing(org, import_text, stored, csv_text):
    rows = [f"T1,2025Q{q},csat,80,10" for q in range(1, 5)] + ["T2,2025Q1,csat,180,10"]
    report = import_text(csv_text(*rows))
    assert [e.line for e in report.errors] == [6]
    assert stored() == ([], 0)


def test_a_bad_row_does_not_touch_data_already_stored(org, import_text, stored, csv_text):
    import_text(csv_text("T1,2026Q1,csat,80,10"))
    before = stored()
    report = import_text(csv_text("T1,2026Q1,csat,90,10", "T2,2026Q1,csat,x,10"))
    assert not report.ok
    assert stored() == before


def test_semicolon_file_with_a_bom_and_bad_rows_names_them(org, import_text, stored):
    text = "\ufeffunit_code;period;metric;value;n\nT1;2026Q1;csat;81,5;120\nT2;2026Q1;csat;;9\n"
    assert_rejected(import_text(text), stored, "line 3, column value: The value is empty.")


def test_a_file_that_is_not_utf8_is_refused(org, session, stored):
    report = imports.import_csv(
        session=session,
        data="unit_code,period,metric,value,n\nT1,2026Q1,csat,80,10 ü\n".encode("latin-1"),
        channel="test",
        actor="tests",
    )
    assert [str(e) for e in report.errors] == [
        "line 1: The file is not UTF-8 text. Save it as 'CSV UTF-8' and try again."
    ]
    assert stored() == ([], 0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "line 1: The file is empty."),
        ("unit_code,period,metric,value,n\n", "line 2: The file has a header but no rows."),
    ],
)
def test_empty_files_are_refused(org, import_text, stored, text, message):
    assert_rejected(import_text(text), stored, message)


def test_a_huge_file_is_refused_whole_and_writes_nothing(org, import_text, stored):
    row = "T1,2026Q1,csat,80,10\n"
    text = "unit_code,period,metric,value,n\n" + row * (imports.MAX_ROWS + 1)
    assert_rejected(
        import_text(text),
        stored,
        "line 1: The file has 200,001 rows; the limit is 200,000. Split it into "
        "smaller files (each import is all or nothing).",
    )


def test_a_file_above_the_size_limit_is_refused_before_reading(org, session, stored, monkeypatch):
    monkeypatch.setattr(imports, "MAX_FILE_BYTES", 1024 * 1024)
    data = b"unit_code,period,metric,value,n\n" + b"x" * (1024 * 1024)
    report = imports.import_csv(session=session, data=data, channel="test", actor="tests")
    assert [str(e) for e in report.errors] == [
        "line 1: The file is 1.0 MB; the limit is 1 MB. Split it into smaller files."
    ]
    assert stored() == ([], 0)


def test_fifty_thousand_rows_import_in_one_go_and_reimport_unchanged(
    app, org, make_unit, import_text, stored
):
    site = org.s2
    teams = [make_unit(f"X{i}", "team", site) for i in range(250)]
    quarters = [f"{year}Q{q}" for year in range(2016, 2026) for q in range(1, 5)]  # 40
    metrics = ["csat", "nps", "csi", "complaints", "retention"]
    lines = [
        f"{t.code},{p},{m},{(i % 90) + 1},{i % 300}"
        for i, (t, p, m) in enumerate((t, p, m) for t in teams for p in quarters for m in metrics)
    ]
    assert len(lines) == 50_000
    text = "unit_code,period,metric,value,n\n" + "\n".join(lines) + "\n"
    started = time.monotonic()
    report = import_text(text)
    first = time.monotonic() - started
    assert report.ok, report.errors[:3]
    assert report.created == 50_000
    again = import_text(text)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 50_000)
    assert len(stored()[0]) == 50_000
    assert first < 60, f"50,000 rows took {first:.1f}s"
