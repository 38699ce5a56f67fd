"""Work out one analysis in a process of its own: `python -m trainer.insights.compute`.

A web worker runs this on the first view of a scope that nothing has stored yet (see
`store._compute`), so the statistics stack is loaded here and never in the web worker. The
scope comes as JSON on stdin; the analysis is stored for every process and printed on stdout.
The app is built as the web worker's was (instance config and TRAINER_* variables), on the
database the worker names in TRAINER_DATABASE_URL.
"""

import json
import sys

from trainer.db import db_session
from trainer.insights import store


def main() -> None:
    from trainer import create_app  # the app factory sits above the feature packages

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
