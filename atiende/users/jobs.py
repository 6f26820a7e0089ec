from huey import crontab

from atiende.jobs import huey
from atiende.users import services


@huey.periodic_task(crontab(minute="*"))
def sweep_stale_presence() -> int:
    return services.sweep_stale_presence()
