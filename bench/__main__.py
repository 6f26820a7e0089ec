"""`python -m bench [--scale smoke|small|large] [--db sqlite|pg] [--only a,b] [--out bench/results]`

Prepares a database with the scale's dataset (generated once per scale and seed, then copied for
each run so every run starts from the same rows), starts Atiende the way an operator would
(bench.server), runs the scenarios in order, stops the servers, prints the Markdown table and
writes `<out>/<date>-<scale>-<db>.json`. Exit status 1 when a scenario failed to run (a missed
target is a result, not a failure).
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import shutil
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from bench.core import SCALES, Context, Figure, machine

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ("baseline", "search", "lists", "ingest", "realtime", "outbound", "resources")
PG_SERVER = "postgres://postgres@127.0.0.1:5432"
PG_DB = "atiende_bench"
REDIS_URL = "redis://127.0.0.1:6379/14"
CACHE_DIR = Path(os.environ.get("ATIENDE_BENCH_CACHE", "/tmp/bench-cache"))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=(*SCALES, "medium"), default="small")
    parser.add_argument("--db", choices=("sqlite", "pg"), default="sqlite")
    parser.add_argument("--only", default="", help="escenarios separados por comas")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"))
    parser.add_argument("--seed", type=int, default=Context.__dataclass_fields__["seed"].default)
    parser.add_argument(
        "--data-dir", default="", help="ATIENDE_DATA_DIR de la corrida (por defecto /tmp/bench-…)"
    )
    parser.add_argument(
        "--fresh", action="store_true", help="regenerar los datos aunque haya una copia guardada"
    )
    args = parser.parse_args(argv)
    args.only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(args.only) - set(SCENARIOS)
    if unknown:
        parser.error(f"escenarios desconocidos: {', '.join(sorted(unknown))}")
    return args


def build_context(args: argparse.Namespace) -> Context:
    """A fresh data directory and the environment every process of the run gets."""
    data_dir = Path(args.data_dir or f"/tmp/bench-{args.scale}-{args.db}")
    if data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True)
    env = {
        "ATIENDE_DATA_DIR": str(data_dir),
        "DJANGO_SETTINGS_MODULE": "atiende.settings",
        "ATIENDE_BENCH": "1",
        "ATIENDE_PHONE_REGION": "PY",
        "ATIENDE_JOBS_IMMEDIATE": "0",
    }
    if args.db == "pg":
        env["DATABASE_URL"] = f"{PG_SERVER}/{PG_DB}"
        env["REDIS_URL"] = REDIS_URL
        env["ATIENDE_REDIS_PREFIX"] = "atiende-bench"
    return Context(scale=args.scale, db=args.db, data_dir=data_dir, env=env, seed=args.seed)


# --- the dataset --------------------------------------------------------------------------


def _dataset_key(ctx: Context) -> str:
    from bench import data

    return f"{ctx.scale}-{ctx.seed}-v{data.VERSION}"


def _migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def _generate(ctx: Context) -> dict[str, Any]:
    from bench import data

    print(f"Generando datos «{ctx.scale}» (semilla {ctx.seed})…", flush=True)
    return data.generate(scale=ctx.scale, seed=ctx.seed)


def prepare_sqlite(ctx: Context, fresh: bool) -> dict[str, Any]:
    """Copy the cached dataset into the run's data dir, or generate it there and cache it."""
    from django.db import connections

    key = _dataset_key(ctx)
    cached, marker = CACHE_DIR / f"{key}.sqlite3", CACHE_DIR / f"{key}.json"
    target = ctx.data_dir / "atiende.sqlite3"
    if cached.exists() and marker.exists() and not fresh:
        print(f"Datos «{key}» reutilizados de {cached}", flush=True)
        shutil.copyfile(cached, target)
        _migrate()
        return json.loads(marker.read_text())
    _migrate()
    dataset = _generate(ctx)
    connections.close_all()
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(target, cached)
    marker.write_text(json.dumps(dataset))
    return dataset


def _pg_admin():
    import psycopg

    return psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True)


def _pg_kick(admin, name: str) -> None:
    """End the sessions on `name` (a finished run's, autovacuum's after a bulk load)."""
    admin.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = %s AND pid <> pg_backend_pid()",
        [name],
    )


def _pg_drop(admin, name: str) -> None:
    _pg_kick(admin, name)
    admin.execute(f'DROP DATABASE IF EXISTS "{name}"')


def _pg_copy(admin, source: str, target: str) -> None:
    """CREATE DATABASE target TEMPLATE source, retried while autovacuum holds the source."""
    import psycopg

    for attempt in range(20):
        _pg_kick(admin, source)
        try:
            admin.execute(f'CREATE DATABASE "{target}" TEMPLATE "{source}" STRATEGY FILE_COPY')
            return
        except psycopg.errors.ObjectInUse:
            if attempt == 19:
                raise
            time.sleep(0.5)


def prepare_pg(ctx: Context, fresh: bool) -> dict[str, Any]:
    """atiende_bench from a template database holding the dataset (built on first use)."""
    import psycopg
    from django.db import connections

    key = _dataset_key(ctx)
    template = f"atiende_bench_tpl_{ctx.scale}"
    with _pg_admin() as admin:
        _pg_drop(admin, PG_DB)
        exists = admin.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [template]
        ).fetchone()
        marker = None
        if exists and not fresh:
            with psycopg.connect(f"{PG_SERVER}/{template}") as tpl:
                try:
                    row = tpl.execute("SELECT key, body FROM bench_dataset").fetchone()
                except psycopg.Error:
                    row = None
            if row and row[0] == key:
                marker = json.loads(row[1])
        if marker is not None:
            print(f"Datos «{key}» reutilizados de la base {template}", flush=True)
            _pg_copy(admin, template, PG_DB)
        else:
            admin.execute(f'CREATE DATABASE "{PG_DB}"')
    if marker is not None:
        _migrate()
        return marker
    _migrate()
    dataset = _generate(ctx)
    connections.close_all()
    with psycopg.connect(f"{PG_SERVER}/{PG_DB}") as db:
        db.execute("CREATE TABLE bench_dataset (key text, body text)")
        db.execute("INSERT INTO bench_dataset VALUES (%s, %s)", [key, json.dumps(dataset)])
    with _pg_admin() as admin:
        _pg_drop(admin, template)
        _pg_copy(admin, PG_DB, template)
    return dataset


def _flush_redis() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


def prepare_run(ctx: Context) -> None:
    """What every scenario may use: the bench admin's API token and the agents' login."""
    from django.db import connections

    from atiende.users.models import User
    from atiende.users.services import issue_api_token
    from bench import data

    admin = User.objects.get(username=data.BENCH_ADMIN)
    _token, plain = issue_api_token(user=admin, name="bench", by=None)
    ctx.state.update(
        api_token=plain,
        admin_username=data.BENCH_ADMIN,
        password=data.BENCH_PASSWORD,
        agent_usernames=[f"bench-agent-{i:03d}" for i in range(data.AGENTS)],
    )
    connections.close_all()


# --- the run ------------------------------------------------------------------------------


def run_scenarios(ctx: Context, names: list[str]) -> tuple[list[Figure], dict[str, str]]:
    figures: list[Figure] = []
    errors: dict[str, str] = {}
    for name in names:
        print(f"\n▶ {name}", flush=True)
        started = time.perf_counter()
        try:
            module = importlib.import_module(f"bench.scenarios.{name}")
            produced = module.run(ctx)
        except Exception as exc:  # one broken scenario must not hide the others' figures
            traceback.print_exc()
            errors[name] = f"{type(exc).__name__}: {exc}"
            produced = [Figure(name, "error", math.nan, "", met=False, note=errors[name][:200])]
        for figure in produced:
            print(f"  {figure.name}: {figure.value:.4g} {figure.unit} {figure.note}", flush=True)
        figures += produced
        print(f"  ({time.perf_counter() - started:.1f} s)", flush=True)
    return figures, errors


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    ctx = build_context(args)
    os.environ.update(ctx.env)
    if args.db != "pg":
        os.environ.pop("DATABASE_URL", None)
        os.environ.pop("REDIS_URL", None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from bench import report, server

    started = time.time()
    if ctx.db == "pg":
        _flush_redis()
        dataset = prepare_pg(ctx, args.fresh)
    else:
        dataset = prepare_sqlite(ctx, args.fresh)
    ctx.state["dataset"] = dataset
    prepare_run(ctx)
    names = [s for s in SCENARIOS if not args.only or s in args.only]
    print(f"\nArrancando Atiende ({ctx.db}) en {ctx.data_dir}…", flush=True)
    stack = server.start(ctx)
    ctx.stack = stack
    try:
        figures, errors = run_scenarios(ctx, names)
    finally:
        stack.stop()
    result = report.build(
        ctx,
        figures=figures,
        errors=errors,
        machine=machine(),
        dataset=dataset,
        duration=time.time() - started,
        smoke_counts=report.reference(Path(args.out), ctx.scale, ctx.db),
    )
    print()
    print(report.markdown(result))
    path = report.write(result, Path(args.out))
    print(f"\nResultados: {path}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
