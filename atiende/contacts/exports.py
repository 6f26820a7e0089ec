"""Export of the contact list, with the list's own filters, as streamed CSV or XLSX."""

import csv
import io
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from atiende.contacts.selectors import ContactFilters, contacts_for_list
from atiende.core.normalize import format_phone
from atiende.core.permissions import require
from atiende.users.models import User

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
CHUNK_SIZE = 1000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class ExportFile:
    filename: str
    content_type: str
    chunks: Iterator[bytes]


def _headers() -> list[str]:
    return [
        _("ID"),
        _("Nombres"),
        _("Apellidos"),
        _("Tipo de identificación"),
        _("Número de identificación"),
        _("Teléfono"),
        _("Correo"),
        _("Empresa"),
        _("Usuario asignado"),
        _("Etiquetas"),
        _("Creado"),
        _("Última interacción"),
    ]


def _safe(text: str) -> str:
    """Text a spreadsheet will not run as a formula (CSV injection)."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def _local(value):
    return timezone.localtime(value).replace(tzinfo=None, microsecond=0) if value else None


def _rows(user: User, filters: ContactFilters) -> Iterator[list[Any]]:
    contacts = contacts_for_list(user=user, filters=filters)
    for contact in contacts.iterator(chunk_size=CHUNK_SIZE):
        yield [
            contact.pk,
            _safe(contact.first_name),
            _safe(contact.last_name),
            contact.get_identification_type_display() if contact.identification_type else "",
            _safe(contact.identification_number),
            format_phone(contact.primary_phone) if contact.primary_phone else "",
            _safe(contact.primary_email),
            _safe(contact.company),
            _safe(contact.assigned_to.name) if contact.assigned_to else "",
            _safe(", ".join(label.name for label in contact.labels.all())),
            _local(contact.created_at),
            _local(contact.last_interaction_at),
        ]


def _csv_chunks(rows: Iterator[list[Any]]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(_headers())
    yield "\ufeff".encode() + buffer.getvalue().encode()  # the BOM tells Excel it is UTF-8
    buffer.seek(0)
    buffer.truncate()
    for row in rows:
        writer.writerow([f"{v:%Y-%m-%d %H:%M}" if hasattr(v, "strftime") else v for v in row])
        if buffer.tell() > 65536:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def _xlsx_chunks(rows: Iterator[list[Any]]) -> Iterator[bytes]:
    """openpyxl's write-only workbook keeps memory flat; the zip is spooled to a temp file."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Contactos"))
    sheet.freeze_panes = "A2"
    for letter, width in zip(
        "ABCDEFGHIJKL", (8, 18, 18, 12, 16, 18, 28, 22, 20, 22, 17, 17), strict=True
    ):
        sheet.column_dimensions[letter].width = width
    bold = Font(bold=True)
    header = []
    for title in _headers():
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row in rows:
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # never a formula, whatever the text starts with
            elif hasattr(value, "strftime"):
                cell.number_format = "yyyy-mm-dd hh:mm"
            cells.append(cell)
        sheet.append(cells)
    with tempfile.TemporaryFile() as spool:
        workbook.save(spool)
        spool.seek(0)
        while chunk := spool.read(65536):
            yield chunk


def export_contacts(*, user: User, filters: ContactFilters, fmt: str) -> ExportFile:
    """The filtered contact list as a file, produced while it is sent."""
    require(user, "contacts.export_contacts")
    fmt = (fmt or "csv").lower()
    if fmt not in FORMATS:
        raise ValidationError({"formato": _("Formato desconocido: usa csv o xlsx.")})
    rows = _rows(user, filters)
    chunks = _csv_chunks(rows) if fmt == "csv" else _xlsx_chunks(rows)
    filename = f"contactos-{timezone.localtime():%Y%m%d-%H%M}.{fmt}"
    return ExportFile(filename=filename, content_type=FORMATS[fmt], chunks=chunks)


def export_response(*, user: User, filters: ContactFilters, fmt: str) -> StreamingHttpResponse:
    """The export as a download, for the UI and the API alike."""
    export = export_contacts(user=user, filters=filters, fmt=fmt)
    response = StreamingHttpResponse(export.chunks, content_type=export.content_type)
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    response["Cache-Control"] = "no-store"
    return response
