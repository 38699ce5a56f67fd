"""Builders for the outcomes tests: CSV files, stored-state snapshots and API tokens."""

import pytest
from sqlmodel import select

from trainer.outcomes.imports import import_csv
from trainer.outcomes.models import Outcome, OutcomeImport
from trainer.outcomes.tokens import create_token

HEADER = "unit_code,period,metric,value,n"


@pytest.fixture
def csv_text():
    """Join a header and rows into CSV text (lines may be strings or lists)."""

    def build(*rows, header=HEADER, sep=","):
        lines = [
            header,
            *(sep.join(map(str, r)) if isinstance(r, list | tuple) else r for r in rows),
        ]
        return "\n".join(lines) + "\n"

    return build


@pytest.fixture
def stored(session):
    """Return every stored outcome as comparable tuples, plus the number of import records."""

    def snapshot():
        session.expire_all()
        rows = session.exec(select(Outcome).order_by(Outcome.id)).all()
        imports = len(session.exec(select(OutcomeImport)).all())
        return [
            (o.unit_id, o.period, o.metric, o.value, o.n, o.topbox, o.responses, o.invited)
            for o in rows
        ], imports

    return snapshot


@pytest.fixture
def import_text(session):
    """Run the CSV import as a CLI would (commit when good, roll back otherwise)."""

    def run(text, **kwargs):
        report = import_csv(
            session=session, data=text.encode("utf-8"), channel="test", actor="tests", **kwargs
        )
        if report.ok and not report.dry_run:
            session.commit()
        else:
            session.rollback()
        return report

    return run


@pytest.fixture
def make_token(session, org):
    """Create an API token and return its secret."""

    def build(
        scopes=("outcomes:write", "outcomes:read"), unit=None, name="Vendor", expires_in_days=None
    ):
        token, secret = create_token(
            session=session,
            name=name,
            scopes=list(scopes),
            created_by=org.hr,
            unit_id=unit.id if unit else None,
            expires_in_days=expires_in_days,
        )
        session.commit()
        return secret

    return build
