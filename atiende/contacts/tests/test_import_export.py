"""Import of CSV/XLSX contact files (mapping, batches, upsert, resume) and export of the list."""

import csv
import datetime
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from atiende.contacts import exports, imports
from atiende.contacts.models import Contact, ContactPoint, ImportJob, Label
from atiende.contacts.selectors import ContactFilters
from atiende.contacts.services import PointInput, create_contact
from atiende.core.models import AuditEntry

pytestmark = pytest.mark.django_db

HUBSPOT_HEADERS = [
    "Record ID",
    "First Name",
    "Last Name",
    "Email",
    "Phone Number",
    "Mobile Phone Number",
    "Contact owner",
    "Lead Status",
    "Create Date",
    "Company Name",
]


def csv_bytes(rows: list[list], *, delimiter=",", encoding="utf-8", bom=False) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    data = buffer.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def xlsx_bytes(rows: list[list]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(data: bytes, name: str = "contactos.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def import_file(data, by, *, name="contactos.csv", match_by=None, mapping=None, batch_size=None):
    """Upload, keep the auto-mapping (or the one given) and run the job to the end."""
    job = imports.start_import(upload=upload(data, name), by=by)
    mapping = job.mapping if mapping is None else mapping
    match_by = match_by or imports.default_match_by(mapping)
    job = imports.configure_import(job=job, mapping=mapping, match_by=match_by, by=by)
    return imports.run_import(job.pk, batch_size=batch_size)


def targets(job: ImportJob) -> dict[str, str]:
    return {job.headers[int(i)]: target for i, target in job.mapping.items()}


def phones(contact: Contact) -> set[str]:
    return set(
        contact.points.filter(kind__in=ContactPoint.PHONE_KINDS).values_list("value", flat=True)
    )


def emails(contact: Contact) -> set[str]:
    return set(contact.points.filter(kind="email").values_list("value", flat=True))


# --- auto-mapping --------------------------------------------------------------------------


def test_auto_map_recognises_a_hubspot_contacts_export():
    mapping = imports.auto_map(HUBSPOT_HEADERS)
    named = {HUBSPOT_HEADERS[int(i)]: target for i, target in mapping.items()}
    assert named == {
        "First Name": "first_name",
        "Last Name": "last_name",
        "Email": "email",
        "Phone Number": "phone",
        "Mobile Phone Number": "mobile",
        "Contact owner": "owner",
        "Create Date": "created_at",
        "Company Name": "company",
    }


def test_auto_map_recognises_spanish_headers_and_typed_identifications():
    headers = [
        "Nombres",
        "Apellidos",
        "Correo",
        "Teléfono",
        "Celular",
        "WhatsApp",
        "Cédula",
        "RUC",
        "DNI",
        "Tipo de identificación",
        "Nº de documento",
        "Empresa",
        "Fecha de nacimiento",
        "Etiquetas",
        "Notas",
        "Teléfono casa",
        "E-mail 2",
        "C.I.",
        "Columna rara",
    ]
    named = {headers[int(i)]: t for i, t in imports.auto_map(headers).items()}
    assert named == {
        "Nombres": "first_name",
        "Apellidos": "last_name",
        "Correo": "email",
        "Teléfono": "phone",
        "Celular": "mobile",
        "WhatsApp": "whatsapp",
        "Cédula": "identification:ci",
        "RUC": "identification:ruc",
        "DNI": "identification:dni",
        "Tipo de identificación": "identification_type",
        "Nº de documento": "identification_number",
        "Empresa": "company",
        "Fecha de nacimiento": "birth_date",
        "Etiquetas": "labels",
        "Notas": "notes",
        "Teléfono casa": "phone",
        "E-mail 2": "email",
        "C.I.": "identification:ci",
    }


def test_auto_map_gives_a_single_field_only_to_its_first_column():
    mapping = imports.auto_map(["Nombre", "Nombres", "Empresa", "Company Name"])
    assert mapping == {"0": "first_name", "2": "company"}


# --- reading files ---------------------------------------------------------------------------


def test_csv_in_utf8_with_bom_and_semicolons(admin_user):
    data = csv_bytes(
        [
            ["Nombres", "Apellidos", "Cédula", "Teléfono", "Correo"],
            ["José", "Núñez", "1.234.567", "0991 651351", "Jose@Example.com"],
            ["Ñandutí", "Peña", "2345678", "+595 981 222333", ""],
        ],
        delimiter=";",
        bom=True,
    )
    job = import_file(data, admin_user)
    assert (job.status, job.created_count, job.rejected_count) == ("done", 2, 0)
    assert job.headers[0] == "Nombres"  # no BOM glued to the first header
    jose = Contact.objects.get(identification_key="1234567")
    assert (jose.first_name, jose.last_name, jose.identification_type) == ("José", "Núñez", "ci")
    assert phones(jose) == {"+595991651351"} and emails(jose) == {"jose@example.com"}
    assert (jose.primary_phone, jose.primary_email) == ("+595991651351", "jose@example.com")
    assert jose.search_name == "jose nunez"
    assert Contact.objects.get(identification_key="2345678").first_name == "Ñandutí"


def test_csv_in_latin1_with_commas_and_quoted_fields(admin_user):
    data = csv_bytes(
        [
            ["Nombre completo", "Teléfono", "Empresa", "Notas"],
            ["María José Benítez Ortiz", "0971 123456", "Tejidos Ñemby, S.A.", "línea 1\nlínea 2"],
        ],
        encoding="latin-1",
    )
    job = import_file(data, admin_user)
    assert (job.created_count, job.rejected_count) == (1, 0), job.rejected_rows
    contact = Contact.objects.get()
    assert (contact.first_name, contact.last_name) == ("María José", "Benítez Ortiz")
    assert contact.company == "Tejidos Ñemby, S.A."
    assert contact.notes == "línea 1\nlínea 2"


def test_csv_with_tabs(admin_user):
    data = csv_bytes([["Email", "First Name"], ["ana@example.com", "Ana"]], delimiter="\t")
    job = import_file(data, admin_user)
    assert job.created_count == 1
    assert Contact.objects.get().primary_email == "ana@example.com"


def test_xlsx_with_numbers_and_dates_in_cells(admin_user):
    data = xlsx_bytes(
        [
            ["Nombres", "Apellidos", "CI", "Celular", "Fecha de nacimiento", "Etiquetas"],
            ["Carlos", "Giménez", 3456789, 595981444555, datetime.date(1985, 3, 9), "VIP; Mora"],
            [None, None, None, None, None, None],  # a blank line is skipped, not rejected
            ["Lucía", "Ferreira", "4.567.890", "abc", None, ""],
        ]
    )
    job = import_file(data, admin_user, name="planilla.xlsx")
    assert (job.total_rows, job.created_count, job.rejected_count) == (2, 1, 1)
    carlos = Contact.objects.get()
    assert carlos.identification_number == "3456789"
    assert phones(carlos) == {"+595981444555"}
    assert carlos.birth_date == datetime.date(1985, 3, 9)
    assert sorted(carlos.labels.values_list("name", flat=True)) == ["Mora", "VIP"]
    (rejected,) = job.rejected_rows
    assert rejected["row"] == 4
    assert "«abc» no es un número de teléfono válido" in rejected["reason"]


def test_hubspot_export_keeps_owner_and_create_date(admin_user, agent):
    data = csv_bytes(
        [
            HUBSPOT_HEADERS,
            [
                "101",
                "Ana",
                "Rojas",
                "ana@example.com",
                "+595 21 600 700",
                "0991 651351",
                agent.display_name,
                "New",
                "2023-05-12 14:33",
                "Acme",
            ],
            ["102", "", "", "solo@example.com", "", "", "Nadie", "", "2024-01-02", ""],
        ]
    )
    job = import_file(data, admin_user, name="hubspot-crm-exports-all-contacts.csv")
    assert (job.created_count, job.rejected_count) == (2, 0), job.rejected_rows
    ana = Contact.objects.get(primary_email="ana@example.com")
    assert ana.assigned_to == agent
    assert ana.created_by == admin_user
    assert timezone.localtime(ana.created_at).strftime("%Y-%m-%d %H:%M") == "2023-05-12 14:33"
    assert set(ana.points.values_list("kind", "value")) == {
        ("email", "ana@example.com"),
        ("phone", "+59521600700"),
        ("mobile", "+595991651351"),
    }
    assert Contact.objects.get(primary_email="solo@example.com").assigned_to is None
    assert AuditEntry.objects.filter(action="create", actor=admin_user).count() == 2


# --- 10,000 rows with bad ones among them -------------------------------------------------------

BAD_KINDS = ["phone", "email", "nothing", "existing_id", "repeated_id", "birth_date"]


def big_file(existing_ci: str) -> tuple[bytes, dict[int, str]]:
    """10,000 data rows; every 50th (200 in all) is bad in one of six ways.

    Returns the CSV and {row number: expected fragment of the reason}.
    """
    rows = [["Nombres", "Apellidos", "CI", "Celular", "Correo", "Fecha de nacimiento", "Notas"]]
    expected: dict[int, str] = {}
    for i in range(10_000):
        number = i + 2  # the header is row 1
        row = [
            f"Nombre{i}",
            f"Apellido{i}",
            str(1_000_000 + i),
            f"0991 {i:06d}",
            f"persona{i}@example.com",
            "15/04/1990",
            "",
        ]
        if i % 50 == 7:
            kind = BAD_KINDS[(i // 50) % len(BAD_KINDS)]
            if kind == "phone":
                row[3] = f"12-{i}"
                expected[number] = "no es un número de teléfono válido"
            elif kind == "email":
                row[4] = f"persona{i}.example.com"
                expected[number] = "no es un correo electrónico válido"
            elif kind == "nothing":
                row[:5] = ["", "", "", "", ""]
                row[6] = "solo una nota"
                expected[number] = "no tiene nombre, empresa ni ningún dato de contacto"
            elif kind == "existing_id":
                row[2] = existing_ci
                expected[number] = "Ya existe otro contacto con la identificación"
            elif kind == "repeated_id":
                row[2] = str(1_000_000 + i - 1)  # the row above, which is good
                expected[number] = f"ya aparece en la fila {number - 1}"
            elif kind == "birth_date":
                row[5] = "31/02/1990"
                expected[number] = "Fecha de nacimiento no válida"
        rows.append(row)
    return csv_bytes(rows), expected


def test_ten_thousand_rows_import_the_good_ones_and_report_each_bad_one(admin_user):
    existing = create_contact(
        by=admin_user,
        first_name="Ya",
        last_name="Estaba",
        identification_type="ci",
        identification_number="9999999",
    )
    data, expected = big_file("9999999")
    job = imports.start_import(upload=upload(data, "diez-mil.csv"), by=admin_user)
    job = imports.configure_import(
        job=job, mapping=job.mapping, match_by=ImportJob.MatchBy.EMAIL, by=admin_user
    )
    job = imports.run_import(job.pk)
    assert len(expected) == 200
    assert job.status == ImportJob.Status.DONE
    assert (job.total_rows, job.processed_rows) == (10_000, 10_000)
    assert (job.created_count, job.updated_count, job.rejected_count) == (9_800, 0, 200)
    reported = {entry["row"]: entry["reason"] for entry in job.rejected_rows}
    assert set(reported) == set(expected)
    for number, fragment in expected.items():
        assert fragment in reported[number], (number, reported[number])
    assert Contact.objects.exclude(pk=existing.pk).count() == 9_800
    assert ContactPoint.objects.filter(kind="mobile").count() == 9_800
    assert ContactPoint.objects.filter(kind="email").count() == 9_800
    sample = Contact.objects.get(identification_key="1000123")
    assert (sample.first_name, sample.primary_phone) == ("Nombre123", "+595991000123")
    assert sample.birth_date == datetime.date(1990, 4, 15)
    assert sample.created_by == admin_user


# --- upsert ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "match_by, key_column, key_value",
    [
        ("identification", "CI", "1.234.567"),
        ("email", "Correo", "JUAN@Example.com"),
        ("phone", "Teléfono", "0991-651351"),
    ],
)
def test_a_matching_row_completes_the_existing_contact_instead_of_duplicating_it(
    admin_user, match_by, key_column, key_value
):
    juan = create_contact(
        by=admin_user,
        first_name="Juan",
        identification_type="ci",
        identification_number="1234567",
        points=[PointInput("email", "juan@example.com"), PointInput("phone", "+595991651351")],
    )
    headers = ["Nombres", "Apellidos", "Empresa", "WhatsApp", "Etiquetas", key_column]
    data = csv_bytes(
        [headers, ["Juan Carlos", "Pérez", "Acme", "0981 222333", "Cliente", key_value]]
    )
    job = import_file(data, admin_user, match_by=match_by)
    assert (job.created_count, job.updated_count, job.rejected_count) == (0, 1, 0)
    assert Contact.objects.count() == 1
    juan.refresh_from_db()
    assert juan.first_name == "Juan"  # filled fields are never overwritten
    assert (juan.last_name, juan.company, juan.search_name) == ("Pérez", "Acme", "juan perez")
    assert ("whatsapp", "+595981222333") in set(juan.points.values_list("kind", "value"))
    assert juan.points.count() == 3  # the matching key was not added a second time
    assert list(juan.labels.values_list("name", flat=True)) == ["Cliente"]
    entry = AuditEntry.objects.filter(action="update", object_id=str(juan.pk)).get()
    assert entry.actor == admin_user
    assert entry.changes["last_name"] == ["", "Pérez"]


def test_rows_of_the_same_person_in_one_file_become_one_contact(admin_user):
    data = csv_bytes(
        [
            ["Correo", "Nombres", "Teléfono"],
            ["ana@example.com", "Ana", "0991 111111"],
            ["ANA@example.com", "", "0991 222222"],
        ]
    )
    job = import_file(data, admin_user, match_by="email")
    assert (job.created_count, job.updated_count) == (1, 1)
    ana = Contact.objects.get()
    assert phones(ana) == {"+595991111111", "+595991222222"}
    assert ana.points.get(value="+595991111111").is_primary
    assert not ana.points.get(value="+595991222222").is_primary


def test_matching_by_email_refuses_an_identification_of_another_contact(admin_user):
    create_contact(
        by=admin_user, first_name="Otro", identification_type="ci", identification_number="555"
    )
    data = csv_bytes([["Correo", "Nombres", "CI"], ["nuevo@example.com", "Nuevo", "555"]])
    job = import_file(data, admin_user, match_by="email")
    assert job.rejected_count == 1
    assert job.rejected_rows[0]["reason"] == (
        "Ya existe otro contacto con la identificación CI 555."
    )
    assert Contact.objects.count() == 1


def test_rejection_reasons_are_in_the_importers_language(admin_user):
    admin_user.language = "en"
    admin_user.save(update_fields=["language"])
    data = csv_bytes([["First Name", "Phone Number"], ["Ann", "12-34"], ["", ""], ["Bo", ""]])
    job = import_file(data, admin_user)
    assert [e["reason"] for e in job.rejected_rows] == [
        "Phone Number: “12-34” is not a valid phone number.",
    ]


# --- resumability -------------------------------------------------------------------------------


def people_csv(count: int) -> bytes:
    rows = [["Nombres", "CI", "Correo"]]
    rows += [[f"P{i}", str(2_000_000 + i), f"p{i}@example.com"] for i in range(count)]
    return csv_bytes(rows)


def test_a_crash_keeps_the_committed_batches_and_the_rerun_imports_each_row_once(
    admin_user, monkeypatch
):
    job = imports.start_import(upload=upload(people_csv(1_200)), by=admin_user)
    job = imports.configure_import(
        job=job, mapping=job.mapping, match_by="identification", by=admin_user
    )
    real_write, calls = imports._write, []

    def crash_on_second_batch(plan, by):
        calls.append(len(plan.outcomes))
        real_write(plan, by)
        if len(calls) == 2:
            raise RuntimeError("disco lleno")

    monkeypatch.setattr(imports, "_write", crash_on_second_batch)
    with pytest.raises(RuntimeError):
        imports.run_import(job.pk, batch_size=500)
    job.refresh_from_db()
    # The second batch was rolled back with its checkpoint: only the first one stays.
    assert (job.status, job.processed_rows, job.created_count) == ("running", 500, 500)
    assert Contact.objects.count() == 500
    imports.mark_import_failed(job.pk, error=RuntimeError("disco lleno"), final=True)
    job.refresh_from_db()
    assert job.status == "failed" and "disco lleno" in job.error

    monkeypatch.setattr(imports, "_write", real_write)
    imports.resume_import(job=job, by=admin_user)
    job = imports.run_import(job.pk, batch_size=500)
    assert (job.status, job.processed_rows, job.created_count, job.updated_count) == (
        "done",
        1_200,
        1_200,
        0,
    )
    assert Contact.objects.count() == 1_200
    assert ContactPoint.objects.filter(kind="email").count() == 1_200


def test_a_run_continues_after_the_checkpoint(admin_user):
    data = people_csv(900)
    job = imports.start_import(upload=upload(data), by=admin_user)
    job = imports.configure_import(
        job=job, mapping=job.mapping, match_by="identification", by=admin_user
    )
    # As if a first run had committed the first 300 rows and then died.
    first = imports.start_import(upload=upload(people_csv(300)), by=admin_user)
    imports.configure_import(job=first, mapping=first.mapping, match_by="email", by=admin_user)
    imports.run_import(first.pk)
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.RUNNING, processed_rows=300, created_count=300
    )
    job = imports.run_import(job.pk, batch_size=250)
    assert (job.processed_rows, job.created_count, job.updated_count) == (900, 900, 0)
    assert Contact.objects.count() == 900
    assert Contact.objects.filter(identification_key="2000000").count() == 1


def test_a_finished_import_run_again_changes_nothing(admin_user):
    job = import_file(people_csv(20), admin_user)
    assert job.created_count == 20
    job = imports.run_import(job.pk)
    assert (job.status, job.created_count, Contact.objects.count()) == ("done", 20, 20)


def test_a_second_runner_stops_when_the_batch_was_already_committed(admin_user):
    job = imports.start_import(upload=upload(people_csv(10)), by=admin_user)
    job = imports.configure_import(job=job, mapping=job.mapping, match_by="email", by=admin_user)
    job.status = ImportJob.Status.RUNNING
    ImportJob.objects.filter(pk=job.pk).update(status="running", processed_rows=4)
    reader = imports._Reader(headers=job.headers, mapping=job.mapping)
    stale = [(n, v) for n, v in list(imports._job_rows(job))[:4]]
    with pytest.raises(imports.ImportSuperseded):
        imports._run_batch(job, reader, stale, 0)
    assert Contact.objects.count() == 0


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "file, message",
    [
        (None, "Elige un archivo CSV o XLSX."),
        (SimpleUploadedFile("foto.png", b"\x89PNG\r\n\x1a\n"), "Solo se pueden importar"),
        (SimpleUploadedFile("vacio.csv", b""), "El archivo está vacío."),
        (SimpleUploadedFile("blanco.csv", b"\r\n;;\r\n"), "El archivo está vacío."),
        (SimpleUploadedFile("cabecera.csv", b"Nombres;Correo\r\n"), "no tiene filas de datos"),
        (SimpleUploadedFile("falso.xlsx", b"Nombres,Correo\nAna,a@b.c"), "no es un XLSX"),
        (SimpleUploadedFile("roto.xlsx", b"PK\x03\x04basura"), "No se pudo leer"),
        (SimpleUploadedFile("excel.csv", b"PK\x03\x04basura"), "planilla de Excel"),
    ],
)
def test_bad_files_are_refused_in_spanish_and_nothing_is_stored(admin_user, file, message):
    with pytest.raises(ValidationError) as caught:
        imports.start_import(upload=file, by=admin_user)
    assert message in " ".join(caught.value.messages)
    assert ImportJob.objects.count() == 0


@override_settings(ATIENDE_MAX_UPLOAD_MB=1)
def test_a_file_over_the_size_limit_is_refused(admin_user):
    data = people_csv(40_000)
    assert len(data) > 1024 * 1024
    with pytest.raises(ValidationError) as caught:
        imports.start_import(upload=upload(data), by=admin_user)
    assert caught.value.messages == ["El archivo supera el tamaño máximo de 1 MB."]


def test_a_mapping_without_name_phone_or_email_is_refused_and_nothing_runs(admin_user):
    data = csv_bytes([["Nombres", "Notas"], ["Ana", "hola"]])
    job = imports.start_import(upload=upload(data), by=admin_user)
    with pytest.raises(ValidationError) as caught:
        imports.configure_import(job=job, mapping={"1": "notes"}, match_by="email", by=admin_user)
    assert "Asigna al menos una columna de nombre" in " ".join(caught.value.messages)
    assert "Para actualizar por correo" in " ".join(caught.value.messages)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.MAPPING
    assert Contact.objects.count() == 0


def test_a_generic_identification_column_needs_a_type(admin_user):
    data = csv_bytes(
        [
            ["Nombres", "Documento", "Tipo de documento"],
            ["Ana", "80012345-6", "RUC"],
            ["Bea", "123", "Carnet"],
        ]
    )
    job = imports.start_import(upload=upload(data), by=admin_user)
    assert set(job.mapping.values()) == {
        "first_name",
        "identification_number",
        "identification_type",
    }
    problems = imports.mapping_problems(
        job.headers, {"0": "first_name", "1": "identification_number"}, "identification"
    )
    assert any("tipo de identificación" in p for p in problems)
    job = import_file(data, admin_user)
    assert (job.created_count, job.rejected_count) == (1, 1)
    assert Contact.objects.get().identification_type == "ruc"
    assert job.rejected_rows[0]["reason"] == "Tipo de identificación desconocido: «Carnet»."


def test_an_agent_may_not_import(agent):
    with pytest.raises(PermissionDenied):
        imports.start_import(upload=upload(people_csv(1)), by=agent)


# --- preview ------------------------------------------------------------------------------------


def test_preview_shows_what_each_row_would_do_without_writing(admin_user):
    create_contact(by=admin_user, first_name="Existe", points=[PointInput("email", "e@x.com")])
    data = csv_bytes(
        [["Nombres", "Correo"], ["Existe", "E@x.com"], ["Nueva", "n@x.com"], ["Mala", "mala"]]
    )
    job = imports.start_import(upload=upload(data), by=admin_user)
    preview = imports.preview_import(job, match_by="email")
    assert [c[1] for c in preview.columns] == ["Nombres", "Correo"]
    assert [r.action for r in preview.rows] == ["updated", "created", "rejected"]
    assert preview.rows[0].contact.first_name == "Existe"
    assert "«mala» no es un correo electrónico válido" in preview.rows[2].reason
    assert preview.problems == []
    assert Contact.objects.count() == 1


# --- export -------------------------------------------------------------------------------------


def make_contacts(count: int, by, *, label=None, assigned_to=None) -> list[Contact]:
    contacts = []
    start = Contact.objects.count()
    for i in range(start, start + count):
        contact = create_contact(
            by=by,
            first_name=f"Cliente{i}",
            last_name="Núñez",
            identification_type="ci",
            identification_number=str(3_000_000 + i),
            company="Acme",
            assigned_to=assigned_to,
            labels=[label] if label else [],
            points=[PointInput("mobile", f"0981 {i:06d}"), PointInput("email", f"c{i}@x.com")],
        )
        contacts.append(contact)
    return contacts


def read_csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


def test_csv_export_has_the_documented_columns_and_honours_the_list_filters(
    client, supervisor, agent
):
    vip = Label.objects.create(name="VIP")
    chosen = make_contacts(3, supervisor, label=vip, assigned_to=agent)
    make_contacts(4, supervisor)
    client.force_login(supervisor)
    response = client.get(reverse("contacts:export"), {"label": vip.pk, "sort": "name"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'attachment; filename="contactos-' in response["Content-Disposition"]
    header, *rows = read_csv(response)
    assert header == [
        "ID",
        "Nombres",
        "Apellidos",
        "Tipo de identificación",
        "Número de identificación",
        "Teléfono",
        "Correo",
        "Empresa",
        "Usuario asignado",
        "Etiquetas",
        "Creado",
        "Última interacción",
    ]
    assert [int(r[0]) for r in rows] == [c.pk for c in chosen]
    first = rows[0]
    assert first[1:10] == [
        "Cliente0",
        "Núñez",
        "CI",
        "3000000",
        "+595 981 000000",
        "c0@x.com",
        "Acme",
        agent.display_name,
        "VIP",
    ]
    assert first[10] == timezone.localtime(chosen[0].created_at).strftime("%Y-%m-%d %H:%M")
    assert first[11] == ""


def test_xlsx_export_is_a_real_workbook_with_the_filtered_rows(client, admin_user, agent):
    mine = make_contacts(2, admin_user, assigned_to=agent)
    make_contacts(1, admin_user)
    client.force_login(admin_user)
    response = client.get(reverse("contacts:export"), {"assigned_to": agent.pk, "formato": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(workbook.active.iter_rows(values_only=True))
    assert rows[0][:3] == ("ID", "Nombres", "Apellidos")
    assert sorted(r[0] for r in rows[1:]) == sorted(c.pk for c in mine)
    assert isinstance(rows[1][10], datetime.datetime)


def test_export_never_writes_a_formula(client, admin_user):
    create_contact(by=admin_user, first_name='=HYPERLINK("http://x","y")', company="@SUM(1)")
    client.force_login(admin_user)
    rows = read_csv(client.get(reverse("contacts:export")))
    assert rows[1][1] == '\'=HYPERLINK("http://x","y")'
    assert rows[1][7] == "'@SUM(1)"
    data = b"".join(client.get(reverse("contacts:export"), {"formato": "xlsx"}).streaming_content)
    cell = load_workbook(io.BytesIO(data)).active["B2"]
    assert cell.data_type == "s"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_runs_the_same_number_of_queries_for_5_or_50_contacts(admin_user, agent, fmt):
    label = Label.objects.create(name="Mora")

    def count_queries() -> int:
        export = exports.export_contacts(user=admin_user, filters=ContactFilters(), fmt=fmt)
        with CaptureQueriesContext(connection) as queries:
            b"".join(export.chunks)
        return len(queries)

    make_contacts(5, admin_user, label=label, assigned_to=agent)
    few = count_queries()
    make_contacts(45, admin_user, assigned_to=agent)
    assert count_queries() == few <= 3


def test_an_unknown_format_is_refused_with_a_message(client, admin_user):
    client.force_login(admin_user)
    response = client.get(reverse("contacts:export"), {"formato": "pdf", "q": "ana"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("contacts:list") + "?q=ana"
    assert "Formato desconocido" in response.content.decode()


def test_an_export_can_be_imported_back(admin_user, client):
    make_contacts(3, admin_user)
    client.force_login(admin_user)
    data = b"".join(client.get(reverse("contacts:export")).streaming_content)
    job = imports.start_import(upload=upload(data, "export.csv"), by=admin_user)
    assert set(job.mapping.values()) >= {
        "first_name",
        "last_name",
        "identification_type",
        "identification_number",
        "phone",
        "email",
        "company",
        "owner",
        "labels",
        "created_at",
    }
    job = imports.configure_import(
        job=job, mapping=job.mapping, match_by="identification", by=admin_user
    )
    job = imports.run_import(job.pk)
    assert (job.created_count, job.updated_count, job.rejected_count) == (0, 3, 0)
    assert Contact.objects.count() == 3


# --- permissions --------------------------------------------------------------------------------


def test_an_agent_gets_403_on_every_import_and_export_screen(client, agent, admin_user):
    job = imports.start_import(upload=upload(people_csv(2)), by=admin_user)
    client.force_login(agent)
    for name, args in [
        ("contacts:import", []),
        ("contacts:import_detail", [job.pk]),
        ("contacts:import_progress", [job.pk]),
        ("contacts:import_rejected", [job.pk]),
        ("contacts:export", []),
    ]:
        assert client.get(reverse(name, args=args)).status_code == 403, name
    response = client.post(reverse("contacts:import"), {"file": upload(people_csv(2))})
    assert response.status_code == 403
    response = client.post(reverse("contacts:import_detail", args=[job.pk]), {"col-0": "x"})
    assert response.status_code == 403
    assert ImportJob.objects.count() == 1 and Contact.objects.count() == 0


def test_an_agent_gets_403_from_the_import_and_export_api(client, agent, api_token):
    headers = api_token(agent)
    response = client.post(
        "/api/v1/contacts/imports", {"file": upload(people_csv(2))}, headers=headers
    )
    assert response.status_code == 403
    assert response.json() == {"detail": "No tienes permiso para realizar esta acción."}
    assert client.get("/api/v1/contacts/export", headers=headers).status_code == 403
    assert ImportJob.objects.count() == 0


# --- the screens, end to end --------------------------------------------------------------------


def test_upload_map_run_and_download_the_rejected_rows(
    client, supervisor, django_capture_on_commit_callbacks
):
    client.force_login(supervisor)
    page = client.get(reverse("contacts:import"))
    assert page.status_code == 200
    assert "Todavía no se importó ningún archivo." in page.content.decode()

    data = csv_bytes(
        [
            ["Nombre", "Apellido", "Cédula", "Celular", "Email", "Columna rara"],
            ["Ana", "Rojas", "111", "0991 111111", "ana@x.com", "x"],
            ["Bea", "Sosa", "222", "no tengo", "bea@x.com", "y"],
            ["", "", "", "", "", "z"],
        ],
        delimiter=";",
        bom=True,
    )
    response = client.post(reverse("contacts:import"), {"file": upload(data, "clientes.csv")})
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("contacts:import_detail", args=[job.pk])

    page = client.get(response["Location"]).content.decode()
    assert "2. Asigna las columnas" in page
    assert '<option value="identification:ci" selected>' in page
    assert "no tengo" in page  # a sample value of the column
    assert "«no tengo» no es un número de teléfono válido" in page  # the preview's problem
    assert "table-danger" in page

    preview = client.post(
        reverse("contacts:import_preview", args=[job.pk]),
        {"col-0": "first_name", "match_by": "identification"},
        headers={"HX-Request": "true"},
    ).content.decode()
    assert "Para actualizar por identificación" in preview

    form = {f"col-{i}": t for i, t in job.mapping.items()} | {"match_by": "identification"}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("contacts:import_detail", args=[job.pk]), form)
    assert response.status_code == 302
    job.refresh_from_db()
    assert (job.status, job.created_count, job.rejected_count) == ("done", 1, 2)

    page = client.get(reverse("contacts:import_detail", args=[job.pk])).content.decode()
    assert "Importación terminada" in page
    assert "Descargar filas rechazadas" in page
    assert 'hx-trigger="every 1s"' not in page  # no more polling once done
    progress = client.get(reverse("contacts:import_progress", args=[job.pk])).content.decode()
    assert "2 de 2 filas procesadas" not in progress and "3 de 3 filas procesadas" in progress

    report = client.get(reverse("contacts:import_rejected", args=[job.pk]))
    rows = read_csv(report)
    assert rows[0] == ["Fila", "Motivo", *job.headers]
    assert [r[0] for r in rows[1:]] == ["3", "4"]
    assert "«no tengo» no es un número de teléfono válido" in rows[1][1]
    assert "no tiene nombre" in rows[2][1]

    listing = client.get(reverse("contacts:import")).content.decode()
    assert "clientes.csv" in listing


def test_progress_polls_while_the_job_runs(client, admin_user):
    job = imports.start_import(upload=upload(people_csv(3)), by=admin_user)
    ImportJob.objects.filter(pk=job.pk).update(status="running", processed_rows=1)
    client.force_login(admin_user)
    page = client.get(reverse("contacts:import_progress", args=[job.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in page
    assert "1 de 3 filas procesadas" in page and "33 %" in page


@pytest.mark.parametrize(
    "data, message",
    [
        (None, "Elige un archivo CSV o XLSX."),
        (("notas.txt", b"hola"), "Solo se pueden importar archivos CSV o XLSX."),
        (("vacio.csv", b""), "El archivo está vacío."),
    ],
)
def test_upload_errors_are_shown_on_the_form(client, admin_user, data, message):
    client.force_login(admin_user)
    payload = {"file": SimpleUploadedFile(*data)} if data else {}
    response = client.post(reverse("contacts:import"), payload)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert ImportJob.objects.count() == 0


def test_a_bad_mapping_is_shown_and_the_job_keeps_waiting(client, admin_user):
    job = imports.start_import(upload=upload(people_csv(3)), by=admin_user)
    client.force_login(admin_user)
    response = client.post(
        reverse("contacts:import_detail", args=[job.pk]), {"col-1": "notes", "match_by": "email"}
    )
    assert response.status_code == 400
    assert "Asigna al menos una columna de nombre" in response.content.decode()
    job.refresh_from_db()
    assert job.status == "mapping"


def test_a_failed_import_can_be_resumed_from_the_screen(
    client, admin_user, django_capture_on_commit_callbacks
):
    job = imports.start_import(upload=upload(people_csv(6)), by=admin_user)
    imports.configure_import(job=job, mapping=job.mapping, match_by="email", by=admin_user)
    ImportJob.objects.filter(pk=job.pk).update(status="failed", error="La importación se cortó")
    client.force_login(admin_user)
    page = client.get(reverse("contacts:import_detail", args=[job.pk])).content.decode()
    assert "Reanudar" in page and "La importación se cortó" in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("contacts:import_resume", args=[job.pk]))
    job.refresh_from_db()
    assert (job.status, job.created_count) == ("done", 6)


# --- API ------------------------------------------------------------------------------------------


def test_api_upload_start_poll_and_export(
    client, admin_user, api_token, django_capture_on_commit_callbacks
):
    headers = api_token(admin_user)
    data = csv_bytes([HUBSPOT_HEADERS, ["1", "Ana", "Rojas", "ana@x.com", "", "", "", "", "", ""]])
    response = client.post(
        "/api/v1/contacts/imports", {"file": upload(data, "hubspot.csv")}, headers=headers
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "mapping" and body["mapping"]["1"] == "first_name"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/api/v1/contacts/imports/{body['id']}/start",
            {"match_by": "email"},
            content_type="application/json",
            headers=headers,
        )
    assert response.status_code == 200, response.content
    status = client.get(f"/api/v1/contacts/imports/{body['id']}", headers=headers).json()
    assert (status["status"], status["created_count"], status["progress"]) == ("done", 1, 100)
    assert client.get("/api/v1/contacts/imports", headers=headers).json()[0]["id"] == body["id"]

    response = client.get("/api/v1/contacts/export", {"q": "rojas"}, headers=headers)
    assert response.status_code == 200
    rows = read_csv(response)
    assert len(rows) == 2 and rows[1][1] == "Ana"


def test_api_bad_upload_is_422_in_spanish(client, admin_user, api_token):
    response = client.post("/api/v1/contacts/imports", {}, headers=api_token(admin_user))
    assert response.status_code == 422
    assert response.json() == {"detail": {"file": ["Elige un archivo CSV o XLSX."]}}
    response = client.get("/api/v1/contacts/imports/999", headers=api_token(admin_user))
    assert response.status_code == 404


def test_api_upload_with_start_imports_at_once(
    client, supervisor, api_token, django_capture_on_commit_callbacks
):
    data = csv_bytes([["Nombres", "Celular"], ["Ana", "0991 111111"], ["Bea", "0991 222222"]])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/contacts/imports",
            {"file": upload(data), "start": "true", "match_by": "phone"},
            headers=api_token(supervisor),
        )
    assert response.status_code == 201, response.content
    job = ImportJob.objects.get(pk=response.json()["id"])
    assert (job.status, job.match_by, job.created_count) == ("done", "phone", 2)
