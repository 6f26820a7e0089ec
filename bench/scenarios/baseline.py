"""The limit beside the figure: the database's own rate of single-row INSERT + COMMIT.

Measured through the driver the app uses (sqlite3 with the app's PRAGMAs: WAL, synchronous=NORMAL,
busy_timeout; psycopg on PostgreSQL) into a scratch table of the run's database, one connection,
one row per transaction. Ingest stores a message per transaction or more, so its end-to-end rate
printed as a fraction of this says how much of the database's capacity the app uses."""

from __future__ import annotations

import sqlite3
import time

from bench.core import Context, Figure

SCRATCH = "bench_scratch"


def _sqlite_rate(path: str, seconds: float) -> tuple[float, int]:
    db = sqlite3.connect(path, isolation_level=None, timeout=20)
    for pragma in ("journal_mode=WAL", "busy_timeout=20000", "synchronous=NORMAL"):
        db.execute(f"PRAGMA {pragma}")
    db.execute(f"DROP TABLE IF EXISTS {SCRATCH}")
    db.execute(f"CREATE TABLE {SCRATCH} (id INTEGER PRIMARY KEY, body TEXT, at TEXT)")
    n = 0
    started = time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        for _ in range(50):
            db.execute("BEGIN IMMEDIATE")
            db.execute(
                f"INSERT INTO {SCRATCH} (body, at) VALUES (?, ?)",
                ("Hola, quisiera saber el estado de mi póliza", "2026-11-23 18:00:00"),
            )
            db.execute("COMMIT")
            n += 1
    elapsed = time.perf_counter() - started
    db.execute(f"DROP TABLE {SCRATCH}")
    db.close()
    return n / elapsed, n


def _pg_rate(dsn: str, seconds: float) -> tuple[float, int]:
    import psycopg

    with psycopg.connect(dsn) as db:
        db.execute(f"DROP TABLE IF EXISTS {SCRATCH}")
        db.execute(f"CREATE TABLE {SCRATCH} (id bigserial PRIMARY KEY, body text, at timestamptz)")
        db.commit()
        n = 0
        started = time.perf_counter()
        deadline = started + seconds
        while time.perf_counter() < deadline:
            for _ in range(50):
                db.execute(
                    f"INSERT INTO {SCRATCH} (body, at) VALUES (%s, now())",
                    ("Hola, quisiera saber el estado de mi póliza",),
                )
                db.commit()
                n += 1
        elapsed = time.perf_counter() - started
        db.execute(f"DROP TABLE {SCRATCH}")
        db.commit()
    return n / elapsed, n


def run(ctx: Context) -> list[Figure]:
    """One figure without target: rows/s committed one at a time."""
    seconds = 1.0 if ctx.smoke else 5.0
    if ctx.db == "pg":
        rate, n = _pg_rate(ctx.env["DATABASE_URL"], seconds)
        how = "psycopg, una fila por COMMIT"
    else:
        rate, n = _sqlite_rate(str(ctx.data_dir / "atiende.sqlite3"), seconds)
        how = "sqlite3 (WAL, synchronous=NORMAL), una fila por COMMIT"
    ctx.state["baseline"] = {"insert_per_s": rate}
    return [Figure("baseline", "insert_commit", rate, "filas/s", note=f"{how}; {n:,} filas")]
