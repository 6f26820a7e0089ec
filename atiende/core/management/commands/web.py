import uvicorn
from django.core.management.base import BaseCommand

from atiende.core.management.commands._serving import add_server_arguments, uvicorn_options


class Command(BaseCommand):
    help = "Serve HTTP and WebSocket (scaled layout: jobs run in `atiende worker`)."

    def add_arguments(self, parser) -> None:
        add_server_arguments(parser)
        parser.add_argument("--workers", type=int, default=1)

    def handle(self, *args, host: str, port: int, workers: int, **options) -> None:
        uvicorn.run(**uvicorn_options(host=host, port=port), workers=workers)
