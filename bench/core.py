"""What every benchmark scenario shares: the run's context, a measured figure, percentiles and
the machine it ran on. Scenarios are modules in `bench/scenarios/` exposing
`run(ctx: Context) -> list[Figure]`; `python -m bench` runs them in order and reports."""

import dataclasses
import datetime
import math
import os
import platform
from collections.abc import Sequence
from pathlib import Path
from typing import Any

SCALES = ("smoke", "small", "large")


@dataclasses.dataclass
class Context:
    """One benchmark run.

    `db` is "sqlite" (embedded `atiende run`, the default on one machine) or "pg" (PostgreSQL +
    Redis: `atiende web` x2 + `atiende worker`). `data_dir` is the ATIENDE_DATA_DIR of the servers
    (SQLite file, media, secrets). `env` is the environment every server and load process gets.
    `stack` is the running servers (bench.server.Stack) once started; `state` is where scenarios
    leave what later ones need (ids of generated rows, the WhatsApp channel's secrets, …)."""

    scale: str
    db: str
    data_dir: Path
    env: dict[str, str]
    seed: int = 20261123
    stack: Any = None
    state: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def smoke(self) -> bool:
        return self.scale == "smoke"


@dataclasses.dataclass
class Figure:
    """One measured number, printed beside its target. `target` is text ("≥ 2000", "≤ 50");
    `met` is None when the figure has no target (a context figure such as the INSERT baseline)."""

    scenario: str
    name: str
    value: float
    unit: str
    target: str = ""
    met: bool | None = None
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def at_least(value: float, target: float) -> tuple[str, bool]:
    return f"≥ {target:g}", value >= target


def at_most(value: float, target: float) -> tuple[str, bool]:
    return f"≤ {target:g}", value <= target


def percentile(samples: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0-100); NaN for no samples."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def machine() -> dict[str, Any]:
    """Cores, RAM, CPU model, Python and OS: printed with every result."""
    mem_kb = 0
    cpu = platform.processor()
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "ram_gb": round(mem_kb / 1024 / 1024, 1),
        "cpu": cpu,
        "python": platform.python_version(),
        "os": platform.platform(),
        "date": datetime.date.today().isoformat(),
    }
