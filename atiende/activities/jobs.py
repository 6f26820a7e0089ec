"""Activities jobs: the bell tells an assignee when a task falls due."""

import datetime

from huey import crontab

from atiende.activities import services
from atiende.jobs import huey


@huey.periodic_task(crontab(minute="*"))
def notify_due_tasks(now: datetime.datetime | None = None) -> int:
    return services.notify_due_tasks(now=now)
