"""`flask import outcomes FILE.csv [--dry-run]`."""


def write(tmp_path, text, name="outcomes.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_command_imports_and_reports_counts(org, runner, tmp_path, stored, csv_text):
    path = write(tmp_path, csv_text("T1,2026Q1,csat,80,10", "T2,2026Q1,nps,20,10"))
    result = runner.invoke(args=["import", "outcomes", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output == "2 rows: 2 created, 0 updated, 0 unchanged.\n"
    assert len(stored()[0]) == 2
    again = runner.invoke(args=["import", "outcomes", str(path)])
    assert again.output == "2 rows: 0 created, 0 updated, 2 unchanged.\n"


def test_errors_name_file_line_and_column_and_exit_1(org, runner, tmp_path, stored, csv_text):
    path = write(
        tmp_path, csv_text("T1,2026Q1,csat,80,10", "T9,2026Q1,csat,80,10", "T2,2026Q1,csat,abc,10")
    )
    result = runner.invoke(args=["import", "outcomes", str(path)])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "outcomes.csv: line 3, column unit_code: No unit has the code 'T9'.",
        "outcomes.csv: line 4, column value: 'abc' is not a number.",
        "outcomes.csv: 2 problems; nothing was imported.",
    ]
    assert stored() == ([], 0)


def test_dry_run_checks_and_writes_nothing(org, runner, tmp_path, stored, csv_text):
    path = write(tmp_path, csv_text("T1,2026Q1,csat,80,10"))
    result = runner.invoke(args=["import", "outcomes", str(path), "--dry-run"])
    assert result.exit_code == 0
    assert result.output == ("Dry run, nothing saved: 1 row: 1 created, 0 updated, 0 unchanged.\n")
    assert stored() == ([], 0)


def test_a_file_above_the_size_limit_is_refused_unread(org, runner, tmp_path, stored, monkeypatch):
    from trainer.outcomes import imports

    monkeypatch.setattr(imports, "MAX_FILE_BYTES", 2**20)
    row = "T1,2026Q1,csat,80,10\n"
    path = write(tmp_path, "unit_code,period,metric,value,n\n" + row * (2**20 // len(row) + 1))
    result = runner.invoke(args=["import", "outcomes", str(path)])
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == (
        "outcomes.csv: line 1: The file is 1.0 MB; the limit is 1 MB. Split it into smaller files."
    )
    assert stored() == ([], 0)
