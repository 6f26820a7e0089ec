"""Importing contacts from CSV or XLSX: upload → map columns → preview → run in batches.

Every write of an import lives here. A run works through the file in batches; each batch is one
transaction that also moves the job's checkpoint (`processed_rows`) and counters, so a crash
leaves whole batches behind it and a rerun continues exactly after the last one committed.

Rows are checked with the same normalisation as `contacts.services` (phones to E.164 through
`clean_point_value`, e-mails lower-cased and validated, identifications keyed with
`identification_key`) but written with bulk queries: a batch costs a constant number of queries,
whatever its size.
"""

import csv
import datetime
import io
import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from atiende.contacts.models import (
    Contact,
    ContactPoint,
    CustomField,
    IdentificationType,
    ImportJob,
    Label,
)
from atiende.contacts.services import AUDITED_FIELDS, clean_point_value
from atiende.core import audit
from atiende.core.attachments import max_upload_bytes
from atiende.core.models import AuditEntry
from atiende.core.normalize import fold, identification_key
from atiende.core.permissions import require
from atiende.users.models import User

BATCH_SIZE = 500
PREVIEW_ROWS = 10
ALLOWED_EXTENSIONS = (".csv", ".xlsx")
CSV_DELIMITERS = (",", ";", "\t", "|")
TEXT_LIMITS = {"first_name": 120, "last_name": 120, "company": 160, "notes": 5000}
POINT_TARGETS = ("phone", "mobile", "whatsapp", "email", "address")
NAME_TARGETS = ("first_name", "last_name", "full_name", "company")
IDENTIFICATION_PREFIX = "identification:"
CUSTOM_PREFIX = "custom:"


def max_upload_mb() -> int:
    return settings.ATIENDE_MAX_UPLOAD_MB


def max_import_rows() -> int:
    return getattr(settings, "ATIENDE_IMPORT_MAX_ROWS", 100_000)


# --- target fields and auto-mapping ------------------------------------------------------


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    repeatable: bool = False
    aliases: tuple[str, ...] = ()


# (key, label, repeatable, header aliases: compared after `normalize_header`, so accents, case,
# punctuation and filler words such as "de" or "número" do not matter).
_FIELDS: list[tuple[str, Any, bool, str]] = [
    (
        "first_name",
        gettext_lazy("Nombres"),
        False,
        "nombres|nombre|primer nombre|first name|firstname|given name",
    ),
    (
        "last_name",
        gettext_lazy("Apellidos"),
        False,
        "apellidos|apellido|last name|lastname|surname|family name",
    ),
    (
        "full_name",
        gettext_lazy("Nombre completo (se separa en nombres y apellidos)"),
        False,
        "nombre completo|nombre y apellido|nombres y apellidos|full name|name|contact name"
        "|cliente|contacto",
    ),
    (
        "identification_type",
        gettext_lazy("Tipo de identificación"),
        False,
        "tipo identificacion|tipo documento|tipo doc|tipo id|identification type|id type"
        "|document type",
    ),
    (
        "identification_number",
        gettext_lazy("Número de identificación (tipo en otra columna)"),
        False,
        "identificacion|documento|documento identidad|doc|identification|document|national id",
    ),
]
_IDENTIFICATION_ALIASES = {
    IdentificationType.CI: "ci|cedula|cedula identidad|cedula identidad civil",
    IdentificationType.RUC: "ruc",
    IdentificationType.DNI: "dni",
    IdentificationType.NIT: "nit",
    IdentificationType.CC: "cedula ciudadania",
    IdentificationType.CE: "cedula extranjeria",
    IdentificationType.PASSPORT: "pasaporte|passport",
    IdentificationType.SSN_LAST4: "ssn|ssn last 4",
}
_MORE_FIELDS: list[tuple[str, Any, bool, str]] = [
    (
        "birth_date",
        gettext_lazy("Fecha de nacimiento"),
        False,
        "fecha nacimiento|nacimiento|f nacimiento|fec nacimiento|birth date|birthdate"
        "|date birth|dob|birthday|cumpleanos",
    ),
    (
        "company",
        gettext_lazy("Empresa"),
        False,
        "empresa|company|company name|associated company|compania|organizacion|organization"
        "|razon social",
    ),
    (
        "phone",
        gettext_lazy("Teléfono"),
        True,
        "telefono|tel|telf|phone|telephone|fijo|linea|work phone",
    ),
    (
        "mobile",
        gettext_lazy("Celular"),
        True,
        "celular|cel|movil|telefono celular|telefono movil|mobile|mobile phone|cell"
        "|cell phone|cellphone",
    ),
    ("whatsapp", gettext_lazy("WhatsApp"), True, "whatsapp|wa|whatsapp phone|telefono whatsapp"),
    (
        "email",
        gettext_lazy("Correo electrónico"),
        True,
        "correo|correo electronico|email|mail|email address|direccion correo"
        "|direccion correo electronico",
    ),
    ("address", gettext_lazy("Dirección"), True, "direccion|domicilio|address|street address"),
    (
        "labels",
        gettext_lazy("Etiquetas (separadas por coma o punto y coma)"),
        True,
        "etiquetas|etiqueta|tags|tag|labels|label",
    ),
    (
        "notes",
        gettext_lazy("Notas"),
        False,
        "notas|nota|observaciones|observacion|comentarios|notes|note|comments",
    ),
    (
        "owner",
        gettext_lazy("Usuario asignado (nombre, correo o usuario)"),
        False,
        "contact owner|owner|usuario asignado|asignado|asignado a|responsable|agente|ejecutivo"
        "|propietario|propietario contacto|assigned to",
    ),
    (
        "created_at",
        gettext_lazy("Fecha de creación"),
        False,
        "create date|created|created at|created date|creation date|creado|fecha creacion"
        "|fecha alta|alta",
    ),
]


def _targets() -> list[Target]:
    """Every field a column can go to, in the order the mapping screen lists them."""
    targets = [
        Target(key, label, repeatable, tuple(aliases.split("|")))
        for key, label, repeatable, aliases in _FIELDS
    ]
    for value, label in IdentificationType.choices:
        if value != IdentificationType.OTHER:
            targets.append(
                Target(
                    f"{IDENTIFICATION_PREFIX}{value}",
                    _("Identificación: %(type)s") % {"type": label},
                    repeatable=True,
                    aliases=tuple(_IDENTIFICATION_ALIASES.get(value, "").split("|")),
                )
            )
    targets += [
        Target(key, label, repeatable, tuple(aliases.split("|")))
        for key, label, repeatable, aliases in _MORE_FIELDS
    ]
    for custom in CustomField.objects.order_by("position", "label"):
        targets.append(
            Target(
                f"{CUSTOM_PREFIX}{custom.key}",
                _("Campo personalizado: %(label)s") % {"label": custom.label},
                aliases=(custom.label, custom.key),
            )
        )
    return targets


def target_choices() -> list[tuple[str, str]]:
    """(key, label) for the mapping selects: "" means the column is not imported."""
    return [("", _("— No importar —")), *((t.key, str(t.label)) for t in _targets())]


_FILLER = {"de", "del", "la", "el", "los", "las", "y", "nro", "no", "num", "numero", "n"}
_FILLER |= {"number", "of", "the", "s"}
_QUALIFIERS = {
    "principal",
    "secundario",
    "secundaria",
    "alternativo",
    "alternativa",
    "casa",
    "trabajo",
    "personal",
    "laboral",
    "oficina",
    "particular",
    "contacto",
    "home",
    "work",
    "other",
    "otro",
    "primary",
    "secondary",
}


def normalize_header(text: str) -> str:
    """ "Nº de Cédula" → "cedula", "E-mail" → "email", "Phone Number" → "phone"."""
    words = re.sub(r"[^a-z0-9]+", " ", fold(str(text or ""))).split()
    if words and all(len(word) == 1 for word in words):
        words = ["".join(words)]  # "C.I." → "ci"
    joined = " ".join(words).replace("e mail", "email")
    kept = [word for word in joined.split() if word not in _FILLER]
    return " ".join(kept)


def _alias_index(targets: list[Target]) -> dict[str, str]:
    index: dict[str, str] = {}
    for target in targets:
        for alias in target.aliases:
            if name := normalize_header(alias):
                index.setdefault(name, target.key)
    return index


def _match_header(header: str, index: dict[str, str]) -> tuple[str, str]:
    """(target, point label) for one header; the label is what qualifies it ("casa")."""
    name = normalize_header(header)
    if name in index:
        return index[name], ""
    words = name.split()
    core = [w for w in words if w not in _QUALIFIERS and not w.isdigit()]
    qualifiers = [w for w in words if w in _QUALIFIERS]
    target = index.get(" ".join(core), "")
    if target in POINT_TARGETS:
        return target, " ".join(qualifiers)
    return "", ""


def auto_map(headers: list[str]) -> dict[str, str]:
    """Column index (as text) → target for every header recognised; a single field goes to
    the first column that names it."""
    targets = _targets()
    index = _alias_index(targets)
    repeatable = {t.key for t in targets if t.repeatable}
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for position, header in enumerate(headers):
        target, _label = _match_header(header, index)
        if not target or (target in used and target not in repeatable):
            continue
        mapping[str(position)] = target
        used.add(target)
    return mapping


# --- reading the file ----------------------------------------------------------------------


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252 / Latin-1."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _sniff_delimiter(text: str) -> str:
    """The delimiter among , ; tab | that splits the first lines most consistently."""
    sample = text[:65536].splitlines()[:20]
    if sample and len(text) > 65536:
        sample = sample[:-1]  # the last line of a cut sample may be partial
    best, best_score = ",", (-1.0, 0)
    for delimiter in CSV_DELIMITERS:
        rows = [row for row in csv.reader(sample, delimiter=delimiter) if row]
        if not rows:
            continue
        width = len(rows[0])
        if width < 2:
            continue
        consistency = sum(len(row) == width for row in rows) / len(rows)
        score = (consistency, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("sí") if value else _("no")
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time.min:
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return str(value).strip()


def _csv_records(data: bytes) -> Iterator[list[str]]:
    text = _decode(data)
    delimiter = _sniff_delimiter(text)
    for record in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
        yield [cell.strip() for cell in record]


def _xlsx_records(data: bytes) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise ValidationError({"file": _("No se pudo leer el archivo XLSX.")}) from exc
    try:
        sheet = workbook.worksheets[0]
        for values in sheet.iter_rows(values_only=True):
            yield [_cell_text(value) for value in values]
    finally:
        workbook.close()


def _records(data: bytes, name: str) -> Iterator[list[str]]:
    if Path(name).suffix.lower() == ".xlsx":
        return _xlsx_records(data)
    return _csv_records(data)


def _read(data: bytes, name: str) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The header row and then (row number as a spreadsheet shows it, values) per data row.

    Rows with every cell empty are skipped and never counted; values are padded or cut to the
    header's width.
    """
    records = _records(data, name)
    headers: list[str] | None = None
    header_number = 0
    for number, record in enumerate(records, start=1):
        if any(record):
            headers = list(record)
            header_number = number
            break
    if headers is None:
        raise ValidationError({"file": _("El archivo está vacío.")})
    while headers and not headers[-1]:
        headers.pop()
    headers = [h or _("Columna %(n)s") % {"n": i + 1} for i, h in enumerate(headers)]
    width = len(headers)

    def rows() -> Iterator[tuple[int, list[str]]]:
        for number, record in enumerate(records, start=header_number + 1):
            values = (list(record) + [""] * width)[:width]
            if any(values):
                yield number, values

    return headers, rows()


def _job_data(job: ImportJob) -> bytes:
    with job.file.open("rb") as handle:
        return handle.read()


def _job_rows(job: ImportJob) -> Iterator[tuple[int, list[str]]]:
    _headers, rows = _read(_job_data(job), job.original_name)
    return rows


# --- starting and configuring --------------------------------------------------------------


def _check_file(upload: UploadedFile | None) -> str:
    if upload is None or not getattr(upload, "name", ""):
        raise ValidationError({"file": _("Elige un archivo CSV o XLSX.")})
    extension = Path(upload.name).suffix.lower()
    if extension not in ALLOWED_EXTENSIONS:
        raise ValidationError({"file": _("Solo se pueden importar archivos CSV o XLSX.")})
    if not upload.size:
        raise ValidationError({"file": _("El archivo está vacío.")})
    if upload.size > max_upload_bytes():
        raise ValidationError(
            {
                "file": _("El archivo supera el tamaño máximo de %(mb)s MB.")
                % {"mb": settings.ATIENDE_MAX_UPLOAD_MB}
            }
        )
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    if extension == ".xlsx" and not head.startswith(b"PK\x03\x04"):
        raise ValidationError({"file": _("El archivo no es un XLSX válido.")})
    if extension == ".csv" and head.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise ValidationError(
            {"file": _("El archivo es una planilla de Excel: guárdalo como .xlsx o como CSV.")}
        )
    return extension


def start_import(*, upload: UploadedFile | None, by: User) -> ImportJob:
    """Check the file, read its header row, auto-map the columns: the job waits for mapping."""
    require(by, "contacts.import_contacts")
    _check_file(upload)
    data = upload.read()
    total = 0
    try:
        headers, rows = _read(data, upload.name)
        for _row in rows:
            total += 1
            if total > max_import_rows():
                raise ValidationError(
                    {
                        "file": _("El archivo tiene más de %(max)s filas: divídelo en partes.")
                        % {"max": max_import_rows()}
                    }
                )
    except ValidationError:
        raise
    except Exception as exc:  # a malformed CSV or a broken sheet inside the XLSX
        raise ValidationError(
            {"file": _("No se pudo leer el archivo: %(error)s") % {"error": exc}}
        ) from exc
    if total == 0:
        raise ValidationError({"file": _("El archivo no tiene filas de datos, solo encabezados.")})
    name = Path(upload.name).name[:200]
    with transaction.atomic():
        job = ImportJob(
            original_name=name,
            headers=headers,
            mapping=auto_map(headers),
            total_rows=total,
            created_by=by,
        )
        job.file.save(name, ContentFile(data), save=False)
        job.save()
    return job


def _clean_mapping(headers: list[str], mapping: dict[Any, Any]) -> dict[str, str]:
    targets = {t.key: t for t in _targets()}
    cleaned: dict[str, str] = {}
    for raw_index, raw_target in (mapping or {}).items():
        target = str(raw_target or "").strip()
        if not target:
            continue
        try:
            index = int(raw_index)
        except (TypeError, ValueError) as exc:
            raise ValidationError({"mapping": _("Columna desconocida.")}) from exc
        if not 0 <= index < len(headers):
            raise ValidationError({"mapping": _("Columna desconocida.")})
        if target not in targets:
            raise ValidationError(
                {"mapping": _("Campo desconocido: %(field)s") % {"field": target}}
            )
        cleaned[str(index)] = target
    return cleaned


def mapping_problems(headers: list[str], mapping: dict[str, str], match_by: str) -> list[str]:
    """What is wrong with a mapping, in words for the person choosing it."""
    targets = {t.key: t for t in _targets()}
    problems: list[str] = []
    used: dict[str, int] = {}
    for target in mapping.values():
        used[target] = used.get(target, 0) + 1
    for target, count in used.items():
        if count > 1 and not targets[target].repeatable:
            problems.append(
                _("«%(field)s» está asignado a más de una columna.")
                % {"field": targets[target].label}
            )
    if not any(t in used for t in (*NAME_TARGETS, "phone", "mobile", "whatsapp", "email")):
        problems.append(
            _("Asigna al menos una columna de nombre, empresa, teléfono o correo electrónico.")
        )
    has_identification = "identification_number" in used or any(
        t.startswith(IDENTIFICATION_PREFIX) for t in used
    )
    if "identification_number" in used and "identification_type" not in used:
        problems.append(
            _(
                "La columna de número de identificación necesita una columna de tipo de "
                "identificación, o elige un tipo concreto (CI, RUC, DNI…) para ella."
            )
        )
    if match_by not in ImportJob.MatchBy.values:
        problems.append(_("Elige cómo reconocer los contactos que ya existen."))
    elif match_by == ImportJob.MatchBy.IDENTIFICATION and not has_identification:
        problems.append(
            _("Para actualizar por identificación, asigna una columna de identificación.")
        )
    elif match_by == ImportJob.MatchBy.EMAIL and "email" not in used:
        problems.append(_("Para actualizar por correo, asigna una columna de correo electrónico."))
    elif match_by == ImportJob.MatchBy.PHONE and not any(
        t in used for t in ("phone", "mobile", "whatsapp")
    ):
        problems.append(_("Para actualizar por teléfono, asigna una columna de teléfono."))
    return problems


def default_match_by(mapping: dict[str, str]) -> str:
    targets = set(mapping.values())
    if "identification_number" in targets or any(
        t.startswith(IDENTIFICATION_PREFIX) for t in targets
    ):
        return ImportJob.MatchBy.IDENTIFICATION
    if "email" in targets:
        return ImportJob.MatchBy.EMAIL
    if targets & {"phone", "mobile", "whatsapp"}:
        return ImportJob.MatchBy.PHONE
    return ImportJob.MatchBy.IDENTIFICATION


def _enqueue(job: ImportJob) -> None:
    from atiende.contacts.jobs import run_import_job

    job_id = job.pk
    transaction.on_commit(lambda: run_import_job(job_id))


@transaction.atomic
def configure_import(
    *, job: ImportJob, mapping: dict[Any, Any], match_by: str, by: User
) -> ImportJob:
    """Save the chosen mapping and queue the run. Refused whole if the mapping cannot work."""
    require(by, "contacts.import_contacts")
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.status != ImportJob.Status.MAPPING:
        raise ValidationError(_("Esta importación ya se inició."))
    cleaned = _clean_mapping(job.headers, mapping)
    problems = mapping_problems(job.headers, cleaned, match_by)
    if problems:
        raise ValidationError({"mapping": problems})
    job.mapping, job.match_by = cleaned, match_by
    job.status = ImportJob.Status.QUEUED
    job.save(update_fields=["mapping", "match_by", "status"])
    _enqueue(job)
    return job


@transaction.atomic
def resume_import(*, job: ImportJob, by: User) -> ImportJob:
    """Queue a failed or stalled run again: it continues after the last committed batch."""
    require(by, "contacts.import_contacts")
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.status not in (ImportJob.Status.FAILED, ImportJob.Status.RUNNING):
        raise ValidationError(_("Solo se puede reanudar una importación interrumpida."))
    job.status = ImportJob.Status.QUEUED
    job.save(update_fields=["status"])
    _enqueue(job)
    return job


# --- reading a row ---------------------------------------------------------------------------

_ID_TYPE_ALIASES = {
    "cedula": IdentificationType.CI,
    "cedula identidad": IdentificationType.CI,
    "c i": IdentificationType.CI,
    "cedula ciudadania": IdentificationType.CC,
    "cedula extranjeria": IdentificationType.CE,
    "passport": IdentificationType.PASSPORT,
    "ssn": IdentificationType.SSN_LAST4,
    "otro": IdentificationType.OTHER,
    "other": IdentificationType.OTHER,
}
_DATE_FORMATS = ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y/%m/%d", "%d/%m/%y", "%m/%d/%Y")
_DATETIME_FORMATS = (
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %I:%M %p",
    "%Y-%m-%d %I:%M %p",
    "%d/%m/%Y",
    "%m/%d/%Y",
)
_LABEL_SPLIT = re.compile(r"[;,]")


def _identification_types() -> dict[str, str]:
    index = {value: value for value in IdentificationType.values}
    for value, label in IdentificationType.choices:
        index[normalize_header(label)] = value
    index.update({normalize_header(alias): value for alias, value in _ID_TYPE_ALIASES.items()})
    return index


def _parse_date(text: str) -> datetime.date | None:
    text = text.strip()
    try:
        return datetime.date.fromisoformat(text[:10]) if len(text) >= 10 else None
    except ValueError:
        pass
    for pattern in _DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def _parse_datetime(text: str) -> datetime.datetime | None:
    text = text.strip()
    value: datetime.datetime | None = None
    try:
        value = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        for pattern in _DATETIME_FORMATS:
            try:
                value = datetime.datetime.strptime(text, pattern)
                break
            except ValueError:
                continue
    if value is None:
        return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def _split_name(full: str) -> tuple[str, str]:
    """ "Juan Pérez" → ("Juan", "Pérez"); four words or more: two names, the rest surnames."""
    if "," in full:
        last, first = (part.strip() for part in full.split(",", 1))
        return first, last
    words = full.split()
    if len(words) <= 1:
        return full, ""
    cut = 2 if len(words) >= 4 else 1
    return " ".join(words[:cut]), " ".join(words[cut:])


@dataclass
class ParsedRow:
    number: int
    values: list[str]
    fields: dict[str, Any] = field(default_factory=dict)
    identification: tuple[str, str, str] | None = None  # (type, number, key)
    points: list[tuple[str, str, str, str]] = field(default_factory=list)  # kind, value, key, label
    labels: list[str] = field(default_factory=list)
    owner: User | None = None
    created_at: datetime.datetime | None = None
    custom: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def match_keys(self, match_by: str) -> list[str]:
        if match_by == ImportJob.MatchBy.EMAIL:
            return [key for kind, _v, key, _l in self.points if kind == ContactPoint.Kind.EMAIL]
        if match_by == ImportJob.MatchBy.PHONE:
            return [key for kind, _v, key, _l in self.points if kind in ContactPoint.PHONE_KINDS]
        return []


class _Reader:
    """Turns one row of cells into a ParsedRow: everything that needs no database."""

    def __init__(self, *, headers: list[str], mapping: dict[str, str]):
        self.headers = headers
        index = _alias_index(_targets())
        self.columns = []
        for position, target in sorted(mapping.items(), key=lambda item: int(item[0])):
            column = int(position)
            label = _match_header(headers[column], index)[1] if target in POINT_TARGETS else ""
            self.columns.append((column, target, label))
        self.id_types = _identification_types()
        self.id_labels = dict(IdentificationType.choices)
        self.users: dict[str, User] = {}
        for user in User.objects.filter(is_active=True).order_by("-id"):
            for key in (fold(user.display_name), user.email.lower(), user.username.lower()):
                if key:
                    self.users[key] = user
        self.custom = {c.key: c for c in CustomField.objects.all()}

    def read(self, number: int, values: list[str]) -> ParsedRow:
        row = ParsedRow(number=number, values=values)
        id_type = id_number = ""
        explicit_type = ""
        type_unknown = False
        full_name = ""
        seen_points: set[tuple[str, str]] = set()
        for column, target, point_label in self.columns:
            raw = values[column].strip() if column < len(values) else ""
            if not raw:
                continue
            header = self.headers[column]
            if target in TEXT_LIMITS:
                if len(raw) > TEXT_LIMITS[target]:
                    row.errors.append(
                        _("%(column)s: el texto supera los %(n)s caracteres.")
                        % {"column": header, "n": TEXT_LIMITS[target]}
                    )
                elif target == "notes" and row.fields.get("notes"):
                    row.fields["notes"] += "\n" + raw
                else:
                    row.fields.setdefault(target, raw)
            elif target == "full_name":
                full_name = full_name or raw
            elif target == "identification_type":
                explicit_type = self.id_types.get(normalize_header(raw), "")
                if not explicit_type:
                    type_unknown = True
                    row.errors.append(
                        _("Tipo de identificación desconocido: «%(value)s».") % {"value": raw}
                    )
            elif target == "identification_number":
                if not id_number:
                    id_number = raw
            elif target.startswith(IDENTIFICATION_PREFIX):
                if not id_number:
                    id_number, id_type = raw, target.removeprefix(IDENTIFICATION_PREFIX)
            elif target == "birth_date":
                birth = _parse_date(raw)
                if birth is None:
                    row.errors.append(
                        _("Fecha de nacimiento no válida: «%(value)s» (usa DD/MM/AAAA).")
                        % {"value": raw}
                    )
                elif birth > timezone.localdate():
                    row.errors.append(_("La fecha de nacimiento no puede ser futura."))
                else:
                    row.fields["birth_date"] = birth
            elif target in POINT_TARGETS:
                try:
                    stored, key = clean_point_value(target, raw)
                except ValidationError as exc:
                    messages = [m for ms in exc.message_dict.values() for m in ms]
                    row.errors.append(f"{header}: {' '.join(messages)}")
                    continue
                if (target, key) not in seen_points:
                    seen_points.add((target, key))
                    row.points.append((target, stored, key, point_label[:40]))
            elif target == "labels":
                for name in _LABEL_SPLIT.split(raw):
                    name = name.strip()[:60]
                    if name and fold(name) not in {fold(n) for n in row.labels}:
                        row.labels.append(name)
            elif target == "owner":
                row.owner = row.owner or self.users.get(fold(raw)) or self.users.get(raw.lower())
            elif target == "created_at":
                created = _parse_datetime(raw)
                if created is None:
                    row.errors.append(
                        _("Fecha de creación no válida: «%(value)s».") % {"value": raw}
                    )
                else:
                    row.created_at = created
            elif target.startswith(CUSTOM_PREFIX):
                self._read_custom(row, target.removeprefix(CUSTOM_PREFIX), raw)
        if full_name and not (row.fields.get("first_name") or row.fields.get("last_name")):
            first, last = _split_name(full_name)
            row.fields["first_name"], row.fields["last_name"] = first[:120], last[:120]
        if id_number:
            id_type = id_type or explicit_type
            key = identification_key(id_number)
            if len(id_number) > 40 or not key:
                row.errors.append(
                    _("Número de identificación no válido: «%(value)s».") % {"value": id_number}
                )
            elif not id_type:
                if not type_unknown:
                    row.errors.append(
                        _("Falta el tipo de identificación de «%(value)s».") % {"value": id_number}
                    )
            else:
                row.identification = (id_type, id_number, key)
        has_name = any(row.fields.get(name) for name in ("first_name", "last_name", "company"))
        if not row.errors and not has_name and not row.points:
            row.errors.append(_("La fila no tiene nombre, empresa ni ningún dato de contacto."))
        return row

    def _read_custom(self, row: ParsedRow, key: str, raw: str) -> None:
        custom = self.custom.get(key)
        if custom is None:
            return
        if custom.kind == CustomField.Kind.NUMBER:
            # "12,5" is read as 12.5 and stored so, as the contact form and the API store it.
            raw = raw.replace(",", ".")
            try:
                number = Decimal(raw)
            except InvalidOperation:
                number = None
            if number is None or not number.is_finite():
                row.errors.append(_("%(field)s debe ser un número.") % {"field": custom.label})
                return
        elif custom.kind == CustomField.Kind.DATE:
            date = _parse_date(raw)
            if date is None:
                row.errors.append(
                    _("%(field)s debe ser una fecha (AAAA-MM-DD).") % {"field": custom.label}
                )
                return
            raw = date.isoformat()
        elif custom.kind == CustomField.Kind.CHOICE and raw not in custom.choices:
            row.errors.append(_("%(field)s: opción no válida.") % {"field": custom.label})
            return
        row.custom[key] = raw

    def identification_text(self, identification: tuple[str, str, str]) -> str:
        id_type, number, _key = identification
        return f"{self.id_labels.get(id_type, id_type)} {number}"


# --- planning a batch: who each row creates or updates ------------------------------------


@dataclass(eq=False)
class _Target:
    contact: Contact
    is_new: bool
    first_row: int
    point_keys: set[tuple[str, str]] = field(default_factory=set)
    primary_kinds: set[str] = field(default_factory=set)
    new_points: list[ContactPoint] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    created_at: datetime.datetime | None = None
    before: dict[str, Any] = field(default_factory=dict)
    changed: set[str] = field(default_factory=set)


@dataclass
class Outcome:
    row: ParsedRow
    action: str  # "created" | "updated" | "rejected"
    reason: str = ""
    contact: Contact | None = None


@dataclass
class _Plan:
    targets: list[_Target]
    outcomes: list[Outcome]


_SCALARS = ("first_name", "last_name", "company", "birth_date", "notes")


def _plan(reader: _Reader, rows: list[ParsedRow], match_by: str, by: User | None) -> _Plan:
    """Decide every row of a batch with a constant number of reads."""
    id_keys = {row.identification[2] for row in rows if row.identification and not row.errors}
    match_keys = {key for row in rows if not row.errors for key in row.match_keys(match_by)}
    by_identification: dict[tuple[str, str], _Target] = {}
    by_key: dict[str, _Target] = {}
    existing_ids: set[int] = set()
    ident_owner: dict[tuple[str, str], int] = {}
    if id_keys:
        for pk, id_type, key in Contact.objects.filter(identification_key__in=id_keys).values_list(
            "pk", "identification_type", "identification_key"
        ):
            ident_owner[(id_type, key)] = pk
            existing_ids.add(pk)
    key_owner: dict[str, int] = {}
    if match_keys:
        kinds = (
            [ContactPoint.Kind.EMAIL]
            if match_by == ImportJob.MatchBy.EMAIL
            else list(ContactPoint.PHONE_KINDS)
        )
        for contact_id, key in (
            ContactPoint.objects.filter(kind__in=kinds, search_value__in=match_keys)
            .order_by("contact_id")
            .values_list("contact_id", "search_value")
        ):
            key_owner.setdefault(key, contact_id)
            existing_ids.add(contact_id)
    loaded: dict[int, _Target] = {}
    if existing_ids:
        for contact in Contact.objects.filter(pk__in=existing_ids).select_related("assigned_to"):
            loaded[contact.pk] = _Target(
                contact=contact,
                is_new=False,
                first_row=0,
                before=audit.snapshot(contact, AUDITED_FIELDS),
            )
        for contact_id, kind, key, primary in ContactPoint.objects.filter(
            contact_id__in=loaded
        ).values_list("contact_id", "kind", "search_value", "is_primary"):
            target = loaded[contact_id]
            target.point_keys.add((kind, key))
            if primary:
                target.primary_kinds.add(kind)
    for identification, pk in ident_owner.items():
        if pk in loaded:
            by_identification[identification] = loaded[pk]
    for key, pk in key_owner.items():
        if pk in loaded:
            by_key[key] = loaded[pk]

    targets: list[_Target] = []
    outcomes: list[Outcome] = []
    for row in rows:
        if row.errors:
            outcomes.append(Outcome(row, "rejected", " ".join(row.errors)))
            continue
        ident = (row.identification[0], row.identification[2]) if row.identification else None
        target: _Target | None = None
        if match_by == ImportJob.MatchBy.IDENTIFICATION and ident:
            target = by_identification.get(ident)
        else:
            for key in row.match_keys(match_by):
                if key in by_key:
                    target = by_key[key]
                    break
        if ident and ident in by_identification and by_identification[ident] is not target:
            holder = by_identification[ident]
            id_text = reader.identification_text(row.identification)
            if holder.is_new:
                reason = _("La identificación %(id)s ya aparece en la fila %(row)s.") % {
                    "id": id_text,
                    "row": holder.first_row,
                }
            else:
                reason = _("Ya existe otro contacto con la identificación %(id)s.") % {
                    "id": id_text
                }
            outcomes.append(Outcome(row, "rejected", reason))
            continue
        if target is None:
            target = _new_target(row, by)
            targets.append(target)
            outcome = Outcome(row, "created", contact=target.contact)
        else:
            if target not in targets:
                targets.append(target)
            outcome = Outcome(row, "updated", contact=target.contact)
        _merge(target, row)
        contact = target.contact
        if ident and (contact.identification_type, contact.identification_key) == ident:
            by_identification.setdefault(ident, target)
        for key in row.match_keys(match_by):
            by_key.setdefault(key, target)
        outcomes.append(outcome)
    return _Plan(targets=targets, outcomes=outcomes)


def _new_target(row: ParsedRow, by: User | None) -> _Target:
    contact = Contact(created_by=by, updated_by=by)
    return _Target(contact=contact, is_new=True, first_row=row.number, created_at=row.created_at)


def _merge(target: _Target, row: ParsedRow) -> None:
    """Fill the contact's empty fields from the row and add the points it does not have."""
    contact = target.contact
    for name in _SCALARS:
        value = row.fields.get(name)
        if value and not getattr(contact, name):
            setattr(contact, name, value)
            target.changed.add(name)
    if row.identification and not contact.identification_key:
        contact.identification_type, contact.identification_number, key = row.identification
        contact.identification_key = key
        target.changed |= {"identification_type", "identification_number", "identification_key"}
    if row.owner is not None and contact.assigned_to_id is None:
        contact.assigned_to = row.owner
        target.changed.add("assigned_to")
    for key, value in row.custom.items():
        if not contact.custom.get(key):
            contact.custom = {**contact.custom, key: value}
            target.changed.add("custom")
    if target.changed & {"first_name", "last_name"}:
        contact.search_name = fold(f"{contact.first_name} {contact.last_name}")[:250]
        target.changed.add("search_name")
    for kind, value, key, label in row.points:
        if (kind, key) in target.point_keys:
            continue
        target.point_keys.add((kind, key))
        primary = kind not in target.primary_kinds
        target.primary_kinds.add(kind)
        target.new_points.append(
            ContactPoint(
                contact=contact,
                kind=kind,
                value=value,
                search_value=key,
                label=label,
                is_primary=primary,
            )
        )
        if kind in ContactPoint.PHONE_KINDS and not contact.primary_phone:
            contact.primary_phone = value
            target.changed.add("primary_phone")
        elif kind == ContactPoint.Kind.EMAIL and not contact.primary_email:
            contact.primary_email = value
            target.changed.add("primary_email")
    for name in row.labels:
        if fold(name) not in {fold(n) for n in target.labels}:
            target.labels.append(name)


# --- writing a batch --------------------------------------------------------------------------


def _labels_by_name(names: Iterable[str]) -> dict[str, Label]:
    """Existing labels by folded name; the missing ones are created."""
    wanted = {fold(name): name for name in names}
    if not wanted:
        return {}
    found = {fold(label.name): label for label in Label.objects.all()}
    for key, name in wanted.items():
        if key not in found:
            found[key] = Label.objects.create(name=name)
    return found


def _write(plan: _Plan, by: User | None) -> None:
    """Store what the plan decided: a handful of bulk queries for the whole batch."""
    now = timezone.now()
    new = [t for t in plan.targets if t.is_new]
    existing = [t for t in plan.targets if not t.is_new]
    for target in new:
        contact = target.contact
        contact.search_name = fold(f"{contact.first_name} {contact.last_name}")[:250]
    Contact.objects.bulk_create([t.contact for t in new])
    dated = [t for t in new if t.created_at]
    for target in dated:
        target.contact.created_at = target.created_at
    if dated:
        Contact.objects.bulk_update([t.contact for t in dated], ["created_at"])
    changed_fields: set[str] = set()
    for target in existing:
        if target.changed:
            target.contact.updated_by = by
            target.contact.updated_at = now
            changed_fields |= target.changed
    if changed_fields:
        fields = sorted(changed_fields | {"updated_by", "updated_at"})
        Contact.objects.bulk_update([t.contact for t in existing if t.changed], fields)
    # The new contacts have their primary keys now: bulk_create copies them onto the points.
    ContactPoint.objects.bulk_create(p for t in plan.targets for p in t.new_points)
    labels = _labels_by_name(name for t in plan.targets for name in t.labels)
    through = Contact.labels.through
    through.objects.bulk_create(
        [
            through(contact_id=t.contact.pk, label_id=labels[fold(name)].pk)
            for t in plan.targets
            for name in t.labels
        ],
        ignore_conflicts=True,
    )
    _write_audit(plan, by)


def _write_audit(plan: _Plan, by: User | None) -> None:
    content_type = ContentType.objects.get_for_model(Contact, for_concrete_model=False)
    kinds = dict(ContactPoint.Kind.choices)
    entries = []
    for target in plan.targets:
        after = audit.snapshot(target.contact, AUDITED_FIELDS)
        before = target.before if not target.is_new else {}
        changes = {
            key: [before.get(key), after.get(key)]
            for key in sorted(set(before) | set(after))
            if before.get(key) != after.get(key)
        }
        added: dict[str, list[str]] = {}
        for point in target.new_points:
            added.setdefault(str(kinds[point.kind]), []).append(point.value)
        for kind_label, values in added.items():
            changes[kind_label] = [None, ", ".join(values)]
        if target.labels:
            changes["labels"] = [None, ", ".join(target.labels)]
        if not target.is_new and not changes:
            continue
        entries.append(
            AuditEntry(
                actor=by if getattr(by, "pk", None) else None,
                action="create" if target.is_new else "update",
                content_type=content_type,
                object_id=str(target.contact.pk),
                object_repr=str(target.contact)[:200],
                changes=changes,
            )
        )
    AuditEntry.objects.bulk_create(entries)


# --- running ----------------------------------------------------------------------------------


class ImportSuperseded(Exception):
    """Another run of the same job committed this batch first: this run stops."""


def _batches(rows: Iterator[tuple[int, list[str]]], size: int) -> Iterator[list]:
    batch: list[tuple[int, list[str]]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _rejected_entry(outcome: Outcome) -> dict[str, Any]:
    return {"row": outcome.row.number, "values": outcome.row.values, "reason": outcome.reason}


def _run_batch(job: ImportJob, reader: _Reader, batch: list, start: int) -> None:
    """One batch in one transaction, with the checkpoint moved in the same transaction."""
    parsed = [reader.read(number, values) for number, values in batch]
    by = job.created_by
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().get(pk=job.pk)
        if locked.processed_rows != start or locked.status != ImportJob.Status.RUNNING:
            raise ImportSuperseded
        plan = _plan(reader, parsed, job.match_by, by)
        _write(plan, by)
        counts = {"created": 0, "updated": 0, "rejected": 0}
        rejected = []
        for outcome in plan.outcomes:
            counts[outcome.action] += 1
            if outcome.action == "rejected":
                rejected.append(_rejected_entry(outcome))
        locked.processed_rows = start + len(batch)
        locked.created_count += counts["created"]
        locked.updated_count += counts["updated"]
        locked.rejected_count += counts["rejected"]
        locked.rejected_rows = [*locked.rejected_rows, *rejected]
        locked.save(
            update_fields=[
                "processed_rows",
                "created_count",
                "updated_count",
                "rejected_count",
                "rejected_rows",
            ]
        )
    job.processed_rows = locked.processed_rows


def run_import(job_id: int, *, batch_size: int | None = None) -> ImportJob:
    """Import the job's rows after its checkpoint, batch by batch; safe to run again."""
    size = batch_size or BATCH_SIZE
    with transaction.atomic():
        job = (
            ImportJob.objects.select_for_update(of=("self",))
            .select_related("created_by")
            .get(pk=job_id)
        )
        if job.status not in (ImportJob.Status.QUEUED, ImportJob.Status.RUNNING):
            return job
        job.status, job.error = ImportJob.Status.RUNNING, ""
        job.save(update_fields=["status", "error"])
    # The rejection reasons are stored as text: in the language of the person who imports.
    language = getattr(job.created_by, "language", "") or settings.LANGUAGE_CODE
    with translation.override(language):
        reader = _Reader(headers=job.headers, mapping=job.mapping)
        rows = itertools.islice(_job_rows(job), job.processed_rows, None)
        try:
            for batch in _batches(rows, size):
                _run_batch(job, reader, batch, job.processed_rows)
        except ImportSuperseded:
            return ImportJob.objects.get(pk=job.pk)
    ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.RUNNING).update(
        status=ImportJob.Status.DONE, finished_at=timezone.now(), total_rows=job.processed_rows
    )
    return ImportJob.objects.get(pk=job.pk)


def mark_import_failed(job_id: int, *, error: BaseException, final: bool) -> None:
    """Called by the job when a run crashes: keep the reason; the last retry marks it failed."""
    message = _("La importación se interrumpió: %(error)s") % {"error": str(error)[:500]}
    updates: dict[str, Any] = {"error": message}
    if final:
        updates |= {"status": ImportJob.Status.FAILED, "finished_at": timezone.now()}
    ImportJob.objects.filter(
        pk=job_id, status__in=[ImportJob.Status.QUEUED, ImportJob.Status.RUNNING]
    ).update(**updates)


# --- preview and reports ------------------------------------------------------------------------


@dataclass
class PreviewRow:
    number: int
    cells: list[str]
    action: str
    reason: str
    contact: Contact | None


@dataclass
class Preview:
    columns: list[tuple[int, str, str]]  # (index, header, target label)
    rows: list[PreviewRow]
    problems: list[str]


def preview_import(
    job: ImportJob,
    rows: int = PREVIEW_ROWS,
    *,
    mapping: dict[Any, Any] | None = None,
    match_by: str | None = None,
) -> Preview:
    """What the first rows would become with this mapping, without writing anything."""
    match_by = match_by or job.match_by
    try:
        cleaned = _clean_mapping(job.headers, job.mapping if mapping is None else mapping)
    except ValidationError as exc:
        return Preview(columns=[], rows=[], problems=exc.messages)
    labels = dict(target_choices())
    columns = [
        (int(index), job.headers[int(index)], labels[target].split(" (")[0])
        for index, target in sorted(cleaned.items(), key=lambda item: int(item[0]))
    ]
    problems = mapping_problems(job.headers, cleaned, match_by)
    reader = _Reader(headers=job.headers, mapping=cleaned)
    parsed = []
    for number, values in _job_rows(job):
        parsed.append(reader.read(number, values))
        if len(parsed) >= rows:
            break
    outcomes = _plan(reader, parsed, match_by, None).outcomes if not problems else []
    by_number = {outcome.row.number: outcome for outcome in outcomes}
    preview_rows = []
    for row in parsed:
        outcome = by_number.get(row.number)
        preview_rows.append(
            PreviewRow(
                number=row.number,
                cells=[row.values[index] for index, _h, _l in columns],
                action=outcome.action if outcome else ("rejected" if row.errors else ""),
                reason=outcome.reason if outcome else " ".join(row.errors),
                contact=outcome.contact if outcome and outcome.action == "updated" else None,
            )
        )
    return Preview(columns=columns, rows=preview_rows, problems=problems)


def column_samples(job: ImportJob, *, rows: int = 30, per_column: int = 3) -> list[list[str]]:
    """A few distinct example values of every column, for the mapping screen."""
    samples: list[list[str]] = [[] for _header in job.headers]
    for count, (_number, values) in enumerate(_job_rows(job), start=1):
        for index, value in enumerate(values):
            if value and len(samples[index]) < per_column and value not in samples[index]:
                samples[index].append(value[:60])
        if count >= rows:
            break
    return samples


def rejected_rows_csv(*, job: ImportJob, by: User) -> Iterator[str]:
    """The report of rejected rows: row number, reason and the row as it was in the file."""
    require(by, "contacts.import_contacts")
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow([_("Fila"), _("Motivo"), *job.headers])
    yield "\ufeff" + flush()
    for entry in job.rejected_rows:
        writer.writerow([entry["row"], entry["reason"], *entry["values"]])
        if buffer.tell() > 32768:
            yield flush()
    yield flush()


def recent_imports(*, user: User, limit: int = 20) -> QuerySet[ImportJob]:
    if not user.has_perm("contacts.import_contacts"):
        raise PermissionDenied(_("No tienes permiso para realizar esta acción."))
    return (
        ImportJob.objects.select_related("created_by")
        .defer("rejected_rows", "headers", "mapping")
        .order_by("-created_at", "-id")[:limit]
    )


def import_job_for(*, user: User, job_id: int) -> ImportJob:
    if not user.has_perm("contacts.import_contacts"):
        raise PermissionDenied(_("No tienes permiso para realizar esta acción."))
    return ImportJob.objects.select_related("created_by").get(pk=job_id)
