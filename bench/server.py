"""Start Atiende for a benchmark run the way an operator would, and watch its memory.

SQLite: one `atiende run` (uvicorn + Huey consumer threads + in-memory channel layer).
PostgreSQL: two `atiende web` processes on different ports and one `atiende worker`, sharing
PostgreSQL and Redis through DATABASE_URL / REDIS_URL from `ctx.env`. Each process logs to
`<data_dir>/bench-logs/<name>.log`; a background thread samples every process's resident memory
(children included) so the resources scenario can report the peak of the whole run.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import IO

from bench.core import Context

ROOT = Path(__file__).resolve().parent.parent
PORTS = range(8211, 8221)  # this harness's ports; any free port when they are taken
HEALTH_TIMEOUT = 60.0
SAMPLE_EVERY = 0.25


def free_port(preferred: range = PORTS) -> int:
    """The first port of `preferred` nobody listens on, else one the kernel picks."""
    for port in preferred:
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def atiende_command() -> list[str]:
    """The console script installed with the package (what an operator types), else manage.py."""
    script = Path(sys.executable).parent / "atiende"
    if script.exists():
        return [str(script)]
    return [sys.executable, str(ROOT / "manage.py")]


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            found += [int(p) for p in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
    return found


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, in MB (0 once it has exited)."""
    total, seen, todo = 0, set(), [pid]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        total += _rss_kb(current)
        todo += _children(current)
    return total / 1024


@dataclasses.dataclass
class ServerProcess:
    name: str  # "run", "web-1", "web-2", "worker"
    popen: subprocess.Popen
    port: int | None
    log_path: Path
    log: IO[bytes]

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}" if self.port else ""


class Stack:
    """The running servers of one benchmark run."""

    def __init__(self, processes: list[ServerProcess], env: dict[str, str]) -> None:
        self.processes = processes
        self.env = env
        self._peaks: dict[str, float] = {p.name: 0.0 for p in processes}
        self._stop_sampling = threading.Event()
        self._sampler = threading.Thread(target=self._sample, name="bench-rss", daemon=True)
        self._sampler.start()

    # --- addresses ------------------------------------------------------------------------

    @property
    def base_urls(self) -> list[str]:
        """Every web address (one for `atiende run`, two for two `atiende web`)."""
        return [p.base_url for p in self.processes if p.port]

    @property
    def base_url(self) -> str:
        return self.base_urls[0]

    @property
    def web_processes(self) -> list[ServerProcess]:
        return [p for p in self.processes if p.port]

    # --- memory ---------------------------------------------------------------------------

    def rss_mb(self) -> dict[str, float]:
        """Resident memory now, per process (children included), in MB."""
        return {p.name: tree_rss_mb(p.pid) for p in self.processes}

    def peak_rss_mb(self) -> dict[str, float]:
        """The highest resident memory sampled since start, per process, in MB."""
        self._take_sample()
        return dict(self._peaks)

    def _take_sample(self) -> None:
        for name, value in self.rss_mb().items():
            if value > self._peaks.get(name, 0.0):
                self._peaks[name] = value

    def _sample(self) -> None:
        while not self._stop_sampling.wait(SAMPLE_EVERY):
            self._take_sample()

    # --- life -----------------------------------------------------------------------------

    def check_alive(self) -> None:
        """Raise with the tail of its log when a server process has died."""
        for process in self.processes:
            if process.popen.poll() is not None:
                raise RuntimeError(
                    f"{process.name} exited with {process.popen.returncode}:\n"
                    + log_tail(process.log_path)
                )

    def stop(self) -> None:
        """SIGTERM every process (uvicorn and Huey stop gracefully on it), then SIGKILL."""
        self._stop_sampling.set()
        for process in self.processes:
            if process.popen.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    process.popen.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in self.processes:
            try:
                process.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.popen.kill()
                process.popen.wait()
            process.log.close()

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def server_env(ctx: Context) -> dict[str, str]:
    """The environment of every server: ours plus the run's (data dir, database, Redis)."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(ctx.env)
    env["ATIENDE_DATA_DIR"] = str(ctx.data_dir)
    env.setdefault("DJANGO_SETTINGS_MODULE", "atiende.settings")
    env.setdefault("PYTHONUNBUFFERED", "1")
    env.pop("ATIENDE_JOBS_IMMEDIATE", None)
    if ctx.db == "pg" and not (env.get("DATABASE_URL") and env.get("REDIS_URL")):
        raise RuntimeError("the pg layout needs DATABASE_URL and REDIS_URL in ctx.env")
    if ctx.db != "pg":
        env.pop("REDIS_URL", None)
    return env


def _spawn(name: str, args: list[str], env: dict[str, str], logs: Path, port: int | None):
    log_path = logs / f"{name}.log"
    log = open(log_path, "ab")  # noqa: SIM115 - closed by Stack.stop
    popen = subprocess.Popen(
        [*atiende_command(), *args],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # a Ctrl-C of the harness reaches the servers through stop()
    )
    return ServerProcess(name=name, popen=popen, port=port, log_path=log_path, log=log)


def wait_healthy(process: ServerProcess, timeout: float = HEALTH_TIMEOUT) -> None:
    """Poll /healthz until it answers 200 (database, jobs and realtime checked by the app)."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if process.popen.poll() is not None:
            raise RuntimeError(
                f"{process.name} exited with {process.popen.returncode}:\n"
                + log_tail(process.log_path)
            )
        try:
            with urllib.request.urlopen(f"{process.base_url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError as exc:
            last = str(exc)
        time.sleep(0.1)
    raise TimeoutError(f"{process.name} not healthy after {timeout:.0f} s ({last})")


def start(ctx: Context) -> Stack:
    """Start the layout of `ctx.db` and return once every web process answers /healthz ok."""
    env = server_env(ctx)
    logs = Path(ctx.data_dir) / "bench-logs"
    logs.mkdir(parents=True, exist_ok=True)
    processes: list[ServerProcess] = []
    try:
        if ctx.db == "pg":
            used: set[int] = set()
            for index in (1, 2):
                port = free_port(range(max(used, default=PORTS.start - 1) + 1, PORTS.stop))
                used.add(port)
                processes.append(
                    _spawn(
                        f"web-{index}",
                        ["web", "--host", "127.0.0.1", "--port", str(port)],
                        env,
                        logs,
                        port,
                    )
                )
            processes.append(_spawn("worker", ["worker"], env, logs, None))
        else:
            port = free_port()
            processes.append(
                _spawn("run", ["run", "--host", "127.0.0.1", "--port", str(port)], env, logs, port)
            )
        for process in processes:
            if process.port:
                wait_healthy(process)
        stack = Stack(processes, env)
        stack.check_alive()
    except BaseException:
        Stack(processes, env).stop()
        raise
    ctx.stack = stack
    return stack
