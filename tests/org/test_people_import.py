"""The people import: every bad row named, all or nothing, idempotent, careful deactivation."""

import io
import os
import subprocess
import sys

import pytest
from sqlmodel import func, select

from trainer.auth.models import User
from trainer.org.models import ManagedUnit
from trainer.org.services import import_people

HEADER = "email,name,unit_code,roles,manager_of\n"


def _count(session, model=User):
    return session.exec(select(func.count()).select_from(model)).one()


def _run(session, text, **kwargs):
    report = import_people(text.encode(), session=session, **kwargs)
    if report.ok:
        session.commit()
    else:
        session.rollback()
    return report


def test_import_creates_people_with_roles_and_managed_units(session, org):
    report = _run(
        session,
        HEADER + "ann@example.com,Ann Lee,T1,employee,\n"
        "bo@example.com,Bo Ng,S2,employee|manager,S2|T3\n",
    )
    assert (report.created, report.updated, report.errors) == (2, 0, [])
    bo = session.exec(select(User).where(User.email == "bo@example.com")).one()
    assert bo.role_set == {"employee", "manager"}
    managed = session.exec(select(ManagedUnit.unit_id).where(ManagedUnit.user_id == bo.id)).all()
    assert set(managed) == {org.s2.id, org.t3.id}


def test_reimporting_the_same_file_changes_nothing(session, org):
    text = HEADER + "ann@example.com,Ann Lee,T1,employee,\nbo@example.com,Bo,S2,manager,S2\n"
    _run(session, text)
    report = _run(session, text)
    assert (report.created, report.updated, report.unchanged) == (0, 0, 2)


def test_changed_rows_are_updated(session, org):
    _run(session, HEADER + "ann@example.com,Ann Lee,T1,employee,\n")
    report = _run(session, HEADER + "ann@example.com,Ann Lee-Smith,T2,employee,\n")
    assert report.updated == 1
    ann = session.exec(select(User).where(User.email == "ann@example.com")).one()
    assert (ann.name, ann.unit_id) == ("Ann Lee-Smith", org.t2.id)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "email,name,unit\nx@example.com,X,T1\n",
            [
                "line 1, column unit_code: This column is missing",
                "line 1, column roles: This column is missing",
                "line 1, column unit: Unknown column",
            ],
        ),
        (HEADER + "not-an-email,X,T1,employee,\n", ["line 2, column email: 'not-an-email' is not"]),
        (HEADER + "a@example.com,,T1,employee,\n", ["line 2, column name: The name is empty"]),
        (
            HEADER + "a@example.com,A,NOPE,employee,\n",
            ["line 2, column unit_code: No unit has the code 'NOPE'"],
        ),
        (HEADER + "a@example.com,A,T1,boss,\n", ["line 2, column roles: Unknown role 'boss'"]),
        (
            HEADER + "a@example.com,A,T1,employee,T1\n",
            ["line 2, column manager_of: manager_of is filled in but roles"],
        ),
        (
            HEADER + "a@example.com,A,T1,manager,ZZ\n",
            ["line 2, column manager_of: No unit has the code 'ZZ'"],
        ),
        (
            HEADER + "a@example.com,A,T1,employee,\nA@example.com,B,T1,employee,\n",
            ["line 3, column email: a@example.com already appears on line 2"],
        ),
        (HEADER + "a@example.com,A,T1\n", ["line 2: Expected 5 fields, found 3"]),
        ("", ["line 1: The file is empty"]),
        (HEADER, ["line 2: The file has a header but no people"]),
    ],
)
def test_bad_files_are_reported_by_line_and_column_and_write_nothing(session, org, text, expected):
    before = _count(session)
    report = _run(session, text)
    messages = [str(e) for e in report.errors]
    for fragment in expected:
        assert any(m.startswith(fragment) for m in messages), (fragment, messages)
    assert _count(session) == before


def test_one_bad_row_among_good_ones_writes_nothing(session, org):
    before = _count(session)
    report = _run(
        session, HEADER + "good@example.com,Good,T1,employee,\nbad@example.com,Bad,NOPE,employee,\n"
    )
    assert [str(e) for e in report.errors] == [
        "line 3, column unit_code: No unit has the code 'NOPE'."
    ]
    assert _count(session) == before


def test_bom_and_semicolons_as_spreadsheets_save_them(session, org):
    text = "\ufeffemail;name;unit_code;roles\nann@example.com;Ann;T1;employee\n"
    assert _run(session, text).created == 1


def test_non_utf8_files_get_a_clear_message(session, org):
    report = import_people(
        "email,name,unit_code,roles\né@x.com,É,T1,employee\n".encode("latin-1"), session=session
    )
    assert "not UTF-8" in str(report.errors[0])


def test_missing_people_are_deactivated_only_when_asked(session, org, make_user):
    for i in range(20):
        make_user("employee", org.t1, email=f"staff{i}@example.com")
    keep = "".join(f"staff{i}@example.com,S {i},T1,employee,\n" for i in range(20))
    keep += (
        "employee@example.com,E,T1,employee,\nmanager@example.com,M,S1,employee|manager,S1\n"
        "hr@example.com,H,C,employee|hr,\n"
    )
    _run(session, HEADER + keep)
    assert _count(session) == 24 and all(u.active for u in session.exec(select(User)))
    fewer = HEADER + keep.replace("staff0@example.com,S 0,T1,employee,\n", "")
    report = _run(session, fewer, deactivate_missing=True)
    assert report.deactivated == 1
    gone = session.exec(select(User).where(User.email == "staff0@example.com")).one()
    assert not gone.active
    admin = session.exec(select(User).where(User.email == "admin@example.com")).one()
    assert admin.active  # admins are never deactivated by an import


def test_deactivating_more_than_a_fifth_needs_force(session, org, make_user):
    for i in range(10):
        make_user("employee", org.t1, email=f"staff{i}@example.com")
    only_two = HEADER + "staff0@example.com,S0,T1,employee,\nstaff1@example.com,S1,T1,employee,\n"
    report = _run(session, only_two, deactivate_missing=True)
    assert not report.ok and "more than 20%" in str(report.errors[0])
    assert session.exec(select(func.count()).select_from(User).where(User.active)).one() == 14
    forced = _run(session, only_two, deactivate_missing=True, force=True)
    assert forced.deactivated == 11  # 14 active, less the admin and the two listed


def test_cli_import_reports_errors_with_exit_code_1(runner, session, org, tmp_path):
    bad = tmp_path / "people.csv"
    bad.write_text(HEADER + "x,X,T1,employee,\n")
    result = runner.invoke(args=["import", "people", str(bad)])
    assert result.exit_code == 1
    assert "people.csv: line 2, column email" in result.output


def test_cli_import_dry_run_then_real(runner, session, org, tmp_path):
    good = tmp_path / "people.csv"
    good.write_text(HEADER + "ann@example.com,Ann,T1,employee,\n")
    before = _count(session)
    dry = runner.invoke(args=["import", "people", str(good), "--dry-run"])
    assert dry.exit_code == 0 and "Dry run" in dry.output and _count(session) == before
    real = runner.invoke(args=["import", "people", str(good)])
    assert real.exit_code == 0 and "1 created" in real.output and _count(session) == before + 1


def test_cli_missing_file_is_a_usage_error(runner, org):
    result = runner.invoke(args=["import", "people", "/nope/people.csv"])
    assert result.exit_code == 2 and "does not exist" in result.output


def test_upload_page_lists_every_problem_and_saves_nothing(client, login_as, org, session):
    login_as(org.hr)
    before = _count(session)
    data = {"file": (io.BytesIO((HEADER + "x,X,NOPE,employee,\n").encode()), "people.csv")}
    response = client.post("/org/import", data=data, content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "line 2, column email" in html and "line 2, column unit_code" in html
    assert _count(session) == before


def test_upload_page_imports_a_good_file(client, login_as, org, session):
    login_as(org.hr)
    data = {
        "file": (io.BytesIO((HEADER + "ann@example.com,Ann,T1,employee,\n").encode()), "people.csv")
    }
    response = client.post(
        "/org/import", data=data, content_type="multipart/form-data", follow_redirects=True
    )
    assert response.status_code == 200 and "1 created" in response.get_data(as_text=True)


def test_upload_without_a_file_says_so(client, login_as, org):
    login_as(org.hr)
    response = client.post("/org/import", data={}, content_type="multipart/form-data")
    assert response.status_code == 400 and b"Choose a CSV file" in response.data


def test_the_command_line_import_reads_the_deactivation_limit(
    app, runner, session, org, make_user, tmp_path
):
    for i in range(10):
        make_user("employee", org.t1, email=f"staff{i}@example.com")
    only_two = tmp_path / "people.csv"
    only_two.write_text(
        HEADER + "staff0@example.com,S0,T1,employee,\nstaff1@example.com,S1,T1,employee,\n"
    )
    refused = runner.invoke(args=["import", "people", "--deactivate-missing", str(only_two)])
    assert refused.exit_code == 1 and "more than 20%" in refused.output
    app.config["PEOPLE_IMPORT_MAX_DEACTIVATE_SHARE"] = 0.9
    result = runner.invoke(args=["import", "people", "--deactivate-missing", str(only_two)])
    assert result.exit_code == 0, result.output
    assert "11 deactivated" in result.output


def test_cli_import_speaks_the_terminals_language(app, session, org, tmp_path):
    """Run as HR runs it, at a terminal whose language is German (no request in sight)."""
    session.commit()
    env = {
        **os.environ,
        "LANG": "de_DE.UTF-8",
        "TRAINER_DATABASE_URL": app.config["DATABASE_URL"],
        "PYTHONPATH": ":".join(sys.path),
    }
    env.pop("LC_ALL", None)
    env.pop("LC_MESSAGES", None)
    people = tmp_path / "people.csv"

    def flask_import():
        command = [sys.executable, "-m", "flask", "--app", "trainer", "import", "people"]
        return subprocess.run(
            [*command, str(people)], capture_output=True, text=True, env=env, cwd=tmp_path
        )

    people.write_text(HEADER + "ann@example.com,Ann,T1,employee,\n" + "x,X,T1,employee,\n")
    refused = flask_import()
    assert refused.returncode == 1 and "Zeile 3, Spalte email" in refused.stderr
    people.write_text(HEADER + "ann@example.com,Ann,T1,employee,\n")
    done = flask_import()
    assert done.returncode == 0 and "1 neu" in done.stdout, done.stderr
