import os

from django.core.management.base import BaseCommand

from atiende.jobs import consumer_options, huey


class Command(BaseCommand):
    help = "Run background jobs (scaled layout). Stops gracefully on SIGINT/SIGTERM."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--workers", type=int, default=int(os.environ.get("ATIENDE_JOBS_WORKERS", "2"))
        )

    def handle(self, *args, workers: int, **options) -> None:
        huey.create_consumer(
            workers=workers, worker_type="thread", periodic=True, **consumer_options()
        ).run()
