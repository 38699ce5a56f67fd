"""The sealing keys: generate, rotate, and who may hold the private key."""

import pytest
import sqlalchemy as sa

from tests.pulse.conftest import submit
from trainer import create_app, seal
from trainer.audit import AuditEntry
from trainer.pulse.cycles import close_cycle
from trainer.pulse.models import ResponsePool, SurveyResponse


@pytest.fixture
def own_keys(app, tmp_path):
    """Point the app at key files of its own, not yet written."""
    app.config.update(
        SEAL_PUBLIC_KEY_FILE=str(tmp_path / "public.key"),
        SEAL_PRIVATE_KEY_FILE=str(tmp_path / "private.key"),
    )
    return tmp_path


def test_generate_writes_a_private_key_only_its_owner_can_read(app, runner, own_keys):
    result = runner.invoke(args=["seal", "generate"])
    assert result.exit_code == 0, result.output
    assert oct((own_keys / "private.key").stat().st_mode)[-3:] == "600"
    assert oct((own_keys / "public.key").stat().st_mode)[-3:] == "644"
    again = runner.invoke(args=["seal", "generate"])
    assert again.exit_code != 0 and "seal rotate" in again.output
    assert runner.invoke(args=["seal", "generate", "--if-missing"]).exit_code == 0


def test_rotation_reseals_waiting_answers_and_is_audited(
    app, runner, session, staffed, start_cycle, own_keys
):
    runner.invoke(args=["seal", "generate"])
    cycle = start_cycle(staffed)
    people = staffed.people["t1"] + staffed.people["t2"]
    for person in people[:12]:
        submit(session, cycle, person, comment=f"c{person.id}")
    before = set(session.execute(sa.select(ResponsePool.sealed)).scalars())
    old_private = (own_keys / "private.key").read_text().split()

    result = runner.invoke(args=["seal", "rotate"])
    assert result.exit_code == 0, result.output
    assert "12 waiting answers resealed" in result.output
    keys = (own_keys / "private.key").read_text().split()
    assert len(keys) == 2 and keys[1] == old_private[0] and keys[0] != old_private[0]
    session.expire_all()
    assert not before & set(session.execute(sa.select(ResponsePool.sealed)).scalars())
    new_only = seal.Opener(seal.read_private_keys(app)[:1])
    for sealed in session.execute(sa.select(ResponsePool.sealed)).scalars():
        assert new_only.open(sealed)  # the new key alone opens every waiting answer
    for person in people[12:20]:
        submit(session, cycle, person, comment=f"c{person.id}")
    with app.app_context():
        close_cycle(cycle, session=session, now=cycle.closes_at)
    assert session.execute(sa.select(sa.func.count()).select_from(SurveyResponse)).scalar() == 20
    entry = session.execute(
        sa.select(AuditEntry).where(AuditEntry.action == "keys.rotate")
    ).scalar_one()
    assert '"resealed": 12' in entry.detail


def test_the_scheduler_refuses_to_start_without_the_private_key(app, runner, own_keys):
    result = runner.invoke(args=["scheduler", "--once"])
    assert result.exit_code != 0 and "private key" in result.output


def _production_app(database_url, public, private):
    return create_app(
        {
            "PRODUCTION": True,
            "SECRET_KEY": "a-real-secret",
            "DATABASE_URL": database_url,
            "BASE_URL": "https://trainer.example",
            "SEAL_PUBLIC_KEY_FILE": str(public),
            "SEAL_PRIVATE_KEY_FILE": str(private),
        }
    )


def test_a_production_web_process_refuses_to_start_if_it_can_read_the_private_key(
    database_url, seal_keys, tmp_path, monkeypatch
):
    public, private = seal_keys
    web = _production_app(database_url, public, private)
    with pytest.raises(RuntimeError, match="can read the private key"):
        seal.check_web_process(web)
    web = _production_app(database_url, public, tmp_path / "elsewhere.key")
    seal.check_web_process(web)  # the scheduler's key is out of its reach: it starts
    monkeypatch.setenv(seal.PRIVATE_KEY_ENV, private.read_text())
    with pytest.raises(RuntimeError, match="can read the private key"):
        seal.check_web_process(web)
    monkeypatch.delenv(seal.PRIVATE_KEY_ENV)
    web = _production_app(database_url, tmp_path / "missing-public.key", tmp_path / "x.key")
    with pytest.raises(seal.SealError, match="No public key"):
        seal.check_web_process(web)
