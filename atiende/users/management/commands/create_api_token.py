from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from atiende.users import services
from atiende.users.models import User


class Command(BaseCommand):
    help = "Create an API token for USERNAME and print it once (only its hash is kept)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="Línea de comandos")

    def handle(self, *args, username: str, name: str, **options) -> None:
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No existe un usuario activo «{username}».")
        try:
            _token, plain = services.issue_api_token(user=user, name=name, by=None)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(plain)
