"""The floor: a bare Flask app doing the least each kind of trainer request must do.

- `GET /hello`: a small HTML page, no database.
- `POST /insert`: one row into a table, committed (SQLite: WAL, synchronous=NORMAL, BEGIN
  IMMEDIATE, as trainer.db sets it up; PostgreSQL: psycopg, one connection per thread).
- `GET /read?key=K`: one row read by an indexed key from a table of `FLOOR_ROWS` rows.

`FLOOR_DATABASE_URL` picks the database: `sqlite:////path/floor.sqlite3` or
`postgresql://...`. `python benchmarks/floor/app.py --setup` (or `setup()`) creates and fills
the tables; the web process only reads and writes them. Serve it with
`gunicorn --chdir benchmarks/floor app:app`.
"""

import os
import random
import sqlite3
import threading

from flask import Flask, abort, request

ROWS = int(os.environ.get("FLOOR_ROWS", "100000"))
_local = threading.local()
app = Flask(__name__)
app.config["DATABASE_URL"] = os.environ.get(
    "FLOOR_DATABASE_URL", "sqlite:////tmp/trainer-bench/floor.sqlite3"
)


def connect(url: str):
    """Return this thread's connection to `url`, opening it on first use."""
    if getattr(_local, "url", None) != url:
        _local.url = url
        if url.startswith("sqlite"):
            conn = sqlite3.connect(
                url.removeprefix("sqlite:///"),
                timeout=30,
                isolation_level=None,
                check_same_thread=False,
            )
            for pragma in ("journal_mode=WAL", "busy_timeout=10000", "synchronous=NORMAL"):
                conn.execute(f"PRAGMA {pragma}")
        else:
            import psycopg

            conn = psycopg.connect(url)
        _local.conn = conn
    return _local.conn


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def sql(statement: str, url: str) -> str:
    """Return `statement` with psycopg's %s placeholders where it is written with ?."""
    return statement if is_sqlite(url) else statement.replace("?", "%s")


def setup(url: str, rows: int = ROWS) -> None:
    """Create the floor tables afresh: `floor_write` empty, `floor_rollup` with `rows` rows."""
    conn = connect(url)
    statements = [
        "DROP TABLE IF EXISTS floor_write",
        "DROP TABLE IF EXISTS floor_rollup",
        "CREATE TABLE floor_write (id INTEGER PRIMARY KEY"
        + ("" if is_sqlite(url) else " GENERATED ALWAYS AS IDENTITY")
        + ", unit_id INTEGER NOT NULL, score INTEGER NOT NULL, comment TEXT NOT NULL)",
        "CREATE TABLE floor_rollup (id INTEGER PRIMARY KEY, unit_key TEXT NOT NULL, "
        "period TEXT NOT NULL, n INTEGER NOT NULL, mean REAL NOT NULL)",
    ]
    rng = random.Random(1)
    data = [
        (i, f"U{i:06d}", f"2026Q{1 + i % 4}", rng.randint(5, 50), rng.uniform(1, 5))
        for i in range(rows)
    ]
    insert = sql("INSERT INTO floor_rollup VALUES (?, ?, ?, ?, ?)", url)
    if is_sqlite(url):
        conn.execute("BEGIN")
        for statement in statements:
            conn.execute(statement)
        conn.executemany(insert, data)
        conn.execute("CREATE UNIQUE INDEX floor_rollup_key ON floor_rollup (unit_key, period)")
        conn.execute("COMMIT")
    else:
        with conn.transaction(), conn.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
            cursor.executemany(insert, data)
            cursor.execute(
                "CREATE UNIQUE INDEX floor_rollup_key ON floor_rollup (unit_key, period)"
            )
        conn.execute("ANALYZE floor_rollup")
        conn.commit()
    conn.close()
    _local.url = None


@app.get("/hello")
def hello():
    return "<!doctype html><title>hello</title><p>Hello</p>"


@app.post("/insert")
def insert():
    score = request.form.get("score", type=int)
    if score is None:
        abort(400)
    url = app.config["DATABASE_URL"]
    conn = connect(url)
    if is_sqlite(url):
        conn.execute("BEGIN IMMEDIATE")
    conn.execute(
        sql("INSERT INTO floor_write (unit_id, score, comment) VALUES (?, ?, ?)", url),
        (score % 100, score, request.form.get("comment", "")),
    )
    if is_sqlite(url):
        conn.execute("COMMIT")
    else:
        conn.commit()
    return "", 204


@app.get("/read")
def read():
    key = request.args.get("key", type=int)
    if key is None:
        abort(400)
    url = app.config["DATABASE_URL"]
    conn = connect(url)
    row = conn.execute(
        sql(
            "SELECT unit_key, period, n, mean FROM floor_rollup WHERE unit_key = ? AND period = ?",
            url,
        ),
        (f"U{key:06d}", f"2026Q{1 + key % 4}"),
    ).fetchone()
    if not is_sqlite(url):
        conn.rollback()  # end the read transaction psycopg opened
    if row is None:
        abort(404)
    unit_key, period, n, mean = row
    return f"<!doctype html><title>{unit_key}</title><p>{period}: {mean:.2f} (n = {n})</p>"


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["--setup"]:
        setup(app.config["DATABASE_URL"])
    else:
        raise SystemExit("usage: python benchmarks/floor/app.py --setup")
