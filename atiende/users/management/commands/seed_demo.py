import os
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from atiende.contacts.demo import seed_contacts
from atiende.inbox.demo import seed_inbox
from atiende.tickets.demo import seed_tickets
from atiende.users import services
from atiende.users.models import AgentStatus, Role, Team, User

TEAMS = [
    ("Servicio", "Atención al cliente: consultas, reclamos y cambios de póliza."),
    ("Ventas", "Oportunidades y cotizaciones por WhatsApp y redes sociales."),
    ("Cobranza", "Gestión de mora por tramos, promesas y pagos."),
    ("Tech", "Ingeniería: recibe las escalaciones de defectos."),
]

PEOPLE = [
    # username, display name, role, teams
    ("admin", "Ana Martínez", Role.ADMIN, ["Servicio", "Ventas", "Cobranza", "Tech"]),
    ("supervisor", "Jorge Benítez", Role.SUPERVISOR, ["Servicio", "Ventas", "Cobranza"]),
    ("maria", "María González", Role.AGENT, ["Servicio"]),
    ("carlos", "Carlos Duarte", Role.AGENT, ["Ventas"]),
    ("lucia", "Lucía Ramírez", Role.AGENT, ["Cobranza"]),
    ("diego", "Diego Villalba", Role.AGENT, ["Tech"]),
    ("sofia", "Sofía Núñez", Role.AGENT, ["Servicio", "Cobranza"]),
]


def demo_password() -> str:
    """ATIENDE_DEMO_PASSWORD, else one generated once and kept in data/ so it can be shown again."""
    if os.environ.get("ATIENDE_DEMO_PASSWORD"):
        return os.environ["ATIENDE_DEMO_PASSWORD"]
    path = settings.DATA_DIR / "demo-password"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(9))
        path.chmod(0o600)
    return path.read_text().strip()


class Command(BaseCommand):
    help = "Create the demo teams and people (idempotent) and print the demo login."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Seed only when the database has no users yet; always print the login.",
        )

    def handle(self, *args, if_empty: bool, **options) -> None:
        password = demo_password()
        if not (if_empty and User.objects.exists()):
            try:
                self.seed(password)
            except ValidationError as exc:
                raise CommandError("; ".join(exc.messages)) from exc
        if User.objects.filter(username="admin").exists():
            self.stdout.write(
                self.style.SUCCESS(
                    "\nDemo login → usuario: admin  contraseña: "
                    f"{password}\n(también: supervisor, maria, carlos, lucia, diego, sofia)\n"
                )
            )

    @transaction.atomic
    def seed(self, password: str) -> None:
        admin = User.objects.filter(username="admin").first()
        created = 0
        for username, name, role, _teams in PEOPLE:
            if User.objects.filter(username=username).exists():
                continue
            user = services.create_user(
                by=None,
                username=username,
                password=password,
                display_name=name,
                role=role,
                email=f"{username}@demo.atiende.local",
            )
            if role == Role.ADMIN:
                user.is_staff = user.is_superuser = True
                user.save(update_fields=["is_staff", "is_superuser"])
                admin = user
            created += 1
        for team_name, description in TEAMS:
            members = [
                User.objects.get(username=username)
                for username, _n, _r, teams in PEOPLE
                if team_name in teams
            ]
            team = Team.objects.filter(name=team_name).first()
            if team is None:
                services.save_team(
                    by=admin, name=team_name, description=description, members=members
                )
        for username in ("maria", "carlos", "lucia", "sofia"):
            user = User.objects.get(username=username)
            if user.agent_status == AgentStatus.OFFLINE:
                services.set_agent_status(user=user, status=AgentStatus.ACTIVE, by=admin)
        contacts = seed_contacts(by=admin)
        conversations = seed_inbox(by=admin)
        tickets = seed_tickets(by=admin)
        self.stdout.write(
            f"Demo: {created} usuarios nuevos, {Team.objects.count()} equipos, "
            f"{contacts} contactos nuevos, {conversations} conversaciones nuevas, "
            f"{tickets} tickets nuevos."
        )
