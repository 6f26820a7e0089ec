"""The customer 360: a contact, the many ways to reach them, their accounts and relations."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class IdentificationType(models.TextChoices):
    CI = "ci", _("CI")
    RUC = "ruc", _("RUC")
    DNI = "dni", _("DNI")
    NIT = "nit", _("NIT")
    CC = "cc", _("CC")
    CE = "ce", _("Cédula de extranjería")
    PASSPORT = "passport", _("Pasaporte")
    SSN_LAST4 = "ssn4", _("SSN (últimos 4)")
    OTHER = "other", _("Otro")


class Label(models.Model):
    name = models.CharField(_("nombre"), max_length=60, unique=True)
    color = models.CharField(_("color"), max_length=7, default="#6c757d")

    class Meta:
        verbose_name = _("etiqueta")
        verbose_name_plural = _("etiquetas")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ContactGroup(models.Model):
    name = models.CharField(_("nombre"), max_length=80, unique=True)
    description = models.CharField(_("descripción"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("grupo de contactos")
        verbose_name_plural = _("grupos de contactos")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CustomField(models.Model):
    """A field an admin adds to every contact; values live in `Contact.custom[key]`."""

    class Kind(models.TextChoices):
        TEXT = "text", _("Texto")
        NUMBER = "number", _("Número")
        DATE = "date", _("Fecha")
        CHOICE = "choice", _("Lista de opciones")

    key = models.SlugField(_("clave"), max_length=40, unique=True)
    label = models.CharField(_("nombre"), max_length=80)
    kind = models.CharField(_("tipo"), max_length=10, choices=Kind.choices, default=Kind.TEXT)
    choices = models.JSONField(_("opciones"), default=list, blank=True)
    position = models.PositiveSmallIntegerField(_("orden"), default=0)

    class Meta:
        verbose_name = _("campo personalizado")
        verbose_name_plural = _("campos personalizados")
        ordering = ["position", "label"]

    def __str__(self) -> str:
        return self.label


class Contact(models.Model):
    first_name = models.CharField(_("nombres"), max_length=120, blank=True)
    last_name = models.CharField(_("apellidos"), max_length=120, blank=True)
    identification_type = models.CharField(
        _("tipo de identificación"), max_length=10, choices=IdentificationType.choices, blank=True
    )
    identification_number = models.CharField(
        _("número de identificación"), max_length=40, blank=True
    )
    birth_date = models.DateField(_("fecha de nacimiento"), null=True, blank=True)
    company = models.CharField(_("empresa"), max_length=160, blank=True)
    notes = models.TextField(_("observaciones"), blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("usuario asignado"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_contacts",
    )
    labels = models.ManyToManyField(Label, verbose_name=_("etiquetas"), blank=True)
    groups = models.ManyToManyField(ContactGroup, verbose_name=_("grupos"), blank=True)
    custom = models.JSONField(_("campos personalizados"), default=dict, blank=True)
    last_interaction_at = models.DateTimeField(_("última interacción"), null=True, blank=True)
    created_at = models.DateTimeField(_("creado"), auto_now_add=True)
    updated_at = models.DateTimeField(_("actualizado"), auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("creado por"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actualizado por"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Derived by contacts.services on every write, so lists and search need no joins.
    search_name = models.CharField(max_length=250, blank=True, db_index=True, editable=False)
    identification_key = models.CharField(max_length=40, blank=True, editable=False)
    primary_phone = models.CharField(_("teléfono"), max_length=20, blank=True, editable=False)
    primary_email = models.CharField(_("correo"), max_length=254, blank=True, editable=False)

    class Meta:
        verbose_name = _("contacto")
        verbose_name_plural = _("contactos")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["identification_type", "identification_key"],
                condition=~Q(identification_key=""),
                name="contact_identification_unique",
            )
        ]
        indexes = [
            models.Index(fields=["identification_key"], name="contact_ident_key"),
            models.Index(fields=["assigned_to", "-created_at"], name="contact_assigned"),
            models.Index(fields=["-created_at", "-id"], name="contact_created"),
            models.Index(fields=["-last_interaction_at"], name="contact_last_interaction"),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip()
        return name or self.primary_email or self.primary_phone or f"#{self.pk}"

    @property
    def initials(self) -> str:
        letters = (self.first_name[:1] + self.last_name[:1]).upper()
        return letters or "?"


class ContactPoint(models.Model):
    """One way to reach a contact. Phones are stored E.164, e-mails lower-cased."""

    class Kind(models.TextChoices):
        PHONE = "phone", _("Teléfono")
        MOBILE = "mobile", _("Celular")
        WHATSAPP = "whatsapp", _("WhatsApp")
        EMAIL = "email", _("Correo electrónico")
        ADDRESS = "address", _("Dirección")
        MESSENGER = "messenger", _("Messenger")
        INSTAGRAM = "instagram", _("Instagram")

    PHONE_KINDS = frozenset({Kind.PHONE, Kind.MOBILE, Kind.WHATSAPP})

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="points")
    kind = models.CharField(_("tipo"), max_length=12, choices=Kind.choices)
    value = models.CharField(_("valor"), max_length=300)
    label = models.CharField(_("etiqueta"), max_length=40, blank=True)
    is_primary = models.BooleanField(_("principal"), default=False)
    search_value = models.CharField(max_length=300, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("dato de contacto")
        verbose_name_plural = _("datos de contacto")
        ordering = ["kind", "-is_primary", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["contact", "kind"],
                condition=Q(is_primary=True),
                name="contact_point_one_primary_per_kind",
            )
        ]
        indexes = [models.Index(fields=["search_value"], name="contact_point_search")]

    def __str__(self) -> str:
        return self.display_value

    @property
    def display_value(self) -> str:
        from atiende.core.normalize import format_phone

        return format_phone(self.value) if self.kind in self.PHONE_KINDS else self.value


class ContactRelation(models.Model):
    """Related clients ("cónyuge", "beneficiario"): stored once, shown on both sides."""

    from_contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
    to_contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
    labels = models.CharField(_("relación"), max_length=120)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("cliente relacionado")
        verbose_name_plural = _("clientes relacionados")
        constraints = [
            models.UniqueConstraint(
                fields=["from_contact", "to_contact"], name="contact_relation_once"
            ),
            models.CheckConstraint(
                condition=~Q(from_contact=models.F("to_contact")), name="contact_relation_not_self"
            ),
        ]
        indexes = [models.Index(fields=["to_contact"], name="contact_relation_to")]

    def __str__(self) -> str:
        return f"{self.from_contact_id} ↔ {self.to_contact_id}: {self.labels}"


class Account(models.Model):
    """A customer's product with us: an insurance policy, a loan, a card."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Activa")
        SUSPENDED = "suspended", _("Suspendida")
        DELINQUENT = "delinquent", _("En mora")
        CANCELLED = "cancelled", _("Cancelada")
        CLOSED = "closed", _("Cerrada")

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="accounts")
    number = models.CharField(_("número"), max_length=60)
    product = models.CharField(_("producto"), max_length=120, blank=True)
    status = models.CharField(
        _("estado"), max_length=12, choices=Status.choices, default=Status.ACTIVE
    )
    extra = models.JSONField(_("datos adicionales"), default=dict, blank=True)
    created_at = models.DateTimeField(_("creada"), auto_now_add=True)
    updated_at = models.DateTimeField(_("actualizada"), auto_now=True)

    class Meta:
        verbose_name = _("cuenta")
        verbose_name_plural = _("cuentas")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["number"], name="account_number")]

    def __str__(self) -> str:
        return f"{self.number} · {self.product}" if self.product else self.number


class ImportJob(models.Model):
    """A CSV/XLSX import: mapped, previewed, then run in batches by a job (resumable)."""

    class Status(models.TextChoices):
        MAPPING = "mapping", _("Por configurar")
        QUEUED = "queued", _("En cola")
        RUNNING = "running", _("Importando")
        DONE = "done", _("Terminada")
        FAILED = "failed", _("Fallida")

    class MatchBy(models.TextChoices):
        IDENTIFICATION = "identification", _("Identificación")
        EMAIL = "email", _("Correo electrónico")
        PHONE = "phone", _("Teléfono")

    file = models.FileField(upload_to="imports/%Y/%m/")
    original_name = models.CharField(_("archivo"), max_length=200)
    status = models.CharField(
        _("estado"), max_length=10, choices=Status.choices, default=Status.MAPPING
    )
    headers = models.JSONField(default=list, blank=True)
    mapping = models.JSONField(default=dict, blank=True)
    match_by = models.CharField(
        _("actualizar si coincide"),
        max_length=16,
        choices=MatchBy.choices,
        default=MatchBy.IDENTIFICATION,
    )
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(_("creados"), default=0)
    updated_count = models.PositiveIntegerField(_("actualizados"), default=0)
    rejected_count = models.PositiveIntegerField(_("rechazados"), default=0)
    rejected_rows = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("importación")
        verbose_name_plural = _("importaciones")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.original_name

    @property
    def progress(self) -> int:
        return int(100 * self.processed_rows / self.total_rows) if self.total_rows else 0
