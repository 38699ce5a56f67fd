"""The one CSV writer guards every download against formula injection."""

import csv
import io

import pytest
from sqlmodel import select

from tests.access_samples import SAMPLES, Ctx, sign_in, url_of
from tests.csv_checks import EVIL, cells, guarded_rows
from trainer import csvdownload
from trainer.audit import AuditEntry
from trainer.csvdownload import download
from trainer.csvfile import guard_cell
from trainer.org.models import OrgUnit
from trainer.pulse.cycles import close_cycle
from trainer.pulse.models import PulseCycle
from trainer.util import utcnow


@pytest.mark.parametrize(
    "text", [EVIL, "+1+1", "-2+3", "@SUM(A1:A2)", "\tcmd", "\rcmd", "-", "=1", "-cmd|' /C calc'!A0"]
)
def test_text_a_spreadsheet_would_run_is_prefixed_with_a_quote(text):
    assert guard_cell(text) == "'" + text


@pytest.mark.parametrize(
    "value",
    [-3, -2.5, 0, "-3.5", "-12", "+4", "-1e-05", ".5", "T1", "a=b", "", None, "'=already quoted"],
)
def test_numbers_and_ordinary_text_are_left_alone(value):
    assert guard_cell(value) == value


def test_download_guards_every_cell_and_keeps_negative_numbers(app):
    with app.test_request_context():
        response = download("units.csv", [["unit_name", "score"], [EVIL, -0.25], ["@x", "-7"]])

    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="units.csv"'
    assert list(csv.reader(io.StringIO(response.get_data(as_text=True)))) == [
        ["unit_name", "score"],
        ["'" + EVIL, "-0.25"],
        ["'@x", "-7"],
    ]


def _closed_cycle(ctx):
    cycle_id = SAMPLES["cycle_id"](ctx)
    cycle = ctx.session.get(PulseCycle, cycle_id)
    if cycle.status != "closed":
        close_cycle(cycle, session=ctx.session, now=utcnow())
        ctx.session.commit()
    return cycle_id


def _is_csv(response) -> bool:
    return response.mimetype == "text/csv" or ".csv" in response.headers.get(
        "Content-Disposition", ""
    )


def test_every_csv_export_goes_through_the_guarded_writer(app, client, session, org, monkeypatch):
    """Request every page as a role that may see it, with formulas planted in unit names and
    the audit log: each CSV that comes back must be made by `csvdownload.download`."""
    for unit in session.exec(select(OrgUnit)).all():
        unit.name = f"{EVIL} {unit.code}"
    session.add(AuditEntry(actor_label=EVIL, action="person.update", target_label=EVIL))
    session.commit()
    made = []

    def recording_download(filename, rows):
        made.append(download(filename, rows))
        return made[-1]

    monkeypatch.setattr(csvdownload, "download", recording_download)
    ctx = Ctx(app, session, org)
    samples = dict(SAMPLES, cycle_id=_closed_cycle)  # results are exported once a cycle closes
    exports = {}
    for rule in app.url_map.iter_rules():
        access = getattr(app.view_functions[rule.endpoint], "access", None)
        if "GET" not in rule.methods or access is None or access.api_token:
            continue
        user = next(
            (
                org.user(role)
                for role in ("admin", "hr", "manager", "employee")
                if access.permits(org.user(role))
            ),
            None,
        )
        sign_in(client, user)
        url = url_of(app, ctx, rule.endpoint, rule.rule, samples)
        before = len(made)
        response = client.get(url)
        if _is_csv(response):
            assert len(made) == before + 1 and made[-1].get_data() == response.get_data(), (
                f"{url} sends CSV past csvdownload.download"
            )
            exports[rule.rule] = guarded_rows(response)
        elif rule.rule.endswith(".csv"):
            pytest.fail(f"{url} sent no CSV file ({response.status_code}): fix the sample")

    assert "'" + EVIL in cells(exports["/privacy/audit.csv"])
