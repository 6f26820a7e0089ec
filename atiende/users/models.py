import zoneinfo

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

TIME_ZONE_CHOICES = [(tz, tz) for tz in sorted(zoneinfo.available_timezones()) if "/" in tz]


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrador")
    SUPERVISOR = "supervisor", _("Supervisor")
    AGENT = "agent", _("Agente")


class AgentStatus(models.TextChoices):
    """Estado del agente: a paused or offline agent gets no new conversations."""

    ACTIVE = "active", _("Activo")
    PAUSED = "paused", _("En pausa")
    OFFLINE = "offline", _("Desconectado")


class User(AbstractUser):
    display_name = models.CharField(_("nombre visible"), max_length=120, blank=True)
    role = models.CharField(_("rol"), max_length=20, choices=Role.choices, default=Role.AGENT)
    agent_status = models.CharField(
        _("estado"), max_length=20, choices=AgentStatus.choices, default=AgentStatus.OFFLINE
    )
    agent_status_changed_at = models.DateTimeField(_("estado desde"), default=timezone.now)
    time_zone = models.CharField(_("zona horaria"), max_length=64, default=settings.TIME_ZONE)
    language = models.CharField(
        _("idioma"), max_length=8, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )

    class Meta:
        verbose_name = _("usuario")
        verbose_name_plural = _("usuarios")
        ordering = ["display_name", "username"]
        indexes = [models.Index(fields=["role", "agent_status"])]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.display_name or self.get_full_name() or self.username

    @property
    def initials(self) -> str:
        """Two letters for the avatar: first and last word of the name."""
        words = [w for w in self.name.replace(".", " ").split() if w[:1].isalnum()]
        if not words:
            return "?"
        letters = words[0][0] + (words[-1][0] if len(words) > 1 else "")
        return letters.upper()

    @property
    def is_admin(self) -> bool:
        return self.is_active and (self.role == Role.ADMIN or self.is_superuser)

    @property
    def is_supervisor(self) -> bool:
        return self.is_active and self.role == Role.SUPERVISOR


class Team(models.Model):
    """Equipo: Servicio, Ventas, Cobranza, Tech… conversations and cases are routed to teams."""

    name = models.CharField(_("nombre"), max_length=80, unique=True)
    description = models.CharField(_("descripción"), max_length=255, blank=True)
    members = models.ManyToManyField(
        User, verbose_name=_("miembros"), related_name="teams", blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("equipo")
        verbose_name_plural = _("equipos")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ApiToken(models.Model):
    """A personal API token; only its SHA-256 is kept, the secret is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("nombre"), max_length=80)
    prefix = models.CharField(max_length=12, unique=True)
    key_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(_("creado"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("último uso"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revocado"), null=True, blank=True)

    class Meta:
        verbose_name = _("token de API")
        verbose_name_plural = _("tokens de API")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class Presence(models.Model):
    """One open WebSocket of a user; a user with a fresh row is online."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="presences")
    channel_name = models.CharField(max_length=200, unique=True)
    connected_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["user", "last_seen_at"])]

    def __str__(self) -> str:
        return f"{self.user_id} @ {self.channel_name}"


class LoginAttempt(models.Model):
    """Failed and successful logins, for the lockout after repeated failures."""

    username = models.CharField(max_length=150)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    succeeded = models.BooleanField(default=False)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["username", "at"]),
            models.Index(fields=["ip_address", "at"]),
        ]

    def __str__(self) -> str:
        return f"{self.username} {'ok' if self.succeeded else 'fail'} {self.at:%Y-%m-%d %H:%M}"
