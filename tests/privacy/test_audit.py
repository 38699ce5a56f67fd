"""The audit log: administrative actions and result views are recorded, never answers."""

import csv
import io
from datetime import timedelta

import pytest
from sqlmodel import select

from tests.privacy.conftest import COMMENT, audit_entries, details
from tests.pulse.conftest import submit
from trainer import audit
from trainer.audit import AuditEntry
from trainer.outcomes.models import ApiToken
from trainer.pulse.bank import ensure_default_bank, items_by_theme
from trainer.pulse.cycles import close_cycle, open_now
from trainer.pulse.programmes import ensure_default_programme
from trainer.util import utcnow


def test_the_audit_log_refuses_answers_comments_and_long_text(session, org):
    for detail in (
        {"comment": "hello"},
        {"answers": {"1": 5}},
        {"nested": {"Comments": ["x"]}},
        {"note": "x" * 201},
        {"thing": object()},
    ):
        with pytest.raises(audit.AuditError):
            audit.record(org.hr, "person.update", org.employee, detail, session=session)
    with pytest.raises(audit.AuditError):
        audit.record(org.hr, "made.up", org.employee, session=session)
    session.rollback()
    assert audit_entries(session) == []


def test_results_views_are_logged_without_any_answer(client, login_as, session, org, make_user):
    rich = org
    people = [org.employee] + [make_user("employee", org.t1) for _ in range(5)]
    programme = ensure_default_programme(org.company, session=session, starts_on=utcnow().date())
    cycle = open_now(programme, session=session, now=utcnow())
    for person in people:
        assert submit(session, cycle, person, likert=4, comment=COMMENT)
    close_cycle(cycle, session=session, now=utcnow())
    login_as(rich.manager)
    assert client.get(f"/pulse/results/{rich.t1.id}?cycle={cycle.id}").status_code == 200
    assert client.get(f"/pulse/results/{rich.t1.id}.json?cycle={cycle.id}").status_code == 200
    assert client.get(f"/pulse/results/{rich.t3.id}?cycle={cycle.id}").status_code == 403
    login_as(rich.hr)
    assert client.get(f"/pulse/cycles/{cycle.id}/results.csv").status_code == 200
    assert client.get(f"/pulse/results?cycle={cycle.id}").status_code == 200

    views = audit_entries(session, "results.view")
    assert [(e.actor_id, e.target_label, details(e)["shown_as"]) for e in views] == [
        (rich.manager.id, "T1 (T1)", "page"),
        (rich.manager.id, "T1 (T1)", "json"),
        (rich.hr.id, "every unit they may see", "csv"),
        (rich.hr.id, "every unit they may see", "overview"),
    ]
    assert all(
        details(e)["cycle"] == cycle.id and details(e)["period"] == cycle.period for e in views
    )
    for entry in audit_entries(session):
        text = entry.model_dump_json()
        assert "secret comment" not in text and '"answers"' not in text


def test_admin_actions_are_logged(client, login_as, session, org):
    login_as(org.hr)
    client.post(
        f"/org/people/{org.employee.id}",
        data={
            "email": "employee@example.com",
            "name": "Evie",
            "unit_id": org.t1.id,
            "roles": ["employee", "manager"],
            "manager_of": [org.t1.id],
            "active": "y",
        },
    )
    entry = audit_entries(session, "person.update")[-1]
    assert entry.actor_label == "hr@example.com" and entry.target_id == org.employee.id
    assert details(entry)["roles"] == {"from": ["employee"], "to": ["employee", "manager"]}
    assert details(entry)["managed_units"] == {"from": [], "to": ["T1"]}
    assert details(entry)["name_or_email"] == "changed" and "Evie" not in entry.detail

    client.post(
        "/org/import",
        content_type="multipart/form-data",
        data={
            "file": (
                io.BytesIO(b"email,name,unit_code,roles\nann@example.com,Ann,T1,employee\n"),
                "people.csv",
            )
        },
    )
    assert details(audit_entries(session, "people.import")[-1])["created"] == 1

    ensure_default_bank(session=session)
    session.commit()
    items = [i.id for i in items_by_theme(session=session)[0][1]]
    response = client.post(
        "/pulse/programmes/new",
        data={
            "name": "Care pulse",
            "item_ids": items,
            "unit_ids": [org.s1.id],
            "recurrence": "quarterly",
            "starts_on": "2026-12-01",
            "window_days": "7",
            "reminder_days": "2",
            "budget_per_quarter": "2",
            "comment_prompt": "",
        },
    )
    assert response.status_code == 302
    created = audit_entries(session, "programme.create")[-1]
    assert created.target_label == "Care pulse" and details(created)["units"] == ["S1"]

    client.post(
        "/outcomes/tokens",
        data={
            "name": "Vendor",
            "scopes": ["outcomes:write"],
            "unit_id": "0",
            "expires_in_days": "90",
        },
    )
    token = session.exec(select(ApiToken)).one()
    client.post(f"/outcomes/tokens/{token.id}/revoke")
    assert [e.action for e in audit_entries(session) if e.target_type == "token"] == [
        "token.create",
        "token.revoke",
    ]
    assert details(audit_entries(session, "token.create")[0])["scopes"] == ["outcomes:write"]


def test_hr_filters_pages_and_downloads_the_log(client, login_as, session, org):
    now = utcnow()
    for n in range(55):
        session.add(
            AuditEntry(
                at=now - timedelta(minutes=n),
                actor_id=org.admin.id,
                actor_label="admin@example.com",
                action="token.create",
                target_type="token",
                target_id=n,
                target_label=f"token {n}",
            )
        )
    session.add(
        AuditEntry(
            at=now - timedelta(days=40),
            actor_label="command line",
            action="people.import",
            detail='{"created": 3}',
        )
    )
    session.commit()
    login_as(org.hr)
    first = client.get("/privacy/audit").get_data(as_text=True)
    assert "56 entries" in first and "Page 1 of 2" in first and "token 0<" in first
    second = client.get("/privacy/audit?page=2").get_data(as_text=True)
    assert "command line" in second and "token 0<" not in second

    imports = client.get("/privacy/audit?action=people.import").get_data(as_text=True)
    assert "1 entry" in imports and "created 3" not in imports and "created:" in imports
    by_actor = client.get("/privacy/audit?actor=COMMAND").get_data(as_text=True)
    assert "1 entry" in by_actor
    old = (now - timedelta(days=40)).date().isoformat()
    dated = client.get(f"/privacy/audit?since={old}&until={old}").get_data(as_text=True)
    assert "1 entry" in dated

    download = client.get("/privacy/audit.csv?action=token.create")
    assert download.headers["Content-Disposition"] == 'attachment; filename="audit-log.csv"'
    rows = list(csv.reader(io.StringIO(download.get_data(as_text=True))))
    assert rows[0][:3] == ["when_utc", "who", "action"] and len(rows) == 56
    assert client.get("/privacy/audit?since=yesterday").status_code == 400
    assert client.get("/privacy/audit?action=nonsense").status_code == 400
    assert client.get("/privacy/audit.csv?since=2026-13-01").status_code == 400


def test_employees_and_managers_cannot_read_the_log(client, login_as, org):
    for person in (org.employee, org.manager):
        login_as(person)
        assert client.get("/privacy/audit").status_code == 403
        assert client.get("/privacy/audit.csv").status_code == 403
        assert "Audit log" not in client.get("/").get_data(as_text=True)
    login_as(org.admin)
    assert "Audit log" in client.get("/").get_data(as_text=True)
