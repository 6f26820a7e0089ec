"""The one Huey instance: SQLite under data/ by default, Redis when REDIS_URL is set.

Apps declare their jobs in their own `jobs.py` with `@huey.task()` / `@huey.periodic_task()`;
`core.apps` imports every app's `jobs` module so web and worker processes know the same tasks.
"""

from pathlib import Path

from django.conf import settings
from django.db import close_old_connections
from huey import Huey, RedisHuey, SqliteHuey


def make_huey(*, data_dir: Path, redis_url: str, immediate: bool = False) -> Huey:
    """Build a Huey for the given layout; tests use it to reach a queue of another process."""
    if redis_url:
        return RedisHuey("atiende", url=redis_url, immediate=immediate, utc=True, blocking=True)
    return SqliteHuey(
        "atiende", filename=str(Path(data_dir) / "jobs.sqlite3"), immediate=immediate, utc=True
    )


huey = make_huey(
    data_dir=settings.DATA_DIR,
    redis_url=settings.REDIS_URL,
    immediate=settings.ATIENDE_JOBS_IMMEDIATE,
)


def consumer_options() -> dict:
    """How workers poll an empty queue. Redis blocks until a job arrives; SQLite is polled, and
    Huey's default backs off to one poll every 10 s, so after a quiet minute a new message
    waited up to 10 s before anyone processed it. Here the wait tops out at a quarter second."""
    return {"initial_delay": 0.05, "backoff": 1.15, "max_delay": 0.25}


# A worker thread drops stale connections around each task. In immediate mode (tests) the task
# runs inline in the caller's thread, inside the caller's transaction: its connection is not ours.
@huey.pre_execute()
def _fresh_connection_before(task) -> None:
    if not huey.immediate:
        close_old_connections()


@huey.post_execute()
def _fresh_connection_after(task, task_value, exc) -> None:
    if not huey.immediate:
        close_old_connections()
