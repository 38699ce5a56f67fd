"""Work out analyses in a process of its own: `python -m trainer.insights_worker`.

A web worker runs this on the first view of a scope that nothing has stored yet (see
`insights.store._compute`), so the statistics stack is loaded here and never in the web
worker. The scopes come as a JSON list on stdin; their analyses are stored for every process
and printed on stdout as a JSON list of JSON texts. Like wsgi.py it builds the app (as the web
worker's was: instance config and TRAINER_* variables, on the database the worker names in
TRAINER_DATABASE_URL), so it sits with the wiring, above the features.
"""

import json
import sys

from trainer import create_app
from trainer.db import db_session
from trainer.insights import store


def main() -> None:
    scopes = json.load(sys.stdin)
    app = create_app()
    with app.app_context():
        session = db_session()
        parts = store.data_version(session=session)
        results = [store.compute_here(session, parts, scope) for scope in scopes]
        session.commit()
    payloads = [json.dumps({**r, "computed_at": r["computed_at"].isoformat()}) for r in results]
    sys.stdout.write(json.dumps(payloads))


if __name__ == "__main__":
    main()
