import uvicorn
from django.conf import settings
from django.core.management.base import BaseCommand

from atiende.core.management.commands._serving import add_server_arguments, uvicorn_options
from atiende.jobs import consumer_options, huey


class Command(BaseCommand):
    help = "Embedded layout: HTTP, WebSocket and job threads in one process."

    def add_arguments(self, parser) -> None:
        add_server_arguments(parser)

    def handle(self, *args, host: str, port: int, **options) -> None:
        # Huey installs signal handlers, so its consumer starts here, on the main thread,
        # before uvicorn; uvicorn hands them back when it returns and we stop the jobs gracefully.
        consumer = huey.create_consumer(
            workers=settings.ATIENDE_JOBS_WORKERS,
            worker_type="thread",
            periodic=True,
            **consumer_options(),
        )
        consumer.start()
        self.stdout.write(f"Atiende: http://{host}:{port}/", ending="\n")
        self.stdout.flush()
        try:
            uvicorn.Server(uvicorn.Config(**uvicorn_options(host=host, port=port))).run()
        finally:
            consumer.stop(graceful=True)
