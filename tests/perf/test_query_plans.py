"""Every statement a hot page runs finds its rows through an index, on SQLite and PostgreSQL.

A full scan of a table that grows with headcount or answers makes the page slower with every
person and every survey; the issue's team results page spent 45% of its time in one.
"""

import re

import sqlalchemy as sa

from tests.perf.conftest import Statement
from trainer.db import import_all_models

# Tables whose size does not grow with headcount or answers; scanning them is fine.
SCANNABLE = {
    "org_unit": "one row per unit; the whole tree is read to check scopes",
    "managed_unit": "one row per managed unit, not per person",
    "course": "one row per course in courses/",
    "course_version": "one row per content change of a course",
    "course_assignment": "a handful per HR assignment, not per person",
    "scenario": "one row per scenario file",
    "scenario_version": "one row per content change of a scenario",
    "scenario_reserve": "one row per scheduled reserve drill",
    "pulse_item": "the question bank",
    "pulse_programme": "one row per survey programme",
    "pulse_programme_item": "a programme's questions",
    "pulse_programme_unit": "a programme's audience units",
    "pulse_cycle": "one row per programme and quarter",
    "pulse_cycle_item": "a cycle's questions",
    "pulse_reminder": "one row per reminder sent for a cycle",
    "fix_problem_type": "the problem list per kind of unit",
    "fix_settings": "one row per unit",
    "outcome_metric": "the metric definitions",
    "scheduler_lock": "one row",
    "api_token": "a few per integration",
    "scheduler_job_run": "one row per scheduler job",
    # Rollups hold one row per unit and quarter (and measure): they grow with the tree and
    # the calendar, not with people or answers. Insights fingerprints them whole per request.
    "training_rollup": "one row per unit, quarter and measure",
    "fix_rollup": "one row per unit and quarter",
    "customer_focus_rating": "one row per unit and quarter",
    "pulse_rollup_unit": "one row per unit and cycle",
    "pulse_rollup_item": "one row per unit, cycle and question",
    "outcome": "one row per unit, quarter and metric; insights fingerprints it whole",
}
STATEMENTS = ("SELECT", "WITH", "UPDATE", "DELETE", "INSERT")


def _tables():
    return {t.name for t in import_all_models().metadata.sorted_tables}


def _aliases(sql: str) -> dict[str, str]:
    """Map each `table AS alias` in the statement back to its table."""
    return {alias: table for table, alias in re.findall(r'"?(\w+)"? AS "?(\w+)"?', sql)}


def plan_lines(conn, sql: str, parameters) -> list[str]:
    """Explain a statement; on PostgreSQL, as if a sequential scan cost more than any index."""
    if conn.dialect.name == "sqlite":
        return [
            row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", parameters or ())
        ]
    conn.exec_driver_sql("SET LOCAL enable_seqscan = off")  # ask "is there an index", not
    return conn.exec_driver_sql(f"EXPLAIN {sql}", parameters or {}).scalars().all()  # "cheapest"


def scanned_tables(conn, sql: str, parameters) -> set[str]:
    """Return the tables a statement reads whole.

    SQLite: a plain SCAN, or an index it builds on the fly; PostgreSQL: a Seq Scan.
    """
    if conn.dialect.name == "postgresql":
        return {
            match[1]
            for line in plan_lines(conn, sql, parameters)
            if (match := re.search(r"Seq Scan on (\w+)", line))
        }
    aliases, scanned = _aliases(sql), set()
    for detail in plan_lines(conn, sql, parameters):
        if match := re.match(r"SCAN (\w+)$", detail) or re.match(
            r"(?:SCAN|SEARCH) (\w+) USING AUTOMATIC", detail
        ):
            scanned.add(aliases.get(match[1], match[1]))
    return scanned


def full_scans(engine: sa.Engine, statements) -> list[str]:
    """Explain each statement; return a line per growing table that one of them scans."""
    growing = _tables() - SCANNABLE.keys()
    problems = []
    for statement in statements:
        if not statement.sql.lstrip().upper().startswith(STATEMENTS):
            continue
        with engine.connect() as conn:
            scanned = scanned_tables(conn, statement.sql, statement.parameters) & growing
            conn.rollback()
        problems += [f"{table}: {statement.sql}" for table in sorted(scanned)]
    return problems


def test_the_allowlist_names_real_tables():
    assert SCANNABLE.keys() <= _tables()


def test_scan_detection_sees_a_full_scan_and_an_index(app):
    engine = app.extensions["trainer.engine"]
    scan = "SELECT id FROM survey_response WHERE answers = 'x'"  # no index on answers
    lookup = "SELECT id FROM user_account WHERE id = 1"
    assert full_scans(engine, [Statement(scan, None)]) == [f"survey_response: {scan}"]
    assert full_scans(engine, [Statement(lookup, None)]) == []


def test_hot_pages_use_indexes(demo_site):
    problems = set()
    for page in demo_site.pages():
        problems |= {
            f"{page.name}: {scan}" for scan in full_scans(demo_site.engine, demo_site.load(page))
        }
    assert not problems, "full scans of growing tables:\n" + "\n".join(sorted(problems))


def test_a_units_comments_are_read_through_their_partial_index(demo_site):
    """The issue's hot spot: comments come from an index of commented answers, not the cycle."""
    site_results = next(p for p in demo_site.pages() if p.name == "site results")
    comments = [s for s in demo_site.load(site_results) if "survey_response.comment" in s.sql]
    assert len(comments) == 1
    with demo_site.engine.connect() as conn:
        plan = plan_lines(conn, comments[0].sql, comments[0].parameters)
    assert any("ix_survey_response_comments" in line for line in plan), plan
