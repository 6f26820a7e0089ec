"""Synthetic contact-centre data at a chosen scale, reproducible from a seed and loaded fast.

Rows are written with bulk statements (SQLite: `executemany` in one transaction with the load
PRAGMAs; PostgreSQL: `COPY … FROM STDIN` through psycopg) instead of per-row ORM saves, but they
are the rows the app's services would write: phones stored E.164 with the `phone_key` the search
uses, e-mails lower-cased, `search_name`/`identification_key` folded by `atiende.core.normalize`,
the contact's denormalised primaries, the conversation's tray columns taken from its last message.
Audit history is not generated (it is what happened, not what is).
"""

from __future__ import annotations

import bisect
import itertools
import json
import random
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import phonenumbers
from django.contrib.auth.hashers import make_password
from django.db import connection, models

from atiende.contacts.models import Account, Contact, ContactPoint, Label
from atiende.core.normalize import fold, identification_key, normalize_phone, phone_key
from atiende.inbox.models import Channel, Conversation, Message
from atiende.tickets.models import Stage, Ticket
from atiende.users.models import Team, User

# Bump when the generated rows change: a cached dataset of another version is rebuilt.
VERSION = 4
BENCH_PASSWORD = "bench-Atiende-2026"
AGENTS = 200
BENCH_ADMIN = "bench-admin"


@dataclass(frozen=True)
class Scale:
    contacts: int
    conversations: int
    messages: int
    tickets: int


SCALES: dict[str, Scale] = {
    "smoke": Scale(contacts=200, conversations=100, messages=1_000, tickets=200),
    "small": Scale(contacts=100_000, conversations=50_000, messages=500_000, tickets=100_000),
    # Between the two, for a PostgreSQL run that must fit a time box (documented where used).
    "medium": Scale(contacts=300_000, conversations=150_000, messages=1_500_000, tickets=300_000),
    "large": Scale(
        contacts=1_000_000, conversations=500_000, messages=5_000_000, tickets=1_000_000
    ),
}

FIRST_NAMES = [
    "María",
    "José",
    "Juan",
    "Carlos",
    "Ana",
    "Luis",
    "Lucía",
    "Jorge",
    "Sofía",
    "Diego",
    "Valentina",
    "Andrés",
    "Camila",
    "Miguel",
    "Gabriela",
    "Fernando",
    "Daniela",
    "Ricardo",
    "Paola",
    "Alejandro",
    "Natalia",
    "Sebastián",
    "Carolina",
    "Mateo",
    "Florencia",
    "Martín",
    "Rocío",
    "Nicolás",
    "Belén",
    "Pablo",
    "Lorena",
    "Hernán",
    "Mónica",
    "Gustavo",
    "Verónica",
    "Raúl",
    "Patricia",
    "Héctor",
    "Adriana",
    "Óscar",
    "Silvia",
    "Emilio",
    "Liliana",
    "Ramón",
    "Noelia",
    "Tomás",
    "Celeste",
    "Joaquín",
    "Araceli",
    "Rodrigo",
    "Fátima",
    "Ángel",
    "Mercedes",
    "Ignacio",
    "Graciela",
    "Víctor",
    "Estela",
    "Julio",
    "Nélida",
    "Félix",
    "Inés",
    "Agustín",
    "Zunilda",
]
LAST_NAMES = [
    "González",
    "Benítez",
    "Martínez",
    "López",
    "Giménez",
    "Vera",
    "Duarte",
    "Rodríguez",
    "Fernández",
    "Núñez",
    "Ramírez",
    "Acosta",
    "Villalba",
    "Ortiz",
    "Báez",
    "Sosa",
    "Rojas",
    "Cáceres",
    "Ayala",
    "Franco",
    "Gómez",
    "Torres",
    "Díaz",
    "Pérez",
    "Sánchez",
    "Romero",
    "Álvarez",
    "Ruiz",
    "Morales",
    "Castro",
    "Ortega",
    "Delgado",
    "Chávez",
    "Cabrera",
    "Ríos",
    "Mendoza",
    "Aguilar",
    "Valdez",
    "Ibáñez",
    "Medina",
    "Herrera",
    "Vargas",
    "Castillo",
    "Jiménez",
    "Muñoz",
    "Peña",
    "Guerrero",
    "Rivera",
    "Colón",
    "Cruz",
    "Santiago",
    "Rosario",
    "Maldonado",
    "Cardona",
    "Quintero",
    "Ospina",
    "Restrepo",
    "Zapata",
    "Cárdenas",
    "Galeano",
    "Insfrán",
    "Ojeda",
    "Arévalo",
    "Cantero",
    "Figueredo",
    "Escobar",
    "Cuevas",
    "Paredes",
    "Bogado",
    "Amarilla",
    "Espínola",
]
COMPANIES = ("", "", "", "", "Seguros del Sur S.A.", "Distribuidora Central", "Agro Norte SRL")
EMAIL_DOMAINS = ("gmail.com", "hotmail.com", "yahoo.com", "outlook.com", "tigo.com.py")
LABELS = [
    ("VIP", "#d63384"),
    ("Reclamo", "#dc3545"),
    ("Renovación", "#0d6efd"),
    ("Mora 30", "#fd7e14"),
    ("Mora 60", "#e35d00"),
    ("Mora 90+", "#842029"),
    ("Nuevo cliente", "#198754"),
    ("Cotización", "#6f42c1"),
    ("Siniestro", "#6c757d"),
    ("Referido", "#20c997"),
]
PRODUCTS = ("Seguro automotor", "Seguro de vida", "Seguro de hogar", "Préstamo personal", "Tarjeta")
INBOUND_TEXTS = (
    "Hola, buenas tardes",
    "Quisiera saber el estado de mi póliza",
    "¿Cuánto es la cuota de este mes?",
    "Ya realicé el pago, les paso el comprobante",
    "Necesito cambiar la dirección de cobro",
    "Tuve un choque, ¿qué tengo que hacer?",
    "¿Me pueden llamar por favor?",
    "Gracias por la atención",
    "No me llegó la factura",
    "Quiero cotizar un seguro para mi auto",
)
OUTBOUND_TEXTS = (
    "¡Hola! Gracias por escribirnos, ¿en qué podemos ayudarte?",
    "Enseguida lo verificamos",
    "Tu póliza está vigente hasta fin de año",
    "Recibimos el comprobante, muchas gracias",
    "Te enviamos el detalle por correo",
    "¿Nos confirmás tu número de cédula?",
    "Un asesor te contactará hoy",
    "Quedamos atentos a cualquier consulta",
)
TICKET_NAMES = (
    "Consulta por cobertura",
    "Cambio de forma de pago",
    "Reclamo por demora en siniestro",
    "Solicitud de endoso",
    "Error en la factura",
    "Renovación de póliza",
    "Baja de tarjeta",
    "La app no muestra la cuota",
)
CHANNELS = [
    ("WhatsApp Servicio", "whatsapp"),
    ("WhatsApp Cobranza", "whatsapp"),
    ("Messenger", "messenger"),
    ("Instagram", "instagram"),
    ("Chat web", "webchat"),
    ("Correo soporte", "email"),
    ("SMS", "sms"),
]
TEAMS = ["Servicio", "Ventas", "Cobranza", "Tech"]
DAY = 86_400
SPAN = 90 * DAY

# Phones by construction (country code, prefixes of the national number, digits after it);
# every prefix is checked against libphonenumber before use, and samples against the app.
PHONE_PLANS = {
    "PY": (
        "595",
        [
            "961",
            "971",
            "972",
            "973",
            "975",
            "976",
            "981",
            "982",
            "983",
            "984",
            "985",
            "986",
            "991",
            "992",
            "993",
            "994",
            "995",
        ],
        6,
    ),
    "PY-fijo": ("595", ["21"], 6),
    "CO": (
        "57",
        [
            "300",
            "301",
            "302",
            "304",
            "310",
            "311",
            "312",
            "313",
            "314",
            "315",
            "316",
            "317",
            "318",
            "320",
            "321",
            "350",
        ],
        7,
    ),
    "PR": ("1", ["787", "939"], 7),
}


class PhoneMaker:
    """E.164 numbers and their search keys without parsing each one (1M parses take minutes)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.plans: dict[str, tuple[str, list[str], int]] = {}
        for name, (cc, prefixes, rest) in PHONE_PLANS.items():
            good = [p for p in prefixes if self._prefix_ok(cc, p, rest)]
            if good:
                self.plans[name] = (cc, good, rest)
        self.checked = 0

    def _prefix_ok(self, cc: str, prefix: str, rest: int) -> bool:
        probe = random.Random(prefix)
        for _ in range(20):
            digits = (
                prefix
                + str(probe.randint(2, 9))
                + "".join(str(probe.randint(0, 9)) for _ in range(rest - 1))
            )
            if not phonenumbers.is_valid_number(phonenumbers.parse("+" + cc + digits)):
                return False
        return True

    def make(self, plan: str) -> tuple[str, str]:
        """(E.164, phone_key) for a random number of `plan`."""
        cc, prefixes, rest = self.plans[plan]
        rng = self.rng
        tail = str(rng.randrange(10 ** (rest - 1))).zfill(rest - 1)
        nsn = rng.choice(prefixes) + str(rng.randint(2, 9)) + tail
        e164 = f"+{cc}{nsn}"
        self.checked += 1
        if self.checked % 997 == 1:  # the app's own normalisation must agree
            assert normalize_phone(e164) == e164, e164
            assert phone_key(e164) == nsn, (e164, phone_key(e164), nsn)
        return e164, nsn


# --- writers -----------------------------------------------------------------------------


class Writer:
    """Bulk rows into one table at a time; SQLite and PostgreSQL flavours."""

    vendor = ""

    def ts(self, epoch: float) -> str:
        raise NotImplementedError

    def write(self, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
        raise NotImplementedError

    def commit(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class SqliteWriter(Writer):
    vendor = "sqlite"

    def __init__(self, path: str) -> None:
        self.db = sqlite3.connect(path, isolation_level=None)
        for pragma in (
            "journal_mode=WAL",
            "synchronous=OFF",
            "cache_size=-262144",
            "temp_store=MEMORY",
            "foreign_keys=OFF",
        ):
            self.db.execute(f"PRAGMA {pragma}")
        self.db.execute("BEGIN")

    def ts(self, epoch: float) -> str:
        # Django stores naive UTC "YYYY-MM-DD HH:MM:SS.ffffff" on SQLite.
        whole = int(epoch)
        micro = int((epoch - whole) * 1e6)
        return f"{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(whole))}.{micro:06d}"

    def write(self, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
        marks = ",".join("?" * len(columns))
        cols = ",".join(f'"{c}"' for c in columns)
        self.db.executemany(f'INSERT INTO "{table}" ({cols}) VALUES ({marks})', rows)

    def commit(self) -> None:
        self.db.execute("COMMIT")
        self.db.execute("BEGIN")

    def close(self) -> None:
        self.db.execute("COMMIT")
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.db.execute("ANALYZE")
        self.db.close()


class PostgresWriter(Writer):
    vendor = "postgresql"

    def __init__(self, dsn: str) -> None:
        import psycopg

        self.db = psycopg.connect(dsn)
        self.db.execute("SET synchronous_commit = off")
        self.db.execute("SET maintenance_work_mem = '512MB'")
        self.db.commit()
        try:
            # The rows are consistent by construction (bench/tests/test_data.py checks them):
            # skip the per-row foreign-key triggers, which cost more than the COPY itself.
            self.db.execute("SET session_replication_role = replica")
            self.db.commit()
        except psycopg.Error:
            self.db.rollback()  # not a superuser: load with the checks
        self.tables: set[str] = set()
        self.dropped: list[str] = []

    def _drop_indexes(self, table: str) -> None:
        """Secondary indexes are dropped before the first row and rebuilt once at the end (one
        sort per index instead of a b-tree insert per row); constraint-backed ones stay."""
        rows = self.db.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i "
            "WHERE i.schemaname = current_schema() AND i.tablename = %s AND NOT EXISTS ("
            "  SELECT 1 FROM pg_constraint c WHERE c.conindid = "
            "  (quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))::regclass)",
            [table],
        ).fetchall()
        for name, definition in rows:
            self.db.execute(f'DROP INDEX "{name}"')
            self.dropped.append(definition)

    def ts(self, epoch: float) -> str:
        whole = int(epoch)
        micro = int((epoch - whole) * 1e6)
        return f"{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(whole))}.{micro:06d}+00"

    def write(self, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
        if table not in self.tables:
            self._drop_indexes(table)
            self.tables.add(table)
        cols = ",".join(f'"{c}"' for c in columns)
        with self.db.cursor() as cursor, cursor.copy(f'COPY "{table}" ({cols}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)

    def commit(self) -> None:
        self.db.commit()

    def close(self) -> None:
        self.db.commit()
        for definition in self.dropped:
            self.db.execute(definition)
            self.db.commit()
        with self.db.cursor() as cursor:
            for table in sorted(self.tables):
                # Explicit ids were loaded: move each serial past them, as inserts would have.
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                    f'COALESCE((SELECT MAX(id) FROM "{table}"), 1))'
                )
            self.db.commit()
        self.db.autocommit = True
        for table in sorted(self.tables):
            self.db.execute(f'VACUUM ANALYZE "{table}"')
        self.db.close()


class Table:
    """Buffered loader for one model's table: the columns given, plus every other concrete
    column at the default the model would give it (auto_now fields at load time)."""

    BATCH = 20_000

    def __init__(
        self, writer: Writer, model: type[models.Model], columns: Sequence[str], progress: Progress
    ) -> None:
        self.writer, self.progress = writer, progress
        self.table = model._meta.db_table
        self.columns = list(columns)
        now = writer.ts(time.time())
        tail_cols, tail = [], []
        for field in model._meta.concrete_fields:
            if field.attname in self.columns:
                continue
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                value: Any = now
            elif field.has_default():
                value = field.get_default()
                if isinstance(value, dict | list):
                    value = json.dumps(value)
                elif callable(getattr(value, "isoformat", None)):
                    value = writer.ts(value.timestamp())
            elif field.null:
                value = None
            elif isinstance(field, models.CharField | models.TextField):
                value = ""
            else:
                raise ValueError(f"{self.table}.{field.attname} needs a value")
            tail_cols.append(field.column)
            tail.append(value)
        attnames = {f.attname: f.column for f in model._meta.concrete_fields}
        self.all_columns = [attnames[c] for c in self.columns] + tail_cols
        self.tail = tuple(tail)
        self.rows: list[tuple] = []
        self.count = 0

    def add(self, row: tuple) -> None:
        self.rows.append(row + self.tail)
        if len(self.rows) >= self.BATCH:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            self.writer.write(self.table, self.all_columns, self.rows)
            self.count += len(self.rows)
            self.progress.tick(len(self.rows))
            self.rows = []


class Through:
    """A many-to-many table (id, left, right)."""

    def __init__(self, writer: Writer, field: models.ManyToManyField, progress: Progress) -> None:
        through = field.remote_field.through
        self.writer, self.progress = writer, progress
        self.table = through._meta.db_table
        self.columns = ["id", field.m2m_column_name(), field.m2m_reverse_name()]
        self.rows: list[tuple] = []
        self.next_id = 1
        self.count = 0

    def add(self, left: int, right: int) -> None:
        self.rows.append((self.next_id, left, right))
        self.next_id += 1
        if len(self.rows) >= Table.BATCH:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            self.writer.write(self.table, self.columns, self.rows)
            self.count += len(self.rows)
            self.progress.tick(len(self.rows))
            self.rows = []


class Progress:
    """Rows/s printed while loading, so a long load shows it is alive."""

    def __init__(self, out: Callable[[str], None] = print) -> None:
        self.out = out
        self.started = self.last = time.perf_counter()
        self.rows = 0
        self.stage = ""

    def phase(self, name: str) -> None:
        self.stage = name
        self.out(f"  · {name}…")

    def tick(self, n: int) -> None:
        self.rows += n
        now = time.perf_counter()
        if now - self.last >= 5:
            self.last = now
            rate = self.rows / (now - self.started)
            self.out(f"    {self.stage}: {self.rows:,} filas, {rate:,.0f} filas/s")

    def done(self) -> float:
        elapsed = time.perf_counter() - self.started
        self.out(
            f"  datos cargados: {self.rows:,} filas en {elapsed:.1f} s "
            f"({self.rows / max(elapsed, 1e-9):,.0f} filas/s)"
        )
        return elapsed


# --- the generator -----------------------------------------------------------------------


def _split(total: int, parts: int, rng: random.Random, spread: float = 0.8) -> Iterable[int]:
    """`parts` positive counts summing to `total`, each around the mean."""
    mean = total / parts
    low, high = max(1, int(mean * (1 - spread))), max(1, int(mean * (1 + spread)))
    left = total
    for i in range(parts):
        remaining = parts - i - 1
        if remaining == 0:
            yield max(1, left)
            return
        n = min(rng.randint(low, high), max(1, left - remaining))
        left -= n
        yield n


class Weighted:
    """Pick one value by weight; cumulative weights computed once (millions of picks)."""

    def __init__(self, choices: Sequence[tuple[Any, float]]) -> None:
        self.values = [value for value, _weight in choices]
        self.cumulative = list(itertools.accumulate(weight for _value, weight in choices))
        self.total = self.cumulative[-1]

    def pick(self, rng: random.Random) -> Any:
        return self.values[bisect.bisect_right(self.cumulative, rng.random() * self.total)]


# How often each value appears.
AGENT_STATUS = Weighted([("active", 6), ("paused", 1), ("offline", 3)])
COUNTRY = Weighted([("PY", 6), ("CO", 3), ("PR", 1)])
ACCOUNT_STATUS = Weighted(
    [("active", 7), ("delinquent", 1.5), ("suspended", 0.5), ("cancelled", 1)]
)
CONVERSATION_STATUS = Weighted([("resolved", 7), ("open", 2), ("pending", 1)])
OUTBOUND_STATUS = Weighted([("read", 6), ("delivered", 3), ("sent", 1)])
PRIORITY = Weighted([("low", 3), ("medium", 4), ("high", 2), ("urgent", 1)])
SLA_STATE = Weighted([("ok", 6), ("at_risk", 2), ("breached", 2)])
TICKET_SOURCE = Weighted([("email", 3), ("whatsapp", 4), ("chat", 1), ("phone", 2)])


def generate(*, scale: str, seed: int, out: Callable[[str], None] = print) -> dict[str, Any]:
    """Load a dataset of `scale` into the (migrated, empty) database Django is connected to.

    Returns the counts and the ids later scenarios need; the caller records it as the marker."""
    size = SCALES[scale]
    rng = random.Random(seed)
    settings_db = connection.settings_dict
    connection.ensure_connection()
    if connection.vendor == "sqlite":
        connection.close()
        writer: Writer = SqliteWriter(settings_db["NAME"])
    else:
        connection.close()
        writer = PostgresWriter(_pg_dsn(settings_db))
    progress = Progress(out)
    now = time.time()
    phones = PhoneMaker(rng)
    ts = writer.ts
    try:
        ids = _load(writer, progress, rng, size, phones, ts, now)
    except BaseException:
        writer.db.close()
        raise
    writer.close()
    elapsed = progress.done()
    return {**ids, "rows": progress.rows, "load_seconds": round(elapsed, 1)}


def _pg_dsn(s: dict[str, Any]) -> str:
    parts = {
        "dbname": s["NAME"],
        "user": s.get("USER") or "",
        "password": s.get("PASSWORD") or "",
        "host": s.get("HOST") or "",
        "port": str(s.get("PORT") or ""),
    }
    return " ".join(f"{k}={v}" for k, v in parts.items() if v)


def _load(
    writer: Writer,
    progress: Progress,
    rng: random.Random,
    size: Scale,
    phones: PhoneMaker,
    ts: Callable[[float], str],
    now: float,
) -> dict[str, Any]:
    for model in (Contact, Conversation, Message, Ticket):
        if model.objects.exists():
            raise RuntimeError(f"{model._meta.db_table} no está vacía: hace falta una base nueva")
    stages = list(Stage.objects.filter(pipeline__is_default=True).order_by("position"))
    pipeline_id = stages[0].pipeline_id
    base = {
        "users": (User.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1,
        "teams": (Team.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1,
        "labels": (Label.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1,
        "channels": (Channel.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1,
    }
    from django.db import connection as dj

    dj.close()

    # Teams, users (admin, 5 supervisors, 200 agents with one known password).
    progress.phase("usuarios y equipos")
    t_team = Table(writer, Team, ["id", "name", "description"], progress)
    team_ids = []
    for i, name in enumerate(TEAMS):
        team_ids.append(base["teams"] + i)
        t_team.add((base["teams"] + i, f"{name} (bench)", "Equipo del benchmark"))
    t_team.flush()
    password = make_password(BENCH_PASSWORD)
    t_user = Table(
        writer,
        User,
        [
            "id",
            "username",
            "password",
            "display_name",
            "first_name",
            "last_name",
            "email",
            "role",
            "agent_status",
            "is_superuser",
            "is_staff",
            "is_active",
            "date_joined",
            "agent_status_changed_at",
        ],
        progress,
    )
    members = Through(writer, Team._meta.get_field("members"), progress)
    user_id = base["users"]
    joined = ts(now - 120 * DAY)
    t_user.add(
        (
            user_id,
            BENCH_ADMIN,
            password,
            "Admin Bench",
            "Admin",
            "Bench",
            "bench-admin@example.com",
            "admin",
            "active",
            True,
            True,
            True,
            joined,
            joined,
        )
    )
    admin_id = user_id
    for team in team_ids:
        members.add(team, admin_id)
    supervisors, agents, agent_team = [], [], {}
    for i in range(5):
        user_id += 1
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        t_user.add(
            (
                user_id,
                f"bench-supervisor-{i}",
                password,
                f"{first} {last}",
                first,
                last,
                f"bench-supervisor-{i}@example.com",
                "supervisor",
                "active",
                False,
                False,
                True,
                joined,
                joined,
            )
        )
        supervisors.append(user_id)
        for team in team_ids[:3]:
            members.add(team, user_id)
    for i in range(AGENTS):
        user_id += 1
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        status = AGENT_STATUS.pick(rng)
        t_user.add(
            (
                user_id,
                f"bench-agent-{i:03d}",
                password,
                f"{first} {last}",
                first,
                last,
                f"bench-agent-{i:03d}@example.com",
                "agent",
                status,
                False,
                False,
                True,
                joined,
                joined,
            )
        )
        agents.append(user_id)
        team = team_ids[i % 3]  # Servicio, Ventas, Cobranza; Tech gets supervisors' escalations
        agent_team[user_id] = team
        members.add(team, user_id)
    t_user.flush()
    members.flush()

    # Labels and channels.
    t_label = Table(writer, Label, ["id", "name", "color"], progress)
    label_ids = []
    for i, (name, color) in enumerate(LABELS):
        label_ids.append(base["labels"] + i)
        t_label.add((base["labels"] + i, f"{name} (bench)", color))
    t_label.flush()
    t_channel = Table(writer, Channel, ["id", "name", "kind", "team_id", "auto_assign"], progress)
    channels = []
    for i, (name, kind) in enumerate(CHANNELS):
        cid = base["channels"] + i
        channels.append((cid, kind))
        t_channel.add((cid, f"{name} (bench)", kind, team_ids[i % 3], False))
    t_channel.flush()
    writer.commit()

    # Contacts with their points, labels and accounts.
    progress.phase(f"contactos ({size.contacts:,})")
    t_contact = Table(
        writer,
        Contact,
        [
            "id",
            "first_name",
            "last_name",
            "identification_type",
            "identification_number",
            "identification_key",
            "company",
            "assigned_to_id",
            "search_name",
            "primary_phone",
            "primary_email",
            "created_at",
            "updated_at",
            "last_interaction_at",
            "birth_date",
        ],
        progress,
    )
    t_point = Table(
        writer,
        ContactPoint,
        ["id", "contact_id", "kind", "value", "label", "is_primary", "search_value", "created_at"],
        progress,
    )
    t_account = Table(
        writer,
        Account,
        ["id", "contact_id", "number", "product", "status", "created_at", "updated_at"],
        progress,
    )
    contact_labels = Through(writer, Contact._meta.get_field("labels"), progress)
    contact_phone: list[str] = [""] * (size.contacts + 1)  # E.164 (whatsapp recipient)
    point_id = account_id = 0
    first_contact = 1
    for n in range(size.contacts):
        cid = first_contact + n
        first = rng.choice(FIRST_NAMES)
        if rng.random() < 0.3:
            first = f"{first} {rng.choice(FIRST_NAMES)}"
        last = f"{rng.choice(LAST_NAMES)} {rng.choice(LAST_NAMES)}"
        country = COUNTRY.pick(rng)
        if country == "PY":
            id_type, number = "ci", f"{1_000_000 + n:,}".replace(",", ".")
        elif country == "CO":
            id_type, number = "cc", str(10_000_000_000 + n * 7)
        else:
            id_type, number = ("passport", f"PR{n:08d}") if rng.random() < 0.5 else ("", "")
        if rng.random() < 0.1:
            id_type, number = "", ""
        created = now - rng.uniform(91 * DAY, 3 * 365 * DAY)
        created_s = ts(created)
        points: list[tuple[str, str, str, str]] = []  # kind, value, key, label
        e164, key = phones.make(country if country != "PY" or rng.random() < 0.9 else "PY-fijo")
        points.append(("whatsapp" if country != "PR" else "mobile", e164, key, "Personal"))
        if rng.random() < 0.35:
            e164b, keyb = phones.make(country)
            if keyb != key:
                points.append(("mobile", e164b, keyb, "Trabajo"))
        if rng.random() < 0.7:
            user = fold(f"{first.split()[0]}.{last.split()[0]}").replace(" ", "")
            email = f"{user}{n}@{rng.choice(EMAIL_DOMAINS)}"
            points.append(("email", email, email, ""))
        primary_phone = next((p[1] for p in points if p[0] != "email"), "")
        primary_email = next((p[1] for p in points if p[0] == "email"), "")
        seen_kinds: set[str] = set()
        for kind, value, pkey, label in points:
            point_id += 1
            t_point.add(
                (point_id, cid, kind, value, label, kind not in seen_kinds, pkey, created_s)
            )
            seen_kinds.add(kind)
        contact_phone[cid - first_contact + 1] = e164
        birth = None
        if rng.random() < 0.6:
            birth = f"{rng.randint(1950, 2004)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        t_contact.add(
            (
                cid,
                first,
                last,
                id_type,
                number,
                identification_key(number),
                rng.choice(COMPANIES),
                rng.choice(agents) if rng.random() < 0.3 else None,
                fold(f"{first} {last}")[:250],
                primary_phone,
                primary_email,
                created_s,
                created_s,
                None,
                birth,
            )
        )
        if rng.random() < 0.4:
            for label in rng.sample(label_ids, rng.randint(1, 2)):
                contact_labels.add(cid, label)
        if rng.random() < 0.3:
            account_id += 1
            status = ACCOUNT_STATUS.pick(rng)
            t_account.add(
                (
                    account_id,
                    cid,
                    f"POL-{account_id:08d}",
                    rng.choice(PRODUCTS),
                    status,
                    created_s,
                    created_s,
                )
            )
    for t in (t_contact, t_point, t_account, contact_labels):
        t.flush()
    writer.commit()

    # Conversations and their messages over the last 90 days.
    progress.phase(f"conversaciones ({size.conversations:,}) y mensajes ({size.messages:,})")
    t_conv = Table(
        writer,
        Conversation,
        [
            "id",
            "contact_id",
            "channel_id",
            "recipient",
            "status",
            "assignee_id",
            "team_id",
            "awaiting_first_response",
            "unread_count",
            "last_message_at",
            "last_message_preview",
            "last_message_inbound",
            "last_inbound_at",
            "first_response_at",
            "assigned_at",
            "resolved_at",
            "created_at",
        ],
        progress,
    )
    t_msg = Table(
        writer,
        Message,
        [
            "id",
            "conversation_id",
            "channel_id",
            "direction",
            "author_kind",
            "author_id",
            "kind",
            "body",
            "external_id",
            "status",
            "created_at",
            "sent_at",
            "delivered_at",
            "read_at",
        ],
        progress,
    )
    conv_labels = Through(writer, Conversation._meta.get_field("labels"), progress)
    last_interaction: dict[int, float] = {}
    # Conversations go to a few dozen agents per team (the rest are for the socket scenario).
    team_agents = {t: [a for a in agents[:60] if agent_team[a] == t] for t in team_ids[:3]}
    contact_convs: dict[int, list[int]] = {}
    msg_id = 0
    counts = _split(size.messages, size.conversations, rng)
    for n, n_msgs in enumerate(counts):
        conv_id = n + 1
        contact = rng.randint(1, size.contacts)
        channel, kind = rng.choice(channels)
        e164 = contact_phone[contact]
        recipient = e164.lstrip("+") if kind in ("whatsapp", "sms") else f"{kind}-{contact}"
        status = CONVERSATION_STATUS.pick(rng)
        team = team_ids[(channel - base["channels"]) % 3]
        assignee = None
        if status != "pending" or rng.random() < 0.3:
            assignee = rng.choice(team_agents[team])
        # Spread starts over 90 days; recent ones cluster towards now (busier trays).
        start = now - SPAN * (rng.random() ** 1.5)
        at = start
        first_response = last_inbound = None
        inbound = True
        preview = ""
        unread = 0
        for i in range(n_msgs):
            msg_id += 1
            if i:
                at += rng.uniform(20, 1800)
            inbound = i == 0 or rng.random() < 0.5
            if status == "pending" and i == n_msgs - 1:
                inbound = True
            at = min(at, now - 1)
            stamp = ts(at)
            if inbound:
                body = rng.choice(INBOUND_TEXTS)
                last_inbound = at
                t_msg.add(
                    (
                        msg_id,
                        conv_id,
                        channel,
                        "in",
                        "contact",
                        None,
                        "text",
                        body,
                        f"bench.{msg_id}",
                        "received",
                        stamp,
                        None,
                        None,
                        None,
                    )
                )
                unread += 1
            else:
                body = rng.choice(OUTBOUND_TEXTS)
                first_response = first_response or at
                m_status = OUTBOUND_STATUS.pick(rng)
                t_msg.add(
                    (
                        msg_id,
                        conv_id,
                        channel,
                        "out",
                        "agent",
                        assignee,
                        "text",
                        body,
                        f"bench.{msg_id}",
                        m_status,
                        stamp,
                        stamp,
                        stamp if m_status != "sent" else None,
                        stamp if m_status == "read" else None,
                    )
                )
                unread = 0
            preview = body[:160]
        if status == "pending":
            first_response = None if assignee is None else first_response
        t_conv.add(
            (
                conv_id,
                contact,
                channel,
                recipient,
                status,
                assignee,
                team,
                first_response is None,
                unread if status != "resolved" else 0,
                ts(at),
                preview,
                inbound,
                ts(last_inbound) if last_inbound else None,
                ts(first_response) if first_response else None,
                ts(start + 30) if assignee else None,
                ts(at + 60) if status == "resolved" else None,
                ts(start),
            )
        )
        if rng.random() < 0.2:
            conv_labels.add(conv_id, rng.choice(label_ids))
        last_interaction[contact] = max(last_interaction.get(contact, 0), at)
        contact_convs.setdefault(contact, []).append(conv_id)
    for t in (t_conv, t_msg, conv_labels):
        t.flush()
    writer.commit()

    # The contacts' last interaction, as record_interaction() keeps it.
    progress.phase("última interacción de los contactos")
    _set_last_interaction(writer, last_interaction, ts, progress)
    writer.commit()

    # Tickets across the Support pipeline's stages, priorities and owners.
    progress.phase(f"tickets ({size.tickets:,})")
    t_ticket = Table(
        writer,
        Ticket,
        [
            "id",
            "name",
            "description",
            "pipeline_id",
            "stage_id",
            "priority",
            "owner_id",
            "team_id",
            "contact_id",
            "account_id",
            "source",
            "created_at",
            "last_activity_at",
            "closed_at",
            "escalation_what",
            "escalation_how",
            "escalation_where",
            "escalated_at",
            "first_response_at",
            "last_customer_update_at",
            "sla_state",
            "sla_due_at",
            "customer_update_overdue",
            "created_by_id",
            "updated_at",
        ],
        progress,
    )
    ticket_convs = Through(writer, Ticket._meta.get_field("conversations"), progress)
    stage_weights = Weighted(
        [(s, 2.0 if s.is_closed else (0.6 if s.is_escalation else 1.0)) for s in stages]
    )
    for n in range(size.tickets):
        tid = n + 1
        stage = stage_weights.pick(rng)
        created = now - SPAN * rng.random()
        last = min(now - 1, created + rng.uniform(60, 10 * DAY))
        owner = rng.choice(agents) if rng.random() < 0.85 else None
        contact = rng.randint(1, size.contacts)
        priority = PRIORITY.pick(rng)
        escalated = stage.is_escalation
        if stage.is_closed:
            sla, due, overdue = "", None, False
        elif stage.pauses_sla:
            sla, due, overdue = "paused", None, False
        else:
            sla = SLA_STATE.pick(rng)
            due = ts(last + rng.uniform(-DAY, 2 * DAY))
            overdue = sla == "breached" and rng.random() < 0.5
        t_ticket.add(
            (
                tid,
                rng.choice(TICKET_NAMES),
                "Generado por el benchmark.",
                pipeline_id,
                stage.id,
                priority,
                owner,
                team_ids[3] if escalated else team_ids[n % 3],
                contact,
                None,
                TICKET_SOURCE.pick(rng),
                ts(created),
                ts(last),
                ts(last) if stage.is_closed else None,
                "La cuota no aparece en la app" if escalated else "",
                "Al ingresar con la cédula" if escalated else "",
                "App Android 4.2" if escalated else "",
                ts(created + 3600) if escalated else None,
                ts(created + 600) if rng.random() < 0.8 else None,
                ts(last),
                sla,
                due,
                overdue,
                owner,
                ts(last),
            )
        )
        if contact in contact_convs and rng.random() < 0.3:
            ticket_convs.add(tid, contact_convs[contact][0])
    for t in (t_ticket, ticket_convs):
        t.flush()
    return {
        "admin_username": BENCH_ADMIN,
        "agent_usernames": [f"bench-agent-{i:03d}" for i in range(AGENTS)],
        "team_ids": team_ids,
        "label_ids": label_ids,
        "channel_ids": [c for c, _k in channels],
        "counts": {
            "contacts": t_contact.count,
            "contact_points": t_point.count,
            "accounts": t_account.count,
            "conversations": t_conv.count,
            "messages": t_msg.count,
            "tickets": t_ticket.count,
            "users": t_user.count,
        },
    }


def _set_last_interaction(
    writer: Writer, last: dict[int, float], ts: Callable[[float], str], progress: Progress
) -> None:
    rows = [(ts(at), cid) for cid, at in sorted(last.items())]
    if isinstance(writer, SqliteWriter):
        writer.db.executemany(
            'UPDATE "contacts_contact" SET "last_interaction_at" = ? WHERE "id" = ?', rows
        )
    else:
        with writer.db.cursor() as cursor:
            cursor.execute("CREATE TEMP TABLE bench_last (at timestamptz, id bigint)")
            with cursor.copy("COPY bench_last (at, id) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cursor.execute(
                "UPDATE contacts_contact c SET last_interaction_at = b.at FROM bench_last b "
                "WHERE c.id = b.id"
            )
            cursor.execute("DROP TABLE bench_last")
    progress.tick(len(rows))
