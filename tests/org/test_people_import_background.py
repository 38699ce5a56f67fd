"""Large people uploads: queued, imported by the scheduler with a progress page, all or
nothing, and refused past the row limit (issue 16)."""

import html
import io
import re

import pytest
from sqlmodel import func, select

from trainer.auth.models import User
from trainer.org import services
from trainer.org.models import PeopleImport
from trainer.scheduler import jobs, run_job

HEADER = "email,name,unit_code,roles,manager_of\n"


@pytest.fixture
def limits(app):
    """Small limits, so a few rows stand for a large file."""
    app.config.update(PEOPLE_IMPORT_BACKGROUND_ROWS=3, PEOPLE_IMPORT_MAX_ROWS=8)


def people_file(count, bad_line=None):
    rows = [
        f"new{i}@example.com,New Person {i},{'NOPE' if i + 2 == bad_line else 'T1'},employee,\n"
        for i in range(count)
    ]
    return HEADER + "".join(rows)


def upload(client, text, **fields):
    data = {"file": (io.BytesIO(text.encode()), "staff.csv"), **fields}
    return client.post("/org/import", data=data, content_type="multipart/form-data")


def run_imports(app):
    [job] = [job for job in jobs(app) if job.name == "org-people-imports"]
    run_job(app, job)


def page(client, job_id):
    response = client.get(f"/org/import/{job_id}")
    assert response.status_code == 200
    text = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return re.sub(r"\s+", " ", html.unescape(text))


def new_people(session):
    session.expire_all()
    return session.exec(select(func.count()).select_from(User).where(User.email.like("new%"))).one()


def test_a_large_upload_is_queued_then_imported_by_the_scheduler(
    app, client, session, org, login_as, limits
):
    login_as(org.hr)

    response = upload(client, people_file(5))

    job = session.exec(select(PeopleImport)).one()
    assert response.status_code == 302 and response.location == f"/org/import/{job.id}"
    assert (job.status, job.total_rows, job.filename) == ("queued", 5, "staff.csv")
    assert new_people(session) == 0
    assert "Waiting to start" in page(client, job.id)

    run_imports(app)

    session.refresh(job)
    assert (job.status, job.rows_checked, job.data) == ("done", 5, b"")  # the file is gone
    assert new_people(session) == 5
    text = page(client, job.id)
    assert "Import done 5 created, 0 updated, 0 unchanged, 0 reactivated, 0 deactivated." in text
    assert "staff.csv" in client.get("/org/import").get_data(as_text=True)


def test_a_bad_row_in_a_large_file_imports_nothing_and_is_shown_by_line_and_column(
    app, client, session, org, login_as, limits
):
    login_as(org.hr)
    upload(client, people_file(6, bad_line=6))
    job = session.exec(select(PeopleImport)).one()

    run_imports(app)

    session.refresh(job)
    assert (job.status, job.error_count) == ("failed", 1)
    assert new_people(session) == 0  # all or nothing
    text = page(client, job.id)
    assert "Nothing was imported. Please fix this problem:" in text
    assert "line 6, column unit_code: No unit has the code 'NOPE'." in text

    run_imports(app)  # a finished import is not run again
    session.refresh(job)
    assert job.status == "failed" and new_people(session) == 0


def test_the_progress_page_counts_checked_rows_then_says_it_is_saving(
    client, session, org, login_as
):
    job = services.queue_people_import(
        session=session, user=org.hr, filename="staff.csv", data=b"x", total_rows=12_000
    )
    job.status, job.rows_checked = "checking", 4_500
    session.commit()
    login_as(org.hr)

    assert "4,500 of 12,000 rows checked." in page(client, job.id)

    job.rows_checked = 12_000
    session.commit()
    assert "All 12,000 rows are checked. The people are being saved" in page(client, job.id)


def test_checking_reports_progress_before_anything_is_written(session, org, monkeypatch):
    monkeypatch.setattr(services, "PROGRESS_EVERY", 2)
    seen = []

    report = services.import_people(
        people_file(5).encode(),
        session=session,
        progress=lambda n: seen.append((n, new_people(session))),
    )

    assert report.created == 5
    assert seen == [(2, 0), (4, 0), (5, 0)]


def test_an_upload_over_the_row_limit_is_refused_with_a_clear_message(
    client, session, org, login_as, limits
):
    login_as(org.hr)

    response = upload(client, people_file(9))

    assert response.status_code == 400
    text = re.sub(r"\s+", " ", response.get_data(as_text=True))
    assert "line 1: The file has 9 rows; the limit for one upload is 8." in text
    assert session.exec(select(PeopleImport)).all() == []
    assert new_people(session) == 0


def test_small_uploads_are_still_imported_at_once(client, session, org, login_as, limits):
    login_as(org.hr)

    response = upload(client, people_file(3))

    assert response.status_code == 302 and response.location == "/org/people"
    assert new_people(session) == 3
    assert session.exec(select(PeopleImport)).all() == []


def test_an_unexpected_error_fails_the_import_without_changing_anything(
    app, client, session, org, login_as, limits, monkeypatch
):
    login_as(org.hr)
    upload(client, people_file(5))

    save = services._save_people

    def save_then_fail(session, *args):
        save(session, *args)
        session.flush()  # the people are written, then the connection drops
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "_save_people", save_then_fail)
    run_imports(app)

    job = session.exec(select(PeopleImport)).one()
    session.refresh(job)
    assert job.status == "failed"
    assert job.errors == [
        [
            1,
            None,
            "The import stopped because of an unexpected error. "
            "Nothing was changed. Try again later.",
        ]
    ]
    assert new_people(session) == 0


def test_only_the_uploader_and_admins_see_an_import(client, session, org, login_as, make_user):
    job = services.queue_people_import(
        session=session, user=org.hr, filename="staff.csv", data=b"x", total_rows=5
    )
    session.commit()
    login_as(make_user("hr", org.company))
    assert client.get(f"/org/import/{job.id}").status_code == 403
    login_as(org.admin)
    assert client.get(f"/org/import/{job.id}").status_code == 200
    assert client.get("/org/import/999999").status_code == 404
