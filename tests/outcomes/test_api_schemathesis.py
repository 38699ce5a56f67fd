"""Schemathesis walks /api/v1/openapi.json against the app in-process: no response is a 5xx,
and every response (errors included) matches the document.

The operations are driven through schemathesis' Python API with Hypothesis rather than its
pytest integration (`schemathesis.pytest.from_fixture`), which reads a private pytest attribute
that pytest 9 no longer has.
"""

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance

from trainer.outcomes.tokens import create_token

# Schemathesis cases are slower than the plain fuzz tests' (tests/test_fuzz.py): a quarter as
# many, 50 per operation in the fast suite and 500 with TRAINER_FUZZ_EXAMPLES=2000.
EXAMPLES = int(os.environ.get("TRAINER_FUZZ_EXAMPLES", "200")) // 4
OPERATIONS = [
    ("POST", "/api/v1/outcomes"),
    ("GET", "/api/v1/outcomes"),
    ("GET", "/api/v1/metrics"),
    ("GET", "/api/v1/openapi.json"),
    ("GET", "/api/v1/fixes"),
]


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_api_matches_its_openapi_document(app, session, org, method, path):
    _token, secret = create_token(
        session=session,
        name="Schemathesis",
        scopes=["outcomes:write", "outcomes:read", "fixes:read"],
        created_by=org.hr,
    )
    session.commit()
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operation = schema[path][method]
    # Schemathesis asks for gzip like a browser does, but its in-process (WSGI) transport does not
    # unpack it; compression itself is tested in tests/test_http_cache.py.
    auth = {"Authorization": f"Bearer {secret}", "Accept-Encoding": "identity"}

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.filter_too_much,
        ],
    )
    @given(operation.as_strategy())
    def run(case):
        # Schema-valid is not enough to be accepted: the unit code, metric and period must
        # exist, and the document cannot say which do. Every other built-in check runs.
        case.call_and_validate(headers=auth, excluded_checks=[positive_data_acceptance])

    run()
