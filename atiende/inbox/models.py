"""Channels, conversations (the trays) and messages: the omnichannel inbox."""

import functools

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from atiende.contacts.models import Contact, Label
from atiende.core.crypto import decrypt_json, encrypt_json
from atiende.users.models import Team


class ChannelKind(models.TextChoices):
    WEBCHAT = "webchat", _("Chat web")
    WHATSAPP = "whatsapp", _("WhatsApp")
    MESSENGER = "messenger", _("Messenger")
    INSTAGRAM = "instagram", _("Instagram")
    SMS = "sms", _("SMS")
    EMAIL = "email", _("Correo electrónico")


CHANNEL_ICONS = {
    ChannelKind.WEBCHAT: "chat-dots",
    ChannelKind.WHATSAPP: "whatsapp",
    ChannelKind.MESSENGER: "messenger",
    ChannelKind.INSTAGRAM: "instagram",
    ChannelKind.SMS: "phone",
    ChannelKind.EMAIL: "envelope",
}


class Channel(models.Model):
    name = models.CharField(_("nombre"), max_length=80)
    kind = models.CharField(_("tipo"), max_length=12, choices=ChannelKind.choices)
    color = models.CharField(_("color"), max_length=7, default="#0d7c86")
    team = models.ForeignKey(
        Team,
        verbose_name=_("equipo por defecto"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="channels",
    )
    is_active = models.BooleanField(_("activo"), default=True)
    auto_assign = models.BooleanField(_("asignación automática"), default=True)
    # {"0": [["08:00", "18:00"]], …} by ISO weekday 1..7; empty = always open.
    business_hours = models.JSONField(_("horario de atención"), default=dict, blank=True)
    out_of_hours_message = models.TextField(_("mensaje fuera de horario"), blank=True)
    # Non-secret per-kind settings (webchat: public key, pre-chat form, greeting).
    config = models.JSONField(default=dict, blank=True)
    credentials_encrypted = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("canal")
        verbose_name_plural = _("canales")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def icon(self) -> str:
        return CHANNEL_ICONS.get(self.kind, "chat")

    @property
    def credentials(self) -> dict:
        """Decrypted once per ciphertext in a process (webhooks and jobs read them for every
        event); a copy, so changing it never changes the remembered one."""
        return dict(_decrypted(self.credentials_encrypted))

    @credentials.setter
    def credentials(self, value: dict) -> None:
        self.credentials_encrypted = encrypt_json(value) if value else ""


@functools.lru_cache(maxsize=64)
def _decrypted(credentials_encrypted: str) -> dict:
    return decrypt_json(credentials_encrypted)


class ConversationStatus(models.TextChoices):
    PENDING = "pending", _("Pendiente")
    OPEN = "open", _("En curso")
    RESOLVED = "resolved", _("Atendidos")


class Conversation(models.Model):
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="conversations")
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="conversations")
    # The contact's id on this channel (phone, PSID, visitor id): where replies go.
    recipient = models.CharField(max_length=200)
    status = models.CharField(
        _("bandeja"),
        max_length=10,
        choices=ConversationStatus.choices,
        default=ConversationStatus.PENDING,
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("agente"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="conversations",
    )
    team = models.ForeignKey(
        Team,
        verbose_name=_("equipo"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="conversations",
    )
    labels = models.ManyToManyField(Label, verbose_name=_("etiquetas"), blank=True)
    awaiting_first_response = models.BooleanField(_("sin primera respuesta"), default=True)
    unread_count = models.PositiveIntegerField(_("sin leer"), default=0)
    last_message_at = models.DateTimeField(_("último mensaje"), null=True, blank=True)
    last_message_preview = models.CharField(max_length=160, blank=True)
    # True when the last message is the customer's: "pendientes de atención".
    last_message_inbound = models.BooleanField(default=True)
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    assigned_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(_("creada"), auto_now_add=True)

    class Meta:
        verbose_name = _("conversación")
        verbose_name_plural = _("conversaciones")
        ordering = ["-last_message_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-last_message_at"], name="conv_tray"),
            models.Index(fields=["assignee", "status", "-last_message_at"], name="conv_assignee"),
            models.Index(fields=["team", "status", "-last_message_at"], name="conv_team"),
            models.Index(fields=["channel", "recipient", "status"], name="conv_recipient"),
            models.Index(fields=["contact", "-last_message_at"], name="conv_contact"),
        ]

    def __str__(self) -> str:
        return f"{self.contact} · {self.channel}"


class MessageDirection(models.TextChoices):
    INBOUND = "in", _("Entrante")
    OUTBOUND = "out", _("Saliente")


class MessageAuthor(models.TextChoices):
    CONTACT = "contact", _("Contacto")
    AGENT = "agent", _("Agente")
    BOT = "bot", _("Bot")
    SYSTEM = "system", _("Sistema")


class MessageKind(models.TextChoices):
    TEXT = "text", _("Texto")
    IMAGE = "image", _("Imagen")
    VIDEO = "video", _("Video")
    AUDIO = "audio", _("Audio")
    VOICE = "voice", _("Nota de voz")
    FILE = "file", _("Archivo")
    LOCATION = "location", _("Ubicación")
    TEMPLATE = "template", _("Plantilla")
    NOTE = "note", _("Nota privada")
    UNSUPPORTED = "unsupported", _("No soportado")


class MessageStatus(models.TextChoices):
    RECEIVED = "received", _("Recibido")
    QUEUED = "queued", _("En cola")
    SENT = "sent", _("Enviado")
    DELIVERED = "delivered", _("Entregado")
    READ = "read", _("Leído")
    FAILED = "failed", _("Fallido")


# Statuses only move forward; a late "delivered" never undoes "read".
STATUS_RANK = {
    MessageStatus.QUEUED: 0,
    MessageStatus.SENT: 1,
    MessageStatus.DELIVERED: 2,
    MessageStatus.READ: 3,
}


class Message(models.Model):
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="+")
    direction = models.CharField(max_length=3, choices=MessageDirection.choices)
    author_kind = models.CharField(max_length=8, choices=MessageAuthor.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=12, choices=MessageKind.choices, default=MessageKind.TEXT)
    body = models.TextField(blank=True)
    payload = models.JSONField(default=dict, blank=True)
    external_id = models.CharField(max_length=200, blank=True)
    reply_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=10, choices=MessageStatus.choices)
    error_code = models.CharField(max_length=40, blank=True)
    error_message = models.CharField(max_length=300, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("mensaje")
        verbose_name_plural = _("mensajes")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"],
                condition=~Q(external_id=""),
                name="message_external_id_once_per_channel",
            )
        ]
        indexes = [models.Index(fields=["conversation", "id"], name="message_thread")]

    def __str__(self) -> str:
        return self.body[:60] or self.get_kind_display()

    @property
    def is_note(self) -> bool:
        return self.kind == MessageKind.NOTE


class CannedResponse(models.Model):
    """A saved answer an agent inserts by typing `/shortcut`; variables like {{contacto.nombre}}."""

    shortcut = models.SlugField(_("atajo"), max_length=40)
    title = models.CharField(_("título"), max_length=120)
    body = models.TextField(_("texto"))
    team = models.ForeignKey(
        Team,
        verbose_name=_("equipo"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        help_text=_("Vacío: disponible para todos."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("respuesta rápida")
        verbose_name_plural = _("respuestas rápidas")
        ordering = ["shortcut"]
        constraints = [
            models.UniqueConstraint(fields=["shortcut", "team"], name="canned_shortcut_per_team"),
        ]

    def __str__(self) -> str:
        return f"/{self.shortcut}"


class MessageTemplate(models.Model):
    """A pre-approved message (WhatsApp templates); variables {{1}}, {{2}}… filled on send."""

    class Status(models.TextChoices):
        APPROVED = "approved", _("Aprobada")
        PENDING = "pending", _("En revisión")
        REJECTED = "rejected", _("Rechazada")
        PAUSED = "paused", _("Pausada")

    channel = models.ForeignKey(
        Channel,
        verbose_name=_("canal"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="templates",
    )
    name = models.CharField(_("nombre"), max_length=120)
    language = models.CharField(_("idioma"), max_length=10, default="es")
    category = models.CharField(_("categoría"), max_length=30, blank=True)
    status = models.CharField(
        _("estado"), max_length=10, choices=Status.choices, default=Status.APPROVED
    )
    body = models.TextField(_("texto"))
    components = models.JSONField(default=list, blank=True)
    # {"1": "contacto.nombre", …}: which contact field pre-fills each numbered variable.
    variable_map = models.JSONField(_("variables desde el contacto"), default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("plantilla")
        verbose_name_plural = _("plantillas")
        ordering = ["name", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "name", "language"], name="template_name_language_per_channel"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.language})"


class CommentStatus(models.TextChoices):
    NEW = "new", _("Nuevo")
    REPLIED = "replied", _("Respondido")
    HIDDEN = "hidden", _("Oculto")
    HANDLED = "handled", _("Atendido")


class SocialComment(models.Model):
    """A comment on a Facebook page post or an Instagram media: the comments tray."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="comments")
    external_id = models.CharField(max_length=200)
    post_id = models.CharField(max_length=200, blank=True)
    post_caption = models.TextField(_("publicación"), blank=True)
    post_permalink = models.URLField(max_length=500, blank=True)
    post_thumbnail_url = models.URLField(max_length=1000, blank=True)
    parent_external_id = models.CharField(max_length=200, blank=True)
    author_id = models.CharField(max_length=200, blank=True)
    author_name = models.CharField(_("autor"), max_length=200, blank=True)
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="social_comments"
    )
    body = models.TextField(_("comentario"), blank=True)
    created_at = models.DateTimeField(_("fecha"))
    received_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(
        _("estado"), max_length=10, choices=CommentStatus.choices, default=CommentStatus.NEW
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    handled_at = models.DateTimeField(null=True, blank=True)
    reply_text = models.TextField(blank=True)
    reply_external_id = models.CharField(max_length=200, blank=True)
    private_reply_sent = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("comentario")
        verbose_name_plural = _("comentarios")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"], name="comment_external_id_once_per_channel"
            )
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="comment_tray")]

    def __str__(self) -> str:
        return self.body[:60]
