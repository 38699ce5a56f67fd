"""Kill -9 the scheduler many times while it invites people; check each is invited once.

The long form of tests/test_scheduler_live.py: each round builds a fresh database of
`--people` employees and a pulse programme due today, starts a real SMTP server, then runs
`flask scheduler` processes, killing each with SIGKILL at a random point (the first at a random
moment after start, the others once the SMTP server has accepted a random number of messages),
and finally lets one run to the end. A round passes when everyone got the invitation, and the
only repeats are the documented window: the message the server accepted just before a kill.

    .venv/bin/python benchmarks/crash_loop.py --rounds 20 --kills 5
    .venv/bin/python benchmarks/crash_loop.py --database-url postgresql://postgres@127.0.0.1:5432/crash_loop
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlmodel import Session  # noqa: E402

from tests.conftest import start_smtp_server  # noqa: E402
from tests.scheduler_live import crash_while_sending, duplicates, scheduler_env  # noqa: E402
from trainer import create_app  # noqa: E402
from trainer.auth.models import User  # noqa: E402
from trainer.db import import_all_models  # noqa: E402
from trainer.org.services import create_unit  # noqa: E402
from trainer.pulse.programmes import ensure_default_programme
from trainer.seal import write_key_pair  # noqa: E402
from trainer.util import utcnow  # noqa: E402


def prepare(url: str, folder: Path, people: int) -> dict:
    """Create the schema, keys, `people` employees and a programme due today."""
    config = {
        "DATABASE_URL": url,
        "SECRET_KEY": "crash-loop",
        "SEAL_PUBLIC_KEY_FILE": str(folder / "public.key"),
        "SEAL_PRIVATE_KEY_FILE": str(folder / "private.key"),
    }
    app = create_app(config)
    write_key_pair(app)
    engine = app.extensions["trainer.engine"]
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    import_all_models().metadata.create_all(engine)
    with app.app_context(), Session(engine) as session:
        company = create_unit(
            session=session, code="C", name="Company", kind="company", parent=None
        )
        region = create_unit(
            session=session, code="R", name="Region", kind="region", parent=company
        )
        site = create_unit(session=session, code="S", name="Site", kind="site", parent=region)
        team = create_unit(session=session, code="T", name="Team", kind="team", parent=site)
        session.add_all(
            User(email=f"p{n}@example.com", name=f"Person {n}", roles="employee", unit_id=team.id)
            for n in range(people)
        )
        ensure_default_programme(company, session=session, starts_on=utcnow().date())
        session.commit()
    engine.dispose()
    return config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="default: a fresh SQLite file per round")
    parser.add_argument("--people", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--kills", type=int, default=5, help="kill -9s per round")
    args = parser.parse_args()
    failures = repeats = 0
    for round_ in range(args.rounds):
        folder = Path(tempfile.mkdtemp(prefix="crash-loop-"))
        url = args.database_url or f"sqlite:///{folder / 'crash.sqlite3'}"
        config = prepare(url, folder, args.people)
        received: list = []
        smtp = start_smtp_server(received)
        started = time.monotonic()
        try:
            in_flight = crash_while_sending(
                scheduler_env(url, config, smtp.port),
                received,
                args.people,
                args.kills,
                folder,
                seed=round_,
            )
        finally:
            smtp.stop()
        extra = duplicates(received)
        missing = args.people - len({m["To"] for m in received})
        outside_window = set(extra) - in_flight or any(n > 1 for n in extra.values())
        repeats += sum(extra.values())
        ok = not missing and not outside_window
        failures += not ok
        print(
            f"round {round_ + 1}: {'ok' if ok else 'FAILED'}; {missing} never invited, "
            f"{sum(extra.values())} repeated (window: {len(in_flight)} in flight at a kill), "
            f"{time.monotonic() - started:.0f} s",
            flush=True,
        )
    print(
        f"{args.rounds - failures} of {args.rounds} rounds passed; {repeats} repeats in all, "
        "each the message in flight at a kill"
    )
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
