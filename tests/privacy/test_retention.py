"""The retention schedule: a scheduler job deletes what is older than configured, and only that."""

from datetime import timedelta

from sqlmodel import Session, func, select

from tests.privacy.conftest import audit_entries, details
from tests.pulse.conftest import submit
from trainer.audit import AuditEntry
from trainer.auth.models import LoginThrottle, User
from trainer.privacy import services
from trainer.pulse.cycles import close_cycle, open_now
from trainer.pulse.models import PulseInvitation, SurveyParticipation
from trainer.pulse.programmes import ensure_default_programme
from trainer.scheduler import jobs
from trainer.util import utcnow


def run_retention(app, now) -> dict[str, int]:
    job = next(j for j in jobs(app) if j.name == "privacy-retention")
    with app.app_context(), Session(app.extensions["trainer.engine"]) as session:
        done = job.func(session=session, now=now)
        session.commit()
    return done


def _count(session, model) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(model)).one()


def test_invitations_and_participation_go_after_their_cycle(app, session, org):
    now = utcnow()
    programme = ensure_default_programme(org.company, session=session, starts_on=now.date())
    cycle = open_now(programme, session=session, now=now)
    assert submit(session, cycle, org.employee)
    invited = _count(session, PulseInvitation)
    assert invited >= 1 and _count(session, SurveyParticipation) == 1

    run_retention(app, cycle.closes_at + timedelta(days=6))
    assert _count(session, SurveyParticipation) == 1  # window ended 6 days ago: kept
    run_retention(app, cycle.closes_at + timedelta(days=8))
    assert _count(session, SurveyParticipation) == 0  # a cycle left open is caught too
    assert _count(session, PulseInvitation) == invited  # the cycle is not closed yet

    close_cycle(cycle, session=session, now=cycle.closes_at)
    run_retention(app, cycle.closes_at + timedelta(days=89))
    assert _count(session, PulseInvitation) == invited
    done = run_retention(app, cycle.closes_at + timedelta(days=91))
    assert _count(session, PulseInvitation) == 0
    assert done["RETENTION_INVITATIONS_DAYS"] == invited
    entry = audit_entries(session, "retention.purge")[-1]
    assert entry.actor_label == "retention schedule"
    assert details(entry) == {"RETENTION_INVITATIONS_DAYS": invited}


def test_sign_in_throttle_rows_go_once_old_and_unlocked(app, session, org):
    now = utcnow()
    session.add_all(
        [
            LoginThrottle(email="old@example.com", failures=2, last_failure_at=now - timedelta(40)),
            LoginThrottle(
                email="recent@example.com", failures=2, last_failure_at=now - timedelta(1)
            ),
            LoginThrottle(
                email="locked@example.com",
                failures=5,
                last_failure_at=now - timedelta(40),
                locked_until=now + timedelta(minutes=10),
            ),
            LoginThrottle(email="legacy@example.com", failures=1),
        ]
    )
    session.commit()
    run_retention(app, now)
    session.expire_all()
    assert sorted(session.exec(select(LoginThrottle.email)).all()) == [
        "locked@example.com",
        "recent@example.com",
    ]


def test_audit_entries_go_after_two_years(app, session, org):
    now = utcnow()
    session.add_all(
        [
            AuditEntry(at=now - timedelta(days=731), actor_label="x", action="people.import"),
            AuditEntry(at=now - timedelta(days=729), actor_label="y", action="people.import"),
        ]
    )
    session.commit()
    run_retention(app, now)
    assert [e.actor_label for e in audit_entries(session, "people.import")] == ["y"]
    assert details(audit_entries(session, "retention.purge")[-1]) == {"RETENTION_AUDIT_DAYS": 1}


def test_people_inactive_for_a_year_are_erased(app, session, org, make_user):
    leaver = make_user("employee", org.t1, email="leaver@example.com")
    back = make_user("employee", org.t1, email="back@example.com")
    for person in (leaver, back):
        person.active = False
        session.add(person)
    session.commit()
    start = utcnow() + timedelta(days=1)
    run_retention(app, start)  # first seen inactive now
    session.expire_all()
    assert session.get(User, leaver.id).inactive_since is not None
    back = session.get(User, back.id)
    back.active = True
    session.add(back)
    session.commit()

    run_retention(app, start + timedelta(days=364))
    session.expire_all()
    assert session.get(User, leaver.id).erased_at is None
    assert session.get(User, back.id).inactive_since is None
    run_retention(app, start + timedelta(days=366))
    session.expire_all()
    erased = session.get(User, leaver.id)
    assert erased.erased_at is not None and erased.email.endswith("@erased.invalid")
    assert session.get(User, back.id).erased_at is None
    assert session.get(User, org.employee.id).erased_at is None  # active people stay
    entry = audit_entries(session, "person.erase")[-1]
    assert (entry.target_id, entry.actor_label) == (leaver.id, "retention schedule")


def test_features_add_rules_and_none_switches_a_rule_off(app, session, org):
    calls = []

    def purge(*, session, cutoff, now):
        calls.append(now - cutoff)
        return 0

    services.add_retention_rule(app, "RETENTION_SAMPLE_DAYS", purge)
    app.config["RETENTION_SAMPLE_DAYS"] = 10
    app.config["RETENTION_AUDIT_DAYS"] = None
    old = AuditEntry(at=utcnow() - timedelta(days=5000), actor_label="x", action="people.import")
    session.add(old)
    session.commit()
    done = run_retention(app, utcnow())
    assert calls == [timedelta(days=10)] and "RETENTION_AUDIT_DAYS" not in done
    assert len(audit_entries(session, "people.import")) == 1
