"""The benchmarks' floor app (benchmarks/floor/app.py) does what its ratios assume."""

import importlib.util
import sqlite3
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def floor(tmp_path):
    spec = importlib.util.spec_from_file_location(
        "floor_app", ROOT / "benchmarks" / "floor" / "app.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    url = f"sqlite:///{tmp_path / 'floor.sqlite3'}"
    module.setup(url, rows=100)
    module.app.config["DATABASE_URL"] = url
    return module.app.test_client(), tmp_path / "floor.sqlite3"


def test_hello(floor):
    client, _ = floor
    assert client.get("/hello").status_code == 200


def test_insert_commits_one_row_in_wal_mode(floor):
    client, path = floor
    assert client.post("/insert", data={"score": "4", "comment": "ok"}).status_code == 204
    assert client.post("/insert", data={}).status_code == 400
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT score, comment FROM floor_write").fetchall() == [(4, "ok")]
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_read_finds_a_row_by_its_indexed_key(floor):
    client, path = floor
    response = client.get("/read?key=42")
    assert response.status_code == 200 and b"U000042" in response.data
    assert client.get("/read?key=100").status_code == 404
    with sqlite3.connect(path) as conn:
        plan = conn.execute(
            "EXPLAIN QUERY PLAN SELECT * FROM floor_rollup "
            "WHERE unit_key = 'U000042' AND period = '2026Q3'"
        ).fetchall()
    assert "floor_rollup_key" in str(plan)
