"""The harness cannot rot: a smoke run of every scenario, end to end, in a subprocess.

It never asserts times; it checks that the run finished, that every scenario reported finite
figures, and that nothing was lost on the way (messages, socket events)."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.__main__ import SCENARIOS
from bench.core import Context, Figure
from bench.report import build, markdown

ROOT = Path(__file__).resolve().parents[2]
LOSS_WORDS = ("lost", "not stored", "not sent", "perdid")


def _is_loss(name: str) -> bool:
    return any(word in name.lower() for word in LOSS_WORDS)


@pytest.mark.live
def test_smoke_run_reports_every_scenario_with_nothing_lost(tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_URL", "REDIS_URL", "ATIENDE_", "DJANGO_SETTINGS"))
    }
    env["ATIENDE_BENCH_CACHE"] = str(tmp_path / "cache")
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--scale", "smoke", "--db", "sqlite",
         "--out", str(tmp_path), "--data-dir", str(tmp_path / "data")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (result_file,) = tmp_path.glob("*-smoke-sqlite.json")
    result = json.loads(result_file.read_text())
    assert result["errors"] == {}
    assert result["dataset"]["contacts"] == 200
    reported = {f["scenario"] for f in result["figures"]}
    assert reported == set(SCENARIOS)
    for figure in result["figures"]:
        assert figure["value"] is not None and math.isfinite(figure["value"]), figure
        if _is_loss(figure["name"]):
            assert figure["value"] == 0, figure
    # Every lists request was counted by the server's own middleware, the same for each variant.
    counts = [f for f in result["figures"] if f["unit"] == "consultas"]
    assert counts and all(f["value"] > 0 and f["met"] for f in counts)
    assert "| escenario |" in done.stdout


def test_report_compares_query_counts_with_the_smoke_run(tmp_path):
    smoke = {
        "figures": [
            {"scenario": "lists", "name": "inbox queries", "value": 6, "unit": "consultas"},
            {"scenario": "lists", "name": "inbox p95", "value": 9.0, "unit": "ms"},
        ]
    }
    (tmp_path / "2026-01-01-smoke-sqlite.json").write_text(json.dumps(smoke))
    from bench.report import reference

    ref = reference(tmp_path, "small", "sqlite")
    assert ref == {("lists", "inbox queries"): 6}
    ctx = Context(scale="small", db="sqlite", data_dir=tmp_path, env={})
    figures = [
        Figure("lists", "inbox queries", 7, "consultas", "same for every variant", True),
        Figure("baseline", "insert_commit", 2000.0, "filas/s"),
        Figure("ingest", "end-to-end ingest, best stage", 500.0, "msg/s"),
        Figure("search", "e-mail p95", math.nan, "ms"),
    ]
    result = build(
        ctx, figures=figures, errors={}, machine={}, dataset={}, duration=1.0, smoke_counts=ref
    )
    by_name = {f["name"]: f for f in result["figures"]}
    assert by_name["inbox queries"]["met"] is False
    assert by_name["inbox queries"]["target"] == "= 6 (smoke)"
    ingest = by_name["end-to-end ingest, best stage"]
    assert "25.0% del INSERT+COMMIT (2,000/s)" in ingest["note"]
    assert by_name["e-mail p95"]["value"] is None  # JSON has no NaN
    table = markdown(result)
    assert "| lists | inbox queries | 7 | consultas | = 6 (smoke) | ✗ |" in table
