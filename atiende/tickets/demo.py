"""Demo tickets for `seed_demo`: the Support pipeline with work in every stage and one escalation
to Tech, on the demo customers' policies. Idempotent: a ticket with the same name is left alone.
Written through the services, so the history and activity read like real work."""

import datetime

from django.db import transaction
from django.utils import timezone

from atiende.contacts.models import Account, Label
from atiende.tickets import services
from atiende.tickets.defaults import SUPPORT_TEAM_NAME
from atiende.tickets.models import Pipeline, Ticket
from atiende.users.models import Role, Team, User

# (topic, stage, priority, owner, source, hours ago, hours since the customer heard from us, note)
# The last-but-one column gives the demo every SLA state: None = never contacted (the 48-hour
# rule fires), a number = a first reply 30 minutes after creation and the latest update then.
TICKETS = [
    ("Consulta de cobertura por granizo", "new", "low", None, "email", 2, None, ""),
    ("Solicitud de póliza digital", "new", "medium", None, "email", 20, 3, ""),
    ("Duda sobre el deducible", "follow_up", "medium", "maria", "whatsapp", 30, 20,
     "Se le envió el detalle del deducible; espera confirmación."),
    ("Consulta sobre reembolso de gastos", "follow_up", "high", "sofia", "chat", 52, None, ""),
    ("Póliza cancelada por falta de pago", "retention", "medium", "maria", "phone", 44, 41,
     "Cliente interesado en reactivar si se fracciona la deuda."),
    ("Póliza vencida sin renovar", "retention", "medium", "sofia", "phone", 26, 10, ""),
    ("Cambio de vehículo en la póliza", "change_request", "high", "maria", "whatsapp", 12, 5, ""),
    ("Cambio de beneficiario", "change_request", "low", "sofia", "email", 36, 30, ""),
    ("Envío de cédula pendiente", "waiting_on_customer", "medium", "maria", "email", 72, 26,
     "Se solicitó copia de la cédula al cliente."),
    ("Confirmación de datos bancarios", "waiting_on_customer", "low", "sofia", "chat", 190, 60,
     ""),
    ("Emisión de certificado", "waiting_on_us", "high", "maria", "email", 10, 2, ""),
    ("Reclamo por demora en siniestro", "waiting_on_us", "urgent", "supervisor", "phone", 30, 27,
     "Cliente molesto: prometimos respuesta hoy."),
    ("Cambio de dirección resuelto", "closed", "low", "maria", "email", 20, 19, ""),
    ("Duplicado de factura enviado", "closed", "medium", "sofia", "email", 30, 29, ""),
]  # fmt: skip

ESCALATION = {
    "what": "El endoso de cambio de vehículo no se guarda: el portal vuelve al formulario.",
    "how": "Al confirmar el endoso con la nueva placa, tras pulsar «Guardar», sin mensaje.",
    "where": "Portal web / Pólizas / Endosos / Cambio de vehículo.",
    "requested_changes": "Vehículo nuevo: Toyota Corolla 2024, placa ABC-123.",
}


def _admin() -> User | None:
    return User.objects.filter(role=Role.ADMIN, is_active=True).order_by("id").first()


@transaction.atomic
def seed_tickets(*, by: User | None = None) -> int:
    """About fifteen tickets across stages and priorities; returns how many were new."""
    by = by or _admin()
    if by is None:
        raise ValueError("seed_tickets needs an admin user: run seed_demo.")
    pipeline = Pipeline.objects.filter(key="support").first()
    service = Team.objects.filter(name=SUPPORT_TEAM_NAME).first()
    if pipeline is not None and pipeline.team_id is None and service is not None:
        pipeline.team = service
        pipeline.save(update_fields=["team"])
    accounts = list(
        Account.objects.select_related("contact").exclude(status=Account.Status.CLOSED)[:15]
    )
    if not accounts:
        return 0
    users = {u.username: u for u in User.objects.filter(is_active=True)}
    label = Label.objects.filter(name="Reclamo abierto").first()
    stages = {s.key: s for s in services.default_pipeline().stages.all()}
    now = timezone.now()
    created = 0
    for index, (topic, stage_key, priority, owner, source, hours, updated, note) in enumerate(
        TICKETS
    ):
        account = accounts[index % len(accounts)]
        name = f"{account.number} \u2013 {topic}"
        if Ticket.objects.filter(name=name).exists():
            continue
        ticket = services.create_ticket(
            by=by,
            name=name,
            description=f"<p>{topic}.</p>",
            stage=stages[stage_key],
            priority=priority,
            owner=users.get(owner) if owner else None,
            account=account,
            source=source,
            created_at=now - datetime.timedelta(hours=hours, minutes=index),
            labels=[label] if label and priority in ("high", "urgent") else (),
        )
        if updated is not None:
            agent = ticket.owner or by
            first = ticket.created_at + datetime.timedelta(minutes=30)
            services.record_customer_update(ticket=ticket, by=agent, at=first)
            services.record_customer_update(
                ticket=ticket, by=agent, at=max(first, now - datetime.timedelta(hours=updated))
            )
        if note:
            services.add_note(ticket=ticket, by=ticket.owner or by, body=note)
        created += 1
    account = accounts[-1]
    name = services.escalation_name(account=account, contact=account.contact)
    if not Ticket.objects.filter(name=name, stage__is_escalation=True).exists():
        services.create_ticket(
            by=users.get("maria", by),
            name=name,
            stage=stages["tech_issues"],
            priority="high",
            owner=users.get("diego"),
            account=account,
            source="internal",
            escalation=services.Escalation(**ESCALATION),
        )
        created += 1
    return created
