"""Sample URL arguments for the route-by-role test.

Each entry maps a URL variable name to a function of the test context that returns a value
inside the manager's scope. OUT_OF_SCOPE gives values outside it, for the scope check. A feature
that adds a URL variable adds it here; the matrix test fails on a variable it cannot fill.
"""


def _unit_in_scope(ctx):
    return ctx.org.t1.id


SAMPLES = {
    "unit_id": _unit_in_scope,
    "user_id": lambda ctx: ctx.org.employee.id,
    "token": lambda ctx: "not-a-valid-token",
    "filename": lambda ctx: "css/app.css",
}

OUT_OF_SCOPE = {
    "unit_id": lambda ctx: ctx.org.t3.id,
}
