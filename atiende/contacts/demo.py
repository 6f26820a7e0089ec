"""Demo customers for `seed_demo`: an insurer's and lender's book in Paraguay and Colombia.

Deterministic (same people, points, accounts and activities every time; dates relative to today)
and idempotent: a contact that already exists, found by its identification or, for the two
planted duplicates, by name and phone/e-mail, is left alone with everything hanging from it.
Everything is written through the services, so the audit history reads like real work.
"""

import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from atiende.activities import services as activities
from atiende.activities.models import Note, Task
from atiende.contacts import services
from atiende.contacts.models import Contact, ContactGroup, Label
from atiende.core.normalize import fold, identification_key, normalize_phone, phone_key
from atiende.users.models import Role, User

LABELS = [
    ("VIP", "#d4a017"),
    ("Mora 30", "#fd7e14"),
    ("Mora 60", "#dc3545"),
    ("Póliza vencida", "#6f42c1"),
    ("Renovación", "#20c997"),
    ("Reclamo abierto", "#0dcaf0"),
    ("Nuevo", "#198754"),
]

GROUPS = [
    ("Cartera Seguros", "Asegurados con pólizas activas o por renovar."),
    ("Cartera Préstamos", "Clientes con préstamos personales y tarjetas."),
    ("Clientes Colombia", "Cartera de la sucursal de Medellín."),
    ("Empresas", "Personas jurídicas y flotas."),
]


def _policy(number: str, product: str, status: str = "active", **extra: str) -> dict[str, Any]:
    """An account; `días_de_mora="27"` becomes the extra datum "Días de mora": "27"."""
    extra = {key.replace("_", " ").capitalize(): value for key, value in extra.items()}
    return {"number": number, "product": product, "status": status, "extra": extra}


# Phones are (kind, country, as typed): read with that country's rules whatever the
# installation's ATIENDE_PHONE_REGION, and typed in the mixed ways people type them.
CONTACTS: list[dict[str, Any]] = [
    {
        "key": "jose",
        "first_name": "José",
        "last_name": "Núñez",
        "identification": ("ci", "1.234.567"),
        "birth_date": "1978-04-12",
        "phones": [("mobile", "PY", "0981 123 456"), ("phone", "PY", "021 612 345")],
        "emails": ["jose.nunez@gmail.com"],
        "labels": ["VIP", "Renovación"],
        "groups": ["Cartera Seguros"],
        "owner": "maria",
        "accounts": [
            _policy(
                "AUT-2023-00417",
                "Seguro automotor",
                vehículo="Toyota Hilux 2019",
                chapa="AAKX 417",
                vencimiento="2026-03-31",
                prima_mensual="Gs. 480.000",
            ),
            _policy("VID-2021-01102", "Seguro de vida", suma_asegurada="Gs. 250.000.000"),
        ],
    },
    {
        "key": "mariajose",
        "first_name": "María José",
        "last_name": "Giménez",
        "identification": ("ci", "2345678"),
        "birth_date": "1981-09-30",
        "phones": [("whatsapp", "PY", "+595 982 234567")],
        "emails": ["mariajo.gimenez@hotmail.com"],
        "labels": ["VIP"],
        "groups": ["Cartera Seguros"],
        "owner": "maria",
        "accounts": [
            _policy("HOG-2022-00881", "Seguro de hogar", dirección="Av. España 1234, Asunción")
        ],
    },
    {
        "key": "lucia",
        "first_name": "Lucía",
        "last_name": "Benítez",
        "identification": ("ci", "3.456.789"),
        "phones": [("mobile", "PY", "0971-345678")],
        "emails": ["lucia.benitez@yahoo.com"],
        "labels": ["Mora 30"],
        "groups": ["Cartera Préstamos"],
        "owner": "lucia",
        "accounts": [
            _policy(
                "PRE-2024-03310",
                "Préstamo personal",
                "delinquent",
                monto="Gs. 15.000.000",
                cuotas="24",
                cuotas_vencidas="1",
                días_de_mora="27",
            )
        ],
    },
    {
        "key": "carlos",
        "first_name": "Carlos",
        "last_name": "Ortiz",
        "identification": ("ci", "4567890"),
        "phones": [("mobile", "PY", "(0991) 456 789")],
        "emails": ["cortiz@gmail.com"],
        "labels": ["Póliza vencida"],
        "groups": ["Cartera Seguros"],
        "owner": "carlos",
        "accounts": [
            _policy(
                "AUT-2022-00233",
                "Seguro automotor",
                "cancelled",
                vehículo="Kia Picanto 2017",
                vencimiento="2025-08-31",
            )
        ],
    },
    {
        "key": "ana",
        "first_name": "Ana",
        "last_name": "Ramírez",
        "identification": ("ci", "5.678.901"),
        "phones": [("mobile", "PY", "0961.567.890")],
        "emails": ["ana.ramirez@gmail.com"],
        "labels": ["Nuevo"],
        "owner": "sofia",
    },
    {
        "key": "ruben",
        "first_name": "Rubén",
        "last_name": "Villalba",
        "identification": ("ci", "1.987.654"),
        "phones": [("mobile", "PY", "595983678901")],
        "emails": ["ruben.villalba@transportesguarani.com.py"],
        "groups": ["Empresas"],
        "owner": "carlos",
    },
    {
        "key": "sofia",
        "first_name": "Sofía",
        "last_name": "Duarte",
        "identification": ("ci", "6.789.012"),
        "phones": [("whatsapp", "PY", "0972 789012")],
        "labels": ["Mora 60"],
        "groups": ["Cartera Préstamos"],
        "owner": "lucia",
        "accounts": [
            _policy(
                "TAR-4539-7781",
                "Tarjeta de crédito",
                "delinquent",
                límite="Gs. 8.000.000",
                saldo="Gs. 7.420.000",
                días_de_mora="58",
            )
        ],
    },
    {
        "key": "diego",
        "first_name": "Diego",
        "last_name": "Acosta",
        "identification": ("ci", "7890123"),
        "phones": [("mobile", "PY", "0984-890123")],
        "emails": ["diego.acosta@outlook.com"],
        "groups": ["Cartera Seguros"],
        "accounts": [_policy("AUT-2024-01877", "Seguro automotor", vehículo="Nissan Frontier")],
    },
    {
        "key": "fernanda",
        "first_name": "Fernanda",
        "last_name": "Báez",
        "identification": ("ci", "2.109.876"),
        "phones": [("mobile", "PY", "0992 901 234")],
        "emails": ["fer.baez@gmail.com"],
        "labels": ["Reclamo abierto"],
        "owner": "maria",
        "accounts": [
            _policy(
                "HOG-2023-00512",
                "Seguro de hogar",
                siniestro="Filtración de agua",
                fecha_siniestro="2025-10-02",
            )
        ],
    },
    {
        "key": "oscar",
        "first_name": "Óscar",
        "last_name": "Cáceres",
        "identification": ("ci", "3210987"),
        "phones": [("mobile", "PY", "+595-985-012345")],
        "labels": ["Mora 30"],
        "groups": ["Cartera Préstamos"],
        "owner": "lucia",
        "accounts": [
            _policy(
                "PRE-2023-02954",
                "Préstamo personal",
                "delinquent",
                monto="Gs. 9.500.000",
                cuotas="18",
                cuotas_vencidas="1",
                días_de_mora="14",
            )
        ],
    },
    {
        "key": "monica",
        "first_name": "Mónica",
        "last_name": "Ayala",
        "identification": ("ci", "4.321.098"),
        "phones": [("mobile", "PY", "0973 112233")],
        "emails": ["monica.ayala@gmail.com"],
        "groups": ["Cartera Seguros"],
        "accounts": [_policy("VID-2020-00077", "Seguro de vida")],
    },
    {
        "key": "hector",
        "first_name": "Héctor",
        "last_name": "González",
        "identification": ("ci", "5432109"),
        "phones": [("mobile", "PY", "0994-223344")],
        "labels": ["VIP"],
        "groups": ["Cartera Seguros", "Cartera Préstamos"],
        "owner": "sofia",
        "accounts": [
            _policy("AUT-2021-00098", "Seguro automotor", vehículo="BMW X3 2022"),
            _policy("PRE-2022-01120", "Préstamo personal", "closed", monto="Gs. 40.000.000"),
        ],
    },
    {
        "key": "gladys",
        "first_name": "Gladys",
        "last_name": "Martínez",
        "identification": ("ci", "654.321"),
        "birth_date": "1952-01-20",
        "phones": [("phone", "PY", "021 498 765"), ("mobile", "PY", "0986 334455")],
        "groups": ["Cartera Seguros"],
        "owner": "maria",
        "accounts": [_policy("VID-2015-00004", "Seguro de vida", suma_asegurada="Gs. 100.000.000")],
    },
    {
        "key": "liz",
        "first_name": "Liz",
        "last_name": "Romero Martínez",
        "identification": ("ci", "4.876.543"),
        "phones": [("whatsapp", "PY", "0975 445566")],
        "emails": ["liz.romero@gmail.com"],
        "owner": "maria",
    },
    {
        "key": "raul",
        "first_name": "Raúl",
        "last_name": "Fernández",
        "identification": ("ci", "3.333.444"),
        "phones": [("mobile", "PY", "0981 556677")],
        "labels": ["Póliza vencida", "Renovación"],
        "groups": ["Cartera Seguros"],
        "owner": "carlos",
        "accounts": [
            _policy(
                "AUT-2022-00640",
                "Seguro automotor",
                "suspended",
                vehículo="Hyundai Tucson 2020",
                vencimiento="2025-11-15",
            )
        ],
    },
    {
        "key": "nelida",
        "first_name": "Nélida",
        "last_name": "Insfrán",
        "identification": ("ci", "1.122.334"),
        "phones": [("mobile", "PY", "0995 667788")],
        "labels": ["Mora 60"],
        "groups": ["Cartera Préstamos"],
        "owner": "lucia",
        "accounts": [
            _policy(
                "PRE-2023-01999",
                "Préstamo personal",
                "delinquent",
                monto="Gs. 6.000.000",
                cuotas_vencidas="2",
                días_de_mora="44",
            )
        ],
    },
    {
        "key": "hugo",
        "first_name": "Hugo",
        "last_name": "Sanabria",
        "identification": ("ci", "2.233.445"),
        "phones": [("mobile", "PY", "0982-778899")],
        "emails": ["hsanabria@gmail.com"],
    },
    {
        "key": "patricia",
        "first_name": "Patricia",
        "last_name": "Rolón",
        "identification": ("ci", "3344556"),
        "phones": [("whatsapp", "PY", "595 976 889900")],
        "emails": ["patricia.rolon@gmail.com"],
        "labels": ["Nuevo"],
        "owner": "sofia",
    },
    {
        "key": "andres",
        "first_name": "Andrés",
        "last_name": "Cardozo",
        "identification": ("ci", "4.455.667"),
        "phones": [("mobile", "PY", "0987 990011")],
        "groups": ["Cartera Seguros"],
        "accounts": [_policy("HOG-2024-00300", "Seguro de hogar")],
    },
    {
        "key": "veronica",
        "first_name": "Verónica",
        "last_name": "Escobar",
        "identification": ("ci", "5.566.778"),
        "phones": [("mobile", "PY", "0991 102030")],
        "emails": ["vero.escobar@gmail.com"],
        "labels": ["Reclamo abierto"],
        "owner": "maria",
        "accounts": [_policy("AUT-2023-00999", "Seguro automotor", siniestro="Choque leve")],
    },
    {
        "key": "marcos",
        "first_name": "Marcos",
        "last_name": "Rojas",
        "identification": ("ci", "6677889"),
        "phones": [("mobile", "PY", "0961 203040")],
        "labels": ["Mora 30"],
        "groups": ["Cartera Préstamos"],
        "owner": "lucia",
        "accounts": [
            _policy(
                "TAR-5241-0032",
                "Tarjeta de crédito",
                "delinquent",
                saldo="Gs. 2.310.000",
                días_de_mora="21",
            )
        ],
    },
    {
        "key": "celeste",
        "first_name": "Celeste",
        "last_name": "Aquino",
        "identification": ("ci", "7.788.990"),
        "phones": [("mobile", "PY", "0984 304050")],
        "emails": ["celeste.aquino@gmail.com"],
    },
    {
        "key": "ivan",
        "first_name": "Iván",
        "last_name": "Paredes",
        "identification": ("ci", "8.899.001"),
        "phones": [("mobile", "PY", "0985 405060")],
        "groups": ["Cartera Seguros"],
        "accounts": [_policy("VID-2024-00210", "Seguro de vida")],
    },
    {
        "key": "rocio",
        "first_name": "Rocío",
        "last_name": "Vera",
        "identification": ("ci", "9.900.112"),
        "phones": [("whatsapp", "PY", "+595 971 506070")],
        "labels": ["VIP"],
        "owner": "sofia",
    },
    {
        "key": "tomas",
        "first_name": "Tomás",
        "last_name": "Franco",
        "identification": ("ci", "1.029.384"),
        "phones": [("mobile", "PY", "0982 607080")],
        "emails": ["tomas.franco@gmail.com"],
        "labels": ["Renovación"],
        "groups": ["Cartera Seguros"],
        "owner": "carlos",
        "accounts": [_policy("AUT-2021-00550", "Seguro automotor", vencimiento="2026-01-31")],
    },
    {
        "key": "gustavo",
        "first_name": "Gustavo",
        "last_name": "Benítez Ocampos",
        "identification": ("ci", "2.718.281"),
        "phones": [("mobile", "PY", "+595 (981) 314-159")],
        "emails": ["gbenitez@gmail.com"],
        "labels": ["Mora 30"],
        "groups": ["Cartera Préstamos"],
        "owner": "lucia",
        "accounts": [
            _policy(
                "PRE-2024-04410",
                "Préstamo personal",
                "delinquent",
                monto="Gs. 4.500.000",
                cuotas_vencidas="1",
                días_de_mora="9",
            )
        ],
    },
    # Companies.
    {
        "key": "transportes",
        "company": "Transportes Guaraní S.A.",
        "identification": ("ruc", "80012345-6"),
        "phones": [("phone", "PY", "+595 21 600 100")],
        "emails": ["administracion@transportesguarani.com.py"],
        "labels": ["VIP"],
        "groups": ["Empresas"],
        "owner": "carlos",
        "accounts": [
            _policy(
                "FLO-2022-00012",
                "Seguro de flota",
                vehículos="14",
                prima_mensual="Gs. 6.200.000",
            )
        ],
    },
    {
        "key": "nanduti",
        "company": "Agroganadera Ñandutí S.R.L.",
        "identification": ("ruc", "80098765-1"),
        "phones": [("mobile", "PY", "0983 678 901")],
        "groups": ["Empresas"],
    },
    {
        "key": "andina",
        "company": "Distribuidora Andina S.A.S.",
        "identification": ("nit", "900.123.456-7"),
        "phones": [("phone", "CO", "604 444 5566")],
        "emails": ["compras@distriandina.com.co"],
        "groups": ["Empresas", "Clientes Colombia"],
    },
    # Colombia.
    {
        "key": "camilo",
        "first_name": "Camilo",
        "last_name": "Restrepo",
        "identification": ("cc", "1.020.304.050"),
        "phones": [("mobile", "CO", "300 123 4567")],
        "emails": ["camilo.restrepo@gmail.com"],
        "groups": ["Clientes Colombia"],
        "owner": "sofia",
        "accounts": [_policy("CO-AUT-7781", "Seguro automotor", placa="KXT-512")],
    },
    {
        "key": "valentina",
        "first_name": "Valentina",
        "last_name": "Gómez",
        "identification": ("cc", "52.123.456"),
        "phones": [("whatsapp", "CO", "+57 310 234 5678")],
        "emails": ["valentina.gomez@gmail.com"],
        "labels": ["VIP"],
        "groups": ["Clientes Colombia"],
        "owner": "sofia",
    },
    {
        "key": "santiago",
        "first_name": "Santiago",
        "last_name": "Muñoz",
        "identification": ("cc", "79.456.123"),
        "phones": [("mobile", "CO", "(315) 345-6789")],
        "labels": ["Mora 30"],
        "groups": ["Clientes Colombia", "Cartera Préstamos"],
        "owner": "lucia",
        "accounts": [
            _policy(
                "CO-PRE-3021",
                "Crédito de libre inversión",
                "delinquent",
                monto="COP 12.000.000",
                días_de_mora="33",
            )
        ],
    },
    {
        "key": "daniela",
        "first_name": "Daniela",
        "last_name": "Castaño",
        "identification": ("cc", "1.036.987.654"),
        "phones": [("mobile", "CO", "57 320 456 7890")],
        "emails": ["dani.castano@hotmail.com"],
        "groups": ["Clientes Colombia"],
    },
    {
        "key": "andresfelipe",
        "first_name": "Andrés Felipe",
        "last_name": "Ríos",
        "identification": ("cc", "1.017.223.344"),
        "phones": [("mobile", "CO", "301-567-8901")],
        "labels": ["Nuevo"],
        "groups": ["Clientes Colombia"],
    },
    {
        "key": "juliana",
        "first_name": "Juliana",
        "last_name": "Ospina",
        "identification": ("cc", "43.765.098"),
        "phones": [("mobile", "CO", "311 678 9012"), ("phone", "CO", "601 234 5678")],
        "emails": ["juliana.ospina@gmail.com"],
        "labels": ["Póliza vencida"],
        "groups": ["Clientes Colombia"],
        "owner": "sofia",
        "accounts": [_policy("CO-HOG-1180", "Seguro de hogar", "cancelled")],
    },
    {
        "key": "mateo",
        "first_name": "Mateo",
        "last_name": "Londoño",
        "identification": ("cc", "1.152.443.221"),
        "phones": [("whatsapp", "CO", "316 789 0123")],
        "groups": ["Clientes Colombia"],
    },
    {
        "key": "laura",
        "first_name": "Laura",
        "last_name": "Cárdenas",
        "identification": ("passport", "AB123456"),
        "phones": [("mobile", "PY", "0976 112 358")],
        "emails": ["laura.cardenas@gmail.com"],
        "labels": ["Nuevo"],
    },
    {
        "key": "carolina",
        "first_name": "Carolina",
        "last_name": "Pérez",
        "identification": ("cc", "1.128.456.789"),
        "phones": [("whatsapp", "CO", "+57 (300) 987-6543")],
        "emails": ["carolina.perez@gmail.com"],
        "labels": ["Renovación"],
        "groups": ["Clientes Colombia", "Cartera Seguros"],
        "owner": "sofia",
        "accounts": [_policy("CO-VID-0420", "Seguro de vida", beneficiarios="2")],
    },
    # The planted duplicates, for the merge demo: typed in again by someone who did not search.
    {
        "key": "jose_dup",
        "first_name": "Jose",
        "last_name": "Nunez",
        "phones": [("whatsapp", "PY", "595981123456")],  # José Núñez's 0981 123 456
        "emails": ["jnunez@hotmail.com"],
        "owner": "carlos",
        "accounts": [_policy("AUT-2025-00031", "Seguro automotor", vehículo="Moto Kenton 2024")],
    },
    {
        "key": "valentina_dup",
        "first_name": "Valentina",
        "last_name": "Gomez",
        "phones": [("mobile", "CO", "310 2345678")],  # Valentina Gómez's +57 310 234 5678
        "emails": ["VALENTINA.GOMEZ@gmail.com"],
    },
]

RELATIONS = [
    ("jose", "mariajose", "Cónyuge"),
    ("gladys", "liz", "Titular — beneficiaria"),
    ("transportes", "ruben", "Representante legal"),
    ("camilo", "valentina", "Hermanos"),
]

NOTES = [
    "Consultó por la renovación; prefiere pagar en cuotas.",
    "Pidió copia de la póliza por correo electrónico.",
    "Reclama demora en la inspección del vehículo.",
    "Actualizó su dirección de cobro.",
    "Se le explicó la cobertura de responsabilidad civil.",
    "Promete pagar la cuota vencida el viernes.",
    "Escribió por WhatsApp fuera de horario; se le respondió al día siguiente.",
]

TASKS = [
    "Enviar cotización de renovación",
    "Llamar para confirmar el pago",
    "Solicitar fotos del siniestro",
    "Verificar comprobante de transferencia",
]

CALL_OUTCOMES = ["answered", "no_answer", "answered", "busy", "callback", "voicemail"]


def _find(spec: dict[str, Any]) -> Contact | None:
    """The demo contact if it is already there: by identification, else by name and first point."""
    if "identification" in spec:
        kind, number = spec["identification"]
        return Contact.objects.filter(
            identification_type=kind, identification_key=identification_key(number)
        ).first()
    name = fold(f"{spec.get('first_name', '')} {spec.get('last_name', '')}")
    kind, region, raw = spec["phones"][0]
    return Contact.objects.filter(
        identification_key="",
        search_name=name,
        points__search_value=phone_key(normalize_phone(raw, region)),
    ).first()


def _points(spec: dict[str, Any]) -> list[services.PointInput]:
    points = [
        services.PointInput(kind=kind, value=normalize_phone(raw, region))
        for kind, region, raw in spec.get("phones", ())
    ]
    points += [services.PointInput(kind="email", value=email) for email in spec.get("emails", ())]
    return points


def _activities(contact: Contact, index: int, user: User, now: datetime.datetime) -> None:
    """A few notes, a task and calls, spread over the last weeks, the same for the same index."""
    for n in range(index % 3):
        note = activities.add_note(contact=contact, body=NOTES[(index + n) % len(NOTES)], by=user)
        Note.objects.filter(pk=note.pk).update(
            created_at=now - datetime.timedelta(days=(index + 2 * n) % 20 + 1, hours=n)
        )
    if index % 4 == 1:
        task = activities.create_task(
            by=user,
            contact=contact,
            title=TASKS[index % len(TASKS)],
            due_at=now + datetime.timedelta(days=index % 5 - 2),
            assignee=user,
        )
        Task.objects.filter(pk=task.pk).update(
            created_at=now - datetime.timedelta(days=index % 7 + 1)
        )
        if index % 8 == 1:
            activities.set_task_done(task=task, done=True, by=user)
    for n in range(index % 2 + (index % 5 == 0)):
        outcome = CALL_OUTCOMES[(index + n) % len(CALL_OUTCOMES)]
        activities.log_call(
            contact=contact,
            by=user,
            direction="outbound" if (index + n) % 3 else "inbound",
            outcome=outcome,
            duration_seconds=(60 + 37 * index) % 600 if outcome == "answered" else 0,
            note="Cliente atendido." if outcome == "answered" else "",
            at=now - datetime.timedelta(days=(index * 3 + n) % 25, hours=index % 9 + 1),
        )


@transaction.atomic
def seed_contacts(*, by: User | None = None) -> int:
    """Create the demo labels, groups and customers that are missing; return how many were new."""
    by = by or User.objects.filter(role=Role.ADMIN, is_active=True).order_by("id").first()
    if by is None:
        raise ValueError("seed_contacts needs an admin user: run seed_demo.")
    for name, color in LABELS:
        if not Label.objects.filter(name=name).exists():
            services.save_label(by=by, name=name, color=color)
    for name, description in GROUPS:
        if not ContactGroup.objects.filter(name=name).exists():
            services.save_group(by=by, name=name, description=description)
    labels = {label.name: label for label in Label.objects.all()}
    groups = {group.name: group for group in ContactGroup.objects.all()}
    users = {user.username: user for user in User.objects.filter(is_active=True)}

    now = timezone.now()
    contacts: dict[str, Contact] = {}
    new: set[str] = set()
    for index, spec in enumerate(CONTACTS):
        contact = _find(spec)
        if contact is None:
            owner = users.get(spec.get("owner", ""))
            kind, number = spec.get("identification", ("", ""))
            contact = services.create_contact(
                by=by,
                first_name=spec.get("first_name", ""),
                last_name=spec.get("last_name", ""),
                company=spec.get("company", ""),
                identification_type=kind,
                identification_number=number,
                birth_date=datetime.date.fromisoformat(spec["birth_date"])
                if "birth_date" in spec
                else None,
                points=_points(spec),
                assigned_to=owner,
                labels=[labels[name] for name in spec.get("labels", ())],
                groups=[groups[name] for name in spec.get("groups", ())],
            )
            # Spread the customers over the last months, as a real book would be.
            Contact.objects.filter(pk=contact.pk).update(
                created_at=now - datetime.timedelta(days=(index * 7) % 180 + 1)
            )
            for account in spec.get("accounts", ()):
                services.save_account(contact=contact, by=owner or by, **account)
            _activities(contact, index, owner or by, now)
            new.add(spec["key"])
        contacts[spec["key"]] = contact

    for left, right, description in RELATIONS:
        if left in new or right in new:
            services.relate_contacts(
                contact=contacts[left], other=contacts[right], labels=description, by=by
            )
    return len(new)
