"""A person with something stored in every feature, and the audit log read back."""

import json
from types import SimpleNamespace

import pytest
from sqlmodel import select

from tests.access_samples import _pulse, _scenario
from tests.learn.learn_factory import sample
from tests.pulse.conftest import submit
from trainer.audit import AuditEntry
from trainer.pulse.models import PulseCycle

COMMENT = "The night manager shouts at us (a secret comment)"


@pytest.fixture
def rich(session, org):
    """The org, where the employee has a course attempt and certificate, a scenario play, a
    practice item, and answered an open pulse cycle with a comment."""
    ctx = SimpleNamespace(session=session, org=org, cache={})
    org.cert_code = sample(ctx, "cert_code")
    org.play_id = _scenario(ctx)["play_id"]
    org.cycle = session.get(PulseCycle, _pulse(ctx)["cycle_id"])
    assert submit(session, org.cycle, org.employee, likert=2, comment=COMMENT)
    session.commit()
    return org


def audit_entries(session, action=None) -> list[AuditEntry]:
    session.expire_all()
    query = select(AuditEntry).order_by(AuditEntry.id)
    if action:
        query = query.where(AuditEntry.action == action)
    return list(session.exec(query).all())


def details(entry: AuditEntry) -> dict:
    return json.loads(entry.detail)
