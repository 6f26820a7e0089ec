"""/api/v1/contacts/imports and /api/v1/contacts/export: the same services as the UI."""

import datetime

from django.http import HttpRequest, StreamingHttpResponse
from ninja import Field, File, Form, Router, Schema, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile

from atiende.contacts import exports, imports
from atiende.contacts.models import ImportJob
from atiende.contacts.selectors import filters_from_query

router = Router(tags=["contacts"])


class ImportJobOut(Schema):
    id: int
    original_name: str
    status: str = Field(description="mapping | queued | running | done | failed")
    headers: list[str]
    mapping: dict[str, str] = Field(description="Índice de columna → campo.")
    match_by: str = Field(description="identification | email | phone")
    total_rows: int
    processed_rows: int
    progress: int = Field(description="Porcentaje procesado, 0 a 100.")
    created_count: int
    updated_count: int
    rejected_count: int
    error: str
    created_at: datetime.datetime
    finished_at: datetime.datetime | None


class ImportStartIn(Schema):
    mapping: dict[str, str] | None = Field(
        None, description="Índice de columna → campo; sin él se usa la asignación automática."
    )
    match_by: str | None = Field(None, description="identification | email | phone")


def _job(request: HttpRequest, job_id: int) -> ImportJob:
    try:
        return imports.import_job_for(user=request.auth, job_id=job_id)
    except ImportJob.DoesNotExist as exc:
        raise HttpError(404, "No existe esa importación.") from exc


def _start(job: ImportJob, request: HttpRequest, mapping, match_by) -> ImportJob:
    mapping = job.mapping if mapping is None else mapping
    return imports.configure_import(
        job=job,
        mapping=mapping,
        match_by=match_by or imports.default_match_by(mapping),
        by=request.auth,
    )


@router.post("/contacts/imports", response={201: ImportJobOut})
def create_import(
    request: HttpRequest,
    file: File[UploadedFile] = None,
    start: Form[bool] = False,
    match_by: Form[str] = "",
):
    """Upload a CSV or XLSX file (`file`): the columns are auto-mapped. `start=true` also queues
    the run with that mapping, recognising existing contacts by `match_by`
    (identification | email | phone)."""
    job = imports.start_import(upload=file, by=request.auth)
    if start:
        job = _start(job, request, None, match_by)
    return Status(201, job)


@router.get("/contacts/imports", response=list[ImportJobOut])
def list_imports(request: HttpRequest):
    return list(imports.recent_imports(user=request.auth).defer(None))


@router.get("/contacts/imports/{int:job_id}", response=ImportJobOut)
def get_import(request: HttpRequest, job_id: int):
    """Status and counters of an import (poll it while `status` is queued or running)."""
    return _job(request, job_id)


@router.post("/contacts/imports/{int:job_id}/start", response=ImportJobOut)
def start_import(request: HttpRequest, job_id: int, payload: ImportStartIn):
    """Confirm the mapping (or keep the automatic one) and queue the import."""
    return _start(_job(request, job_id), request, payload.mapping, payload.match_by)


@router.get("/contacts/imports/{int:job_id}/rejected")
def rejected_rows(request: HttpRequest, job_id: int):
    """CSV of the rejected rows: row number, reason and the original values."""
    job = _job(request, job_id)
    response = StreamingHttpResponse(
        imports.rejected_rows_csv(job=job, by=request.auth), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="rechazadas-importacion-{job.pk}.csv"'
    return response


@router.get("/contacts/export")
def export(request: HttpRequest, format: str = "csv"):
    """The contact list as CSV or XLSX, with the list's filters as query parameters
    (`q`, `assigned_to`, `label`, `group`, `created_from`, `created_to`, `interaction_from`,
    `interaction_to`, `sort`)."""
    return exports.export_response(
        user=request.auth, filters=filters_from_query(request.GET), fmt=format
    )
