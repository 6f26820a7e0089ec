"""The run's result: a JSON document, and the Markdown table printed and pasted into the READMEs.

Two figures are read beside others here: ingest rates are also printed as a fraction of the
database's own single-row INSERT + COMMIT rate (the baseline scenario), and the lists' query
counts are compared with the latest smoke run on the same database, since "independent of data
size" means the same count on 200 contacts as on 100,000.
"""

from __future__ import annotations

import datetime
import json
import math
from pathlib import Path
from typing import Any

from bench.core import Context, Figure

BASELINE = ("baseline", "insert_commit")
QUERY_UNIT = "consultas"


def _baseline(figures: list[Figure]) -> float | None:
    for figure in figures:
        if (figure.scenario, figure.name) == BASELINE and figure.value > 0:
            return figure.value
    return None


def reference(out_dir: Path, scale: str, db: str) -> dict[tuple[str, str], float]:
    """Query counts of the latest smoke run on `db` in `out_dir` (empty for a smoke run)."""
    if scale == "smoke":
        return {}
    runs = sorted(out_dir.glob(f"*-smoke-{db}.json"))
    if not runs:
        return {}
    try:
        data = json.loads(runs[-1].read_text())
    except (OSError, ValueError):
        return {}
    return {
        (f["scenario"], f["name"]): f["value"]
        for f in data.get("figures", [])
        if f.get("unit") == QUERY_UNIT
    }


def build(ctx: Context, *, figures: list[Figure], errors: dict[str, str],
          machine: dict[str, Any], dataset: dict[str, Any], duration: float,
          smoke_counts: dict[tuple[str, str], float] | None = None) -> dict[str, Any]:  # fmt: skip
    """The JSON document of a run; annotates ingest rates and query counts first."""
    baseline = _baseline(figures)
    for figure in figures:
        if (
            baseline
            and figure.scenario == "ingest"
            and figure.unit == "msg/s"
            and "INSERT" not in figure.note
        ):
            share = f"{figure.value / baseline:.1%} del INSERT+COMMIT ({baseline:,.0f}/s)"
            figure.note = f"{figure.note} · {share}" if figure.note else share
        key = (figure.scenario, figure.name)
        if figure.unit == QUERY_UNIT and smoke_counts and key in smoke_counts:
            figure.target = f"= {smoke_counts[key]:g} (smoke)"
            figure.met = figure.value == smoke_counts[key] and figure.met is not False
    return {
        "scale": ctx.scale,
        "db": ctx.db,
        "seed": ctx.seed,
        "date": datetime.date.today().isoformat(),
        "finished_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "duration_s": round(duration, 1),
        "machine": machine,
        "dataset": dataset.get("counts", {}),
        "dataset_load_s": dataset.get("load_seconds"),
        "figures": [_clean(f.as_dict()) for f in figures],
        "errors": errors,
    }


def _clean(figure: dict[str, Any]) -> dict[str, Any]:
    # JSON has no NaN: a figure that could not be measured is null.
    value = figure["value"]
    if isinstance(value, float) and not math.isfinite(value):
        figure["value"] = None
    return figure


def _number(value: float | None) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if abs(value) >= 100 or float(value).is_integer():
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def markdown(result: dict[str, Any], *, targets_only: bool = False) -> str:
    """The table of figures (scenario, figure, value, unit, target, ✓/✗) and the machine;
    `targets_only` keeps the figures that have a target (the README's short table)."""
    lines = [
        f"Escala **{result['scale']}** sobre **{result['db']}** · {result['date']}",
        "",
        "| escenario | cifra | valor | unidad | objetivo | | nota |",
        "|---|---|--:|---|---|:-:|---|",
    ]
    for f in result["figures"]:
        if targets_only and f["met"] is None and f["scenario"] != "baseline":
            continue
        mark = {True: "✓", False: "✗", None: ""}[f["met"]]
        note = (f["note"] or "").replace("|", "/")
        lines.append(
            f"| {f['scenario']} | {f['name']} | {_number(f['value'])} | {f['unit']} | "
            f"{f['target']} | {mark} | {note} |"
        )
    m = result["machine"]
    counts = ", ".join(f"{k} {v:,}" for k, v in result["dataset"].items())
    lines += [
        "",
        f"Máquina: {m.get('cores')} núcleos, {m.get('ram_gb')} GB RAM, {m.get('cpu')}, "
        f"Python {m.get('python')}.",
        f"Datos: {counts}.",
    ]
    if result["errors"]:
        lines.append("")
        lines += [f"**Error en {name}:** {error}" for name, error in result["errors"].items()]
    return "\n".join(lines)


def write(result: dict[str, Any], out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{result['date']}-{result['scale']}-{result['db']}.json"
    path.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n")
    return path


if __name__ == "__main__":
    # `python -m bench.report [--short] bench/results/<file>.json…`: a saved run's table again.
    import sys

    short = "--short" in sys.argv
    for name in [a for a in sys.argv[1:] if a != "--short"]:
        print(markdown(json.loads(Path(name).read_text()), targets_only=short))
        print()
