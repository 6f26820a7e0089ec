"""Demo inbox: a website chat and a WhatsApp channel, canned responses, templates, and
conversations in the three trays with demo customers. Idempotent: run it as often as you like.

The history is written directly (not through `send_message`), so nothing is queued for delivery:
the WhatsApp channel has no provider connected in the demo.
"""

import datetime

from django.db import transaction
from django.utils import timezone

from atiende.contacts.models import Contact, Label
from atiende.inbox import services
from atiende.inbox.models import (
    CannedResponse,
    Channel,
    ChannelKind,
    Conversation,
    ConversationStatus,
    Message,
    MessageAuthor,
    MessageDirection,
    MessageKind,
    MessageStatus,
    MessageTemplate,
)
from atiende.users.models import Role, Team, User

CANNED = [
    (
        "saludo",
        "Saludo",
        "Hola {{contacto.nombre}}, gracias por escribirnos. Soy {{agente.nombre}}, "
        "¿en qué te puedo ayudar?",
    ),
    (
        "horario",
        "Horario de atención",
        "Nuestro horario de atención es de lunes a viernes de 8:00 a 18:00 y los sábados "
        "de 8:00 a 12:00.",
    ),
    (
        "despedida",
        "Despedida",
        "Gracias por comunicarte con nosotros, {{contacto.nombre}}. ¡Que tengas un buen día!",
    ),
    (
        "documentos",
        "Documentos para un reclamo",
        "Para iniciar el reclamo necesitamos: copia de tu cédula, número de póliza y fotos "
        "del siniestro.",
    ),
]

TEMPLATES = [
    (
        "bienvenida",
        "utility",
        "Hola {{1}}, te escribimos de Atiende Seguros por tu consulta. ¿Seguimos por aquí?",
    ),
    (
        "recordatorio_pago",
        "utility",
        "Hola {{1}}, te recordamos que tu cuota de {{2}} vence pronto. Respondé este mensaje "
        "si necesitás ayuda.",
    ),
]

# (key, channel, tray, assignee, labels, messages); a message is
# (direction "in"/"out"/"note", text, minutes ago, status, extra payload).
CONVERSATIONS = [
    (
        "wa-jose",
        "wa",
        "pending",
        None,
        ["Nuevo"],
        [
            ("in", "Hola, quiero cotizar un seguro para mi auto", 14, "", {}),
            ("in", "Es un Toyota Corolla 2019, uso particular", 12, "", {}),
        ],
    ),
    (
        "web-mariajose",
        "web",
        "pending",
        None,
        [],
        [("in", "Buenas tardes, ¿cuál es el horario de atención en sucursal?", 6, "", {})],
    ),
    (
        "wa-carlos",
        "wa",
        "pending",
        "carlos",
        ["Renovación"],
        [("in", "¿Tienen planes de salud familiares? Somos 4 en casa.", 35, "", {})],
    ),
    (
        "web-ana",
        "web",
        "open",
        "maria",
        ["Reclamo abierto"],
        [
            ("in", "Necesito cambiar la dirección de mi póliza de hogar", 60 * 26, "", {}),
            (
                "out",
                "Hola Ana, claro que sí. ¿Me confirmás la nueva dirección completa?",
                60 * 26 - 3,
                "read",
                {},
            ),
            ("in", "Avda. Mariscal López 1234, Asunción", 50, "", {}),
            (
                "note",
                "@supervisor la clienta pide que el cambio rija desde este mes.",
                45,
                "",
                {},
            ),
            (
                "out",
                "Perfecto, ya registramos el cambio. Te llega la póliza actualizada por correo.",
                40,
                "delivered",
                {},
            ),
        ],
    ),
    (
        "web-ruben",
        "web",
        "open",
        "maria",
        [],
        [
            ("in", "Hola, ¿me pueden enviar el certificado de cobertura?", 90, "", {}),
            ("out", "Hola Rubén, ya te lo preparo.", 85, "read", {}),
            ("in", "Gracias, lo necesito para el banco hoy mismo", 8, "", {}),
        ],
    ),
    (
        "wa-sofia",
        "wa",
        "open",
        "carlos",
        ["VIP"],
        [
            ("in", "Quiero agregar a mi hijo a la póliza de salud", 60 * 3, "", {}),
            ("out", "Hola Sofía, con gusto. ¿Qué edad tiene?", 60 * 3 - 5, "read", {}),
            ("in", "Tiene 17 años", 60 * 2, "", {}),
            (
                "out",
                "Listo, te envío la cotización actualizada en un momento.",
                30,
                "failed",
                {"error": "Número sin WhatsApp activo"},
            ),
        ],
    ),
    (
        "wa-diego",
        "wa",
        "open",
        "carlos",
        [],
        [
            ("in", "Tuve un choque leve, ¿dónde está el taller más cercano?", 25, "", {}),
            (
                "out",
                "",
                20,
                "delivered",
                {
                    "kind": "location",
                    "latitude": -25.2867,
                    "longitude": -57.6470,
                    "name": "Taller asociado Centro",
                },
            ),
            ("in", "Gracias, voy para allá", 18, "", {}),
        ],
    ),
    (
        "web-fernanda",
        "web",
        "resolved",
        "maria",
        [],
        [
            ("in", "¿Puedo pagar la cuota con tarjeta?", 60 * 30, "", {}),
            ("out", "Sí, Fernanda: desde la web o en cualquier sucursal.", 60 * 30 - 4, "read", {}),
            ("in", "Genial, gracias", 60 * 29, "", {}),
            ("out", "Gracias por comunicarte con nosotros. ¡Buen día!", 60 * 29 - 1, "read", {}),
        ],
    ),
    (
        "wa-oscar",
        "wa",
        "resolved",
        "carlos",
        [],
        [
            ("in", "Quiero dar de baja el seguro de viaje", 60 * 50, "", {}),
            (
                "out",
                "Hola Óscar, ya quedó cancelado. Te enviamos el comprobante.",
                60 * 49,
                "read",
                {},
            ),
        ],
    ),
    (
        "web-monica",
        "web",
        "resolved",
        "sofia",
        [],
        [
            ("in", "¿Cuándo vence mi póliza?", 60 * 8, "", {}),
            ("out", "Hola Mónica, vence el 30 de este mes.", 60 * 8 - 2, "delivered", {}),
        ],
    ),
]


def _admin() -> User | None:
    return User.objects.filter(role=Role.ADMIN, is_active=True).order_by("id").first()


def _channels(by: User) -> dict[str, Channel]:
    service = Team.objects.filter(name="Servicio").first()
    sales = Team.objects.filter(name="Ventas").first()
    web = Channel.objects.filter(kind=ChannelKind.WEBCHAT, name="Chat web").first()
    if web is None:
        web = services.save_channel(
            by=by,
            name="Chat web",
            kind=ChannelKind.WEBCHAT,
            team=service,
            color="#0e7c86",
            out_of_hours_message="",
        )
    wa = Channel.objects.filter(kind=ChannelKind.WHATSAPP, name="WhatsApp Ventas").first()
    if wa is None:
        # No provider is connected in the demo: the channel shows its history but sends nothing.
        wa = services.save_channel(
            by=by,
            name="WhatsApp Ventas",
            kind=ChannelKind.WHATSAPP,
            team=sales,
            color="#1fa855",
            is_active=False,
            auto_assign=False,
        )
    return {"web": web, "wa": wa}


def _demo_contact(key: str) -> Contact | None:
    """The demo customer named in the conversation key ("wa-ana" → Ana), else any with a phone."""
    from atiende.contacts.demo import CONTACTS, _find

    wanted = key.split("-", 1)[1]
    for spec in CONTACTS:
        if spec["key"] == wanted:
            found = _find(spec)
            if found is not None and found.primary_phone:
                return found
    return Contact.objects.exclude(primary_phone="").order_by("id").first()


def _conversation(key, channel, tray, assignee, labels, messages, contact, now):
    recipient = f"demo-{key}" if channel.kind == ChannelKind.WEBCHAT else contact.primary_phone[1:]
    if Conversation.objects.filter(channel=channel, recipient=recipient).exists():
        return None
    first_at = now - datetime.timedelta(minutes=messages[0][2])
    conversation = Conversation.objects.create(
        contact=contact,
        channel=channel,
        recipient=recipient,
        status=tray,
        assignee=assignee,
        team=channel.team,
    )
    unread = 0
    last_inbound_at = None
    first_response_at = None
    last = None
    for direction, text, minutes, status, extra in messages:
        at = now - datetime.timedelta(minutes=minutes)
        extra = dict(extra)
        kind = extra.pop("kind", MessageKind.NOTE if direction == "note" else MessageKind.TEXT)
        error = extra.pop("error", "")
        inbound = direction == "in"
        message = Message.objects.create(
            conversation=conversation,
            channel=channel,
            direction=MessageDirection.INBOUND if inbound else MessageDirection.OUTBOUND,
            author_kind=MessageAuthor.CONTACT if inbound else MessageAuthor.AGENT,
            author=None if inbound else assignee,
            kind=kind,
            body=text,
            payload=extra,
            external_id=f"demo-{key}-{minutes}" if direction != "note" else "",
            status=MessageStatus.RECEIVED if inbound else (status or MessageStatus.SENT),
            error_code="131026" if error else "",
            error_message=error,
            attempts=4 if error else 1 if not inbound else 0,
        )
        Message.objects.filter(pk=message.pk).update(
            created_at=at,
            sent_at=None if inbound or error else at,
            delivered_at=at if status in ("delivered", "read") else None,
            read_at=at if status == "read" else None,
        )
        if direction == "note":
            continue
        if inbound:
            unread += 1
            last_inbound_at = at
        else:
            unread = 0
            first_response_at = first_response_at or at
        last = (at, text or str(MessageKind(kind).label), inbound)
    Conversation.objects.filter(pk=conversation.pk).update(
        created_at=first_at,
        unread_count=0 if tray == ConversationStatus.RESOLVED else unread,
        awaiting_first_response=first_response_at is None,
        first_response_at=first_response_at,
        last_message_at=last[0],
        last_message_preview=last[1][:160],
        last_message_inbound=last[2],
        last_inbound_at=last_inbound_at,
        assigned_at=first_at if assignee else None,
        resolved_at=last[0] if tray == ConversationStatus.RESOLVED else None,
    )
    conversation.labels.set(Label.objects.filter(name__in=labels))
    return conversation


@transaction.atomic
def seed_inbox(*, by: User | None = None) -> int:
    """Channels, canned responses, templates and demo conversations; returns how many
    conversations were new."""
    by = by or _admin()
    if by is None:
        raise ValueError("seed_inbox needs an admin user: run seed_demo.")
    channels = _channels(by)
    for shortcut, title, body in CANNED:
        if not CannedResponse.objects.filter(shortcut=shortcut, team=None).exists():
            services.save_canned_response(by=by, shortcut=shortcut, title=title, body=body)
    for name, category, body in TEMPLATES:
        if not MessageTemplate.objects.filter(channel=channels["wa"], name=name).exists():
            services.save_template(
                by=by, name=name, body=body, category=category, channel=channels["wa"]
            )
    users = {user.username: user for user in User.objects.filter(is_active=True)}
    now = timezone.now()
    created = 0
    for key, channel_key, tray, assignee, labels, messages in CONVERSATIONS:
        contact = _demo_contact(key)
        if contact is None:
            continue
        made = _conversation(
            key,
            channels[channel_key],
            tray,
            users.get(assignee) if assignee else None,
            labels,
            messages,
            contact,
            now,
        )
        created += made is not None
    return created
