"""Contact screens: thin views that parse the request, call a service or selector, render.

The profile is one page with tabs. Each tab is its own URL: a plain GET renders the whole profile
with that tab open, an htmx request (`HX-Request`) renders only the tab, so the page works with
or without JavaScript. Forms inside a tab post to the tab and get the tab back.
"""

import datetime
from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from atiende.activities import selectors as activity_selectors
from atiende.activities import services as activity_services
from atiende.activities import timeline
from atiende.activities.models import Note, Task
from atiende.contacts import selectors, services
from atiende.contacts.forms import (
    LABEL_COLORS,
    AccountForm,
    AssignForm,
    AttachmentForm,
    BulkActionForm,
    CallForm,
    CustomFieldForm,
    EditContactForm,
    GroupForm,
    LabelForm,
    MergeForm,
    NewContactForm,
    NoteForm,
    PointForm,
    RelationForm,
    TaskForm,
    parse_date,
)
from atiende.contacts.models import (
    Account,
    Contact,
    ContactGroup,
    ContactPoint,
    ContactRelation,
    CustomField,
    Label,
)
from atiende.core.dates import day_start
from atiende.core.forms import add_service_errors
from atiende.core.models import Attachment
from atiende.core.permissions import require
from atiende.users.selectors import assignable_users

PAGE_SIZES = (25, 50, 100)
HISTORY_PAGE = 25

# slug → (url name, label, icon), in the order of the tab bar.
TABS = {
    "info": ("contacts:info", gettext_lazy("Información"), "person-lines-fill"),
    "points": ("contacts:points", gettext_lazy("Datos de contacto"), "telephone"),
    "activity": ("contacts:activity", gettext_lazy("Actividad"), "clock-history"),
    "notes": ("contacts:notes", gettext_lazy("Notas"), "sticky"),
    "tasks": ("contacts:tasks", gettext_lazy("Tareas"), "check2-square"),
    "calls": ("contacts:calls", gettext_lazy("Llamadas"), "telephone-outbound"),
    "attachments": ("contacts:attachments", gettext_lazy("Adjuntos"), "paperclip"),
    "related": ("contacts:related", gettext_lazy("Relacionados"), "people"),
    "accounts": ("contacts:accounts", gettext_lazy("Cuentas"), "wallet2"),
    "history": ("contacts:history", gettext_lazy("Historial"), "journal-text"),
    "dashboard": ("contacts:dashboard", gettext_lazy("Dashboard"), "bar-chart"),
}


# --- helpers ---


def _partial(request: HttpRequest) -> bool:
    """An htmx request wants a fragment, except when htmx restores history from the server."""
    return request.htmx and request.headers.get("HX-History-Restore-Request") != "true"


def _contact(request: HttpRequest, pk: int | str) -> Contact:
    try:
        return selectors.contact_detail(user=request.user, contact_id=int(pk))
    except (Contact.DoesNotExist, ValueError) as exc:
        raise Http404 from exc


def _permissions(user, contact: Contact) -> dict[str, bool]:
    return {
        "can_change": user.has_perm("contacts.change_contact", contact),
        "can_assign": user.has_perm("contacts.assign_contact", contact),
        "can_merge": user.has_perm("contacts.merge_contacts", contact),
        "can_delete": user.has_perm("contacts.delete_contact", contact),
    }


def _header_context(request: HttpRequest, contact: Contact) -> dict:
    return {
        "contact": contact,
        "duplicates": list(selectors.possible_duplicates(contact=contact, limit=5)),
        "assign_form": AssignForm(initial={"assignee": contact.assigned_to_id}),
        **_permissions(request.user, contact),
    }


def _render_tab(
    request: HttpRequest,
    contact: Contact,
    tab: str,
    context: dict | None = None,
    *,
    notice: str = "",
    changed: bool = False,
) -> HttpResponse:
    """The tab alone for htmx, else the whole profile with the tab open."""
    template = f"contacts/tabs/{tab}.html"
    ctx = {
        "contact": contact,
        "tab": tab,
        "notice": notice,
        **_permissions(request.user, contact),
        **(context if context is not None else TAB_CONTEXT[tab](request, contact)),
    }
    if _partial(request):
        response = render(request, template, ctx)
        if changed:
            response["HX-Trigger"] = "contact-changed"
    else:
        ctx.update(_header_context(request, contact))
        ctx.update(
            tab_template=template,
            tabs=[
                (slug, reverse(url, args=[contact.pk]), label, icon)
                for slug, (url, label, icon) in TABS.items()
            ],
            section="contacts",
        )
        response = render(request, "contacts/profile.html", ctx)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _saved(
    request: HttpRequest, contact: Contact, tab: str, notice: str, *, changed: bool = False
) -> HttpResponse:
    """After a successful POST: the fresh tab for htmx, else redirect (post/redirect/get)."""
    if _partial(request):
        return _render_tab(request, contact, tab, notice=notice, changed=changed)
    messages.success(request, notice)
    return redirect(TABS[tab][0], contact.pk)


# --- list, create, bulk actions ---


def _per_page(request: HttpRequest) -> int:
    try:
        size = int(request.GET.get("per_page", PAGE_SIZES[0]))
    except ValueError:
        return PAGE_SIZES[0]
    return size if size in PAGE_SIZES else PAGE_SIZES[0]


@login_required
def contact_list(request: HttpRequest) -> HttpResponse:
    filters = selectors.filters_from_query(request.GET)
    contacts = selectors.contacts_for_list(user=request.user, filters=filters)
    page = Paginator(contacts, _per_page(request)).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    filtered = any(
        request.GET.get(name)
        for name in (
            "q",
            "assigned_to",
            "label",
            "group",
            "created_from",
            "created_to",
            "interaction_from",
            "interaction_to",
        )
    )
    return render(
        request,
        "contacts/list.html",
        {
            "page": page,
            "filters": filters,
            "f": request.GET,
            "per_page": _per_page(request),
            "page_sizes": PAGE_SIZES,
            "filtered": filtered,
            "query_string": query.urlencode(),
            "users": assignable_users(),
            "labels": Label.objects.all(),
            "groups": ContactGroup.objects.all(),
            "section": "contacts",
        },
    )


@login_required
def contact_create(request: HttpRequest) -> HttpResponse:
    require(request.user, "contacts.change_contact")
    form = NewContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        points, fields_of = [], []
        for kind in ("phone", "email"):
            if data[kind].strip():
                points.append(services.PointInput(kind=kind, value=data[kind], primary=True))
                fields_of.append(kind)
        try:
            contact = services.create_contact(
                by=request.user, points=points, **form.contact_fields()
            )
        except ValidationError as exc:
            add_service_errors(form, _point_errors(exc, fields_of))
        else:
            messages.success(request, _("Contacto creado: %(name)s.") % {"name": contact})
            return redirect("contacts:detail", contact.pk)
    return render(request, "contacts/new.html", {"form": form, "section": "contacts"})


def _point_errors(error: ValidationError, fields_of: list[str]) -> ValidationError:
    """`points.<i>.value` errors of the service shown under the phone or e-mail field."""
    if not hasattr(error, "error_dict"):
        return error
    mapped: dict[str, list] = {}
    for key, errors in error.error_dict.items():
        if key.startswith("points."):
            index = int(key.split(".")[1])
            key = fields_of[index] if index < len(fields_of) else "__all__"
        mapped.setdefault(key, []).extend(errors)
    return ValidationError(mapped)


@login_required
@require_POST
def contact_bulk(request: HttpRequest) -> HttpResponse:
    form = BulkActionForm(request.POST)
    back = reverse("contacts:list")
    if request.POST.get("query"):
        back += "?" + request.POST["query"]
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(back)
    data = form.cleaned_data
    contacts = list(Contact.objects.filter(pk__in=data["ids"]))
    try:
        if data["action"] in ("assign", "unassign"):
            assignee = data["assignee"] if data["action"] == "assign" else None
            count = services.bulk_assign(contacts=contacts, assignee=assignee, by=request.user)
        elif data["action"] == "label":
            count = services.bulk_add_label(contacts=contacts, label=data["label"], by=request.user)
        else:
            count = services.bulk_add_to_group(
                contacts=contacts, group=data["group"], by=request.user
            )
    except PermissionDenied:
        messages.error(
            request,
            _(
                "No se aplicó ningún cambio: no tienes permiso sobre alguno de los contactos "
                "elegidos (solo un administrador o el usuario asignado cambian la asignación)."
            ),
        )
    except ValidationError as exc:
        for error in exc.messages:
            messages.error(request, error)
    else:
        messages.success(request, _("Listo: %(n)s contactos actualizados.") % {"n": count})
    return redirect(back)


# --- profile header ---


@login_required
def contact_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_tab(request, _contact(request, pk), "info")


@login_required
def contact_header(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _contact(request, pk)
    return render(request, "contacts/_header.html", _header_context(request, contact))


@login_required
@require_POST
def contact_assign(request: HttpRequest, pk: int) -> HttpResponse:
    """Change or remove the assigned user; the service refuses (403) anyone but an admin or
    the currently assigned user."""
    contact = _contact(request, pk)
    form = AssignForm(request.POST)
    assignee = form.cleaned_data["assignee"] if form.is_valid() else None
    if request.POST.get("remove"):
        assignee = None
    try:
        services.assign_contact(contact=contact, assignee=assignee, by=request.user)
    except ValidationError as exc:
        notice, ok = " ".join(exc.messages), False
    else:
        ok = True
        if assignee:
            notice = _("Usuario asignado: %(name)s.") % {"name": assignee.name}
        else:
            notice = _("Se removió el usuario asignado.")
    if _partial(request):
        context = _header_context(request, _contact(request, pk))
        context["header_notice" if ok else "header_error"] = notice
        return render(request, "contacts/_header.html", context)
    (messages.success if ok else messages.error)(request, notice)
    return redirect("contacts:detail", contact.pk)


@login_required
@require_POST
def contact_delete(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _contact(request, pk)
    name = str(contact)
    services.delete_contact(contact=contact, by=request.user)
    messages.success(request, _("Contacto eliminado: %(name)s.") % {"name": name})
    return redirect("contacts:list")


# --- tab: información ---


def _custom_display(field: CustomField, value) -> str:
    """A custom value as people read it: dates in the user's format, the rest as stored."""
    if field.kind == CustomField.Kind.DATE and value:
        date = parse_date(str(value))
        if date is not None:
            return date_format(date, "DATE_FORMAT")
    return "" if value is None else str(value)


def _info_context(request: HttpRequest, contact: Contact) -> dict:
    fields = list(CustomField.objects.all())
    return {
        "custom_values": [
            (field.label, _custom_display(field, contact.custom.get(field.key))) for field in fields
        ],
    }


def _edit_form(contact: Contact, data=None) -> EditContactForm:
    fields = list(CustomField.objects.all())
    initial = {name: getattr(contact, name) for name in EditContactForm.CONTACT_FIELDS}
    initial.update(labels=list(contact.labels.all()), groups=list(contact.groups.all()))
    initial.update({f"custom_{f.key}": contact.custom.get(f.key, "") for f in fields})
    return EditContactForm(data, initial=initial, custom_fields=fields)


@login_required
def tab_info(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_tab(request, _contact(request, pk), "info")


@login_required
def info_edit(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _contact(request, pk)
    require(request.user, "contacts.change_contact", contact)
    form = _edit_form(contact, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.edit_contact(
                contact=contact,
                by=request.user,
                labels=list(form.cleaned_data["labels"]),
                groups=list(form.cleaned_data["groups"]),
                custom=form.custom_values(),
                **form.contact_fields(),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            contact = _contact(request, pk)
            return _saved(request, contact, "info", _("Datos guardados."), changed=True)
    return _render_tab(request, contact, "info", {"form": form, **_info_context(request, contact)})


# --- tab: datos de contacto ---


def _points_context(request: HttpRequest, contact: Contact, form: PointForm | None = None) -> dict:
    return {
        "points": list(contact.points.all()),
        "form": form or PointForm(initial={"kind": ContactPoint.Kind.MOBILE}),
    }


@login_required
def tab_points(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _contact(request, pk)
    if request.method != "POST":
        return _render_tab(request, contact, "points")
    form = PointForm(request.POST)
    if form.is_valid():
        try:
            services.add_point(contact=contact, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _saved(request, contact, "points", _("Dato de contacto agregado."), changed=True)
    return _render_tab(request, contact, "points", _points_context(request, contact, form))


@login_required
def point_edit(request: HttpRequest, pk: int, point_id: int) -> HttpResponse:
    contact = _contact(request, pk)
    point = get_object_or_404(ContactPoint, pk=point_id, contact=contact)
    form = PointForm(
        request.POST or None,
        initial={
            "kind": point.kind,
            "value": point.display_value,
            "label": point.label,
            "primary": point.is_primary,
        },
    )
    form.fields["kind"].disabled = True
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.update_point(
                point=point,
                by=request.user,
                value=data["value"],
                label=data["label"],
                primary=data["primary"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _saved(request, contact, "points", _("Dato de contacto guardado."), changed=True)
    context = {**_points_context(request, contact), "editing": point, "edit_form": form}
    return _render_tab(request, contact, "points", context)


@login_required
@require_POST
def point_delete(request: HttpRequest, pk: int, point_id: int) -> HttpResponse:
    contact = _contact(request, pk)
    point = get_object_or_404(ContactPoint, pk=point_id, contact=contact)
    services.delete_point(point=point, by=request.user)
    return _saved(request, contact, "points", _("Dato de contacto eliminado."), changed=True)


# --- tab: actividad ---


def _parse_moment(value: str | None) -> datetime.datetime | None:
    try:
        moment = datetime.datetime.fromisoformat((value or "").strip())
    except ValueError:
        return None
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


def _activity_context(request: HttpRequest, contact: Contact) -> dict:
    kinds = timeline.kinds()
    chosen = [kind for kind in request.GET.getlist("kind") if kind in kinds]
    date_from = parse_date(request.GET.get("from"))
    date_to = parse_date(request.GET.get("to"))
    since = day_start(date_from) if date_from else None
    until = day_start(date_to, days=1) if date_to else None
    cursor = _parse_moment(request.GET.get("until"))
    if cursor and (until is None or cursor < until):
        until = cursor
    page_size = activity_selectors.TIMELINE_PAGE
    items = activity_selectors.contact_timeline(
        contact=contact, kinds=set(chosen) or None, since=since, until=until, limit=page_size
    )
    query = request.GET.copy()
    query.pop("until", None)
    more_query = ""
    if len(items) == page_size:
        query["until"] = items[-1].at.isoformat()
        more_query = query.urlencode()
    return {
        "items": items,
        "kinds": list(kinds.items()),
        "chosen": chosen,
        "date_from": date_from,
        "date_to": date_to,
        "more_query": more_query,
        "is_more": cursor is not None,
    }


@login_required
def tab_activity(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _contact(request, pk)
    context = _activity_context(request, contact)
    if _partial(request) and context["is_more"]:
        # "Ver más": only the next items and the next button, appended in place.
        return render(request, "activities/_timeline_items.html", {"contact": contact, **context})
    return _render_tab(request, contact, "activity", context)


# --- tab: notas ---


def _notes_context(request: HttpRequest, contact: Contact, form: NoteForm | None = None) -> dict:
    notes = list(activity_selectors.notes_for_contact(contact=contact)[:100])
    for note in notes:
        note.can_edit = request.user.has_perm("activities.change_note", note)
        note.edited = (note.updated_at - note.created_at).total_seconds() > 60
    return {"notes": notes, "form": form or NoteForm()}


@login_required
def tab_notes(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _contact(request, pk)
    if request.method != "POST":
        return _render_tab(request, contact, "notes")
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            activity_services.add_note(
                contact=contact, body=form.cleaned_data["body"], by=request.user
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _saved(request, contact, "notes", _("Nota agregada."))
    return _render_tab(request, contact, "notes", _notes_context(request, contact, form))


@login_required
def note_edit(request: HttpRequest, pk: int, note_id: int) -> HttpResponse:
    contact = _contact(request, pk)
    note = get_object_or_404(Note, pk=note_id, contact=contact)
    form = NoteForm(request.POST or None, initial={"body": note.body}, prefix="edit")
    if request.method == "POST" and form.is_valid():
        try:
            activity_services.update_note(
                note=note, body=form.cleaned_data["body"], by=request.user
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _saved(request, contact, "notes", _("Nota guardada."))
    context = {**_notes_context(request, contact), "editing": note, "edit_form": form}
    return _render_tab(request, contact, "notes", context)


@login_required
@require_POST
def note_delete(request: HttpRequest, pk: int, note_id: int) -> HttpResponse:
    contact = _contact(request, pk)
    note = get_object_or_404(Note, pk=note_id, contact=contact)
    activity_services.delete_note(note=note, by=request.user)
    return _saved(request, contact, "notes", _("Nota eliminada."))


# --- tab: tareas ---


def _tasks_context(request: HttpRequest, contact: Contact, form: TaskForm | None = None) -> dict:
    tasks = list(activity_selectors.tasks_for_contact(contact=contact)[:200])
    for task in tasks:
        task.can_edit = request.user.has_perm("activities.change_task", task)
    return {"tasks": tasks, "form": form or TaskForm(), "now": timezone.now()}


@login_required
def tab_tasks(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _contact(request, pk)
    if request.method != "POST":
        return _render_tab(request, contact, "tasks")
    form = TaskForm(request.POST)
    if form.is_valid():
        try:
            activity_services.create_task(contact=contact, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _saved(request, contact, "tasks", _("Tarea creada."))
    return _render_tab(request, contact, "tasks", _tasks_context(request, contact, form))


@login_required
@require_POST
def task_status(request: HttpRequest, pk: int, task_id: int) -> HttpResponse:
    contact = _contact(request, pk)
    task = get_object_or_404(Task, pk=task_id, contact=contact)
    done = request.POST.get("done") == "1"
    activity_services.set_task_done(task=task, done=done, by=request.user)
    notice = _("Tarea completada.") if done else _("Tarea reabierta.")
    return _saved(request, contact, "tasks", notice)


# --- tab: llamadas ---


def _calls_context(request: HttpRequest, contact: Contact, form: CallForm | None = None) -> dict:
    return {
        "calls": list(activity_selectors.calls_for_contact(contact=contact)[:100]),
        "form": form or CallForm(),
    }


@login_required
def tab_calls(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _contact(request, pk)
    if request.method != "POST":
        return _render_tab(request, contact, "calls")
    form = CallForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            activity_services.log_call(
                contact=contact,
                by=request.user,
                direction=data["direction"],
                outcome=data["outcome"],
                duration_seconds=data["duration"],
                note=data["note"],
                at=data["at"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _saved(request, contact, "calls", _("Llamada registrada."), changed=True)
    return _render_tab(request, contact, "calls", _calls_context(request, contact, form))


# --- tab: adjuntos ---


def _attachments_context(
    request: HttpRequest, contact: Contact, form: AttachmentForm | None = None
) -> dict:
    from django.conf import settings

    from atiende.core.attachments import ALLOWED_TYPES

    return {
        "attachments": list(selectors.attachments_for_contact(contact=contact)[:200]),
        "form": form or AttachmentForm(),
        "max_mb": settings.ATIENDE_MAX_UPLOAD_MB,
        "accept": ",".join(sorted(ALLOWED_TYPES)),
        "allowed": ", ".join(ext.lstrip(".") for ext in sorted(ALLOWED_TYPES)),
    }


@login_required
def tab_attachments(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _contact(request, pk)
    if request.method != "POST":
        return _render_tab(request, contact, "attachments")
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.add_attachment(
                contact=contact, upload=form.cleaned_data["file"], by=request.user
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _saved(request, contact, "attachments", _("Archivo subido."))
    return _render_tab(
        request, contact, "attachments", _attachments_context(request, contact, form)
    )


@login_required
def attachment_download(request: HttpRequest, pk: int, attachment_id: int) -> FileResponse:
    """Files are never public: each download checks that the user may see the contact."""
    contact = _contact(request, pk)
    attachment = get_object_or_404(Attachment, pk=attachment_id, contact=contact)
    require(request.user, "contacts.view_contact", contact)
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(
        handle, as_attachment=True, filename=attachment.name, content_type=attachment.mime_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def attachment_delete(request: HttpRequest, pk: int, attachment_id: int) -> HttpResponse:
    contact = _contact(request, pk)
    attachment = get_object_or_404(Attachment, pk=attachment_id, contact=contact)
    services.delete_attachment(attachment=attachment, by=request.user)
    return _saved(request, contact, "attachments", _("Adjunto eliminado."))


# --- tab: clientes relacionados ---


def _related_context(
    request: HttpRequest, contact: Contact, form: RelationForm | None = None
) -> dict:
    return {
        "relations": selectors.related_contacts(contact=contact),
        "form": form or RelationForm(),
        "q": "",
    }


@login_required
def tab_related(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _contact(request, pk)
    if request.method != "POST":
        return _render_tab(request, contact, "related")
    form = RelationForm(request.POST)
    other = Contact.objects.filter(pk=request.POST.get("other") or 0).first()
    if other is None:
        form.add_error(None, _("Elige el cliente a relacionar."))
    if form.is_valid():
        try:
            services.relate_contacts(
                contact=contact, other=other, labels=form.cleaned_data["labels"], by=request.user
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _saved(request, contact, "related", _("Cliente relacionado guardado."))
    return _render_tab(request, contact, "related", _related_context(request, contact, form))


@login_required
def related_search(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _contact(request, pk)
    q = request.GET.get("q", "").strip()[:100]
    results = []
    if len(q) >= 2:
        results = list(
            selectors.search_contacts(user=request.user, query=q).exclude(pk=contact.pk)[:8]
        )
    if not _partial(request):  # without JavaScript: the tab with the results in place
        context = {**_related_context(request, contact), "q": q, "results": results}
        return _render_tab(request, contact, "related", context)
    return render(
        request,
        "contacts/_related_results.html",
        {"contact": contact, "q": q, "results": results},
    )


@login_required
@require_POST
def relation_edit(request: HttpRequest, pk: int, relation_id: int) -> HttpResponse:
    contact = _contact(request, pk)
    relation = get_object_or_404(ContactRelation, pk=relation_id)
    if contact.pk not in (relation.from_contact_id, relation.to_contact_id):
        raise Http404
    other = relation.to_contact if relation.from_contact_id == contact.pk else relation.from_contact
    try:
        services.relate_contacts(
            contact=contact, other=other, labels=request.POST.get("labels", ""), by=request.user
        )
    except ValidationError as exc:
        form = RelationForm(request.POST)
        add_service_errors(form, exc)
        return _render_tab(request, contact, "related", _related_context(request, contact, form))
    return _saved(request, contact, "related", _("Relación guardada."))


@login_required
@require_POST
def relation_delete(request: HttpRequest, pk: int, relation_id: int) -> HttpResponse:
    contact = _contact(request, pk)
    relation = get_object_or_404(ContactRelation, pk=relation_id)
    services.remove_relation(relation=relation, contact=contact, by=request.user)
    return _saved(request, contact, "related", _("Relación eliminada."))


# --- tab: cuentas ---


def _accounts_context(
    request: HttpRequest, contact: Contact, form: AccountForm | None = None
) -> dict:
    return {
        "accounts": list(contact.accounts.all()),
        "form": form or AccountForm(),
    }


def _save_account(request, contact, form, account=None) -> bool:
    if not form.is_valid():
        return False
    try:
        services.save_account(
            contact=contact,
            by=request.user,
            account=account,
            extra=form.extra(),
            **form.cleaned_data,
        )
    except ValidationError as exc:
        add_service_errors(form, exc)
        return False
    return True


@login_required
def tab_accounts(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _contact(request, pk)
    if request.method != "POST":
        return _render_tab(request, contact, "accounts")
    form = AccountForm(request.POST)
    if _save_account(request, contact, form):
        return _saved(request, contact, "accounts", _("Cuenta agregada."))
    return _render_tab(request, contact, "accounts", _accounts_context(request, contact, form))


@login_required
def account_edit(request: HttpRequest, pk: int, account_id: int) -> HttpResponse:
    contact = _contact(request, pk)
    account = get_object_or_404(Account, pk=account_id, contact=contact)
    initial = {"number": account.number, "product": account.product, "status": account.status}
    form = AccountForm(request.POST or None, initial=initial, extra=account.extra, prefix=None)
    if request.method == "POST" and _save_account(request, contact, form, account):
        return _saved(request, contact, "accounts", _("Cuenta guardada."))
    context = {**_accounts_context(request, contact), "editing": account, "edit_form": form}
    return _render_tab(request, contact, "accounts", context)


@login_required
@require_POST
def account_delete(request: HttpRequest, pk: int, account_id: int) -> HttpResponse:
    contact = _contact(request, pk)
    account = get_object_or_404(Account, pk=account_id, contact=contact)
    services.delete_account(account=account, by=request.user)
    return _saved(request, contact, "accounts", _("Cuenta eliminada."))


# --- tab: historial ---


def _history_context(request: HttpRequest, contact: Contact) -> dict:
    entries = selectors.contact_history(contact=contact)
    page = Paginator(entries, HISTORY_PAGE).get_page(request.GET.get("page"))
    return {"page": page}


@login_required
def tab_history(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_tab(request, _contact(request, pk), "history")


# --- tab: dashboard ---


def _dashboard_context(request: HttpRequest, contact: Contact) -> dict:
    stats = activity_selectors.contact_activity_stats(contact=contact)
    channels = stats["channels"]

    def chart(data: dict, kind: str) -> dict:
        return {"type": kind, "labels": list(data), "values": list(data.values())}

    return {
        "stats": stats,
        "charts": {
            "channels": chart(channels, "doughnut"),
            "kinds": chart(stats["interactions_by_kind"], "bar"),
            "outcomes": chart(stats["calls_by_outcome"], "bar"),
            "directions": chart(stats["calls_by_direction"], "doughnut"),
        },
        "has_channels": bool(channels),
        "cases": [],
    }


@login_required
def tab_dashboard(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_tab(request, _contact(request, pk), "dashboard")


TAB_CONTEXT: dict[str, Callable[[HttpRequest, Contact], dict]] = {
    "info": _info_context,
    "points": _points_context,
    "activity": _activity_context,
    "notes": _notes_context,
    "tasks": _tasks_context,
    "calls": _calls_context,
    "attachments": _attachments_context,
    "related": _related_context,
    "accounts": _accounts_context,
    "history": _history_context,
    "dashboard": _dashboard_context,
}


# --- merge ---


def _merge_side(contact: Contact) -> dict:
    return {
        "contact": contact,
        "points": list(contact.points.all()),
        "counts": selectors.contact_summary(contact=contact),
        "attachments": list(selectors.attachments_for_contact(contact=contact)[:5]),
    }


@login_required
def contact_merge(request: HttpRequest, pk: int) -> HttpResponse:
    """Pick the duplicate, compare both, choose the survivor and what moves, confirm."""
    contact = _contact(request, pk)
    require(request.user, "contacts.merge_contacts", contact)
    other_id = request.POST.get("con") or request.GET.get("con")
    context = {"contact": contact, "section": "contacts"}
    if not other_id:
        q = request.GET.get("buscar", "").strip()[:100]  # not "q": that is the top-bar search
        results = []
        if q:
            results = list(
                selectors.search_contacts(user=request.user, query=q).exclude(pk=contact.pk)[:20]
            )
        context.update(
            q=q,
            results=results,
            duplicates=list(selectors.possible_duplicates(contact=contact)),
        )
        return render(request, "contacts/merge_pick.html", context)
    other = _contact(request, other_id)
    if other.pk == contact.pk:
        messages.error(request, _("Elige dos contactos distintos."))
        return redirect("contacts:merge", contact.pk)
    parts = services.merge_parts()
    form = MergeForm(request.POST or None, contact=contact, other=other, parts=parts)
    if request.method == "POST" and form.is_valid():
        keep_this = form.cleaned_data["survivor"] == str(contact.pk)
        survivor, duplicate = (contact, other) if keep_this else (other, contact)
        try:
            survivor = services.merge_contacts(
                survivor=survivor,
                duplicate=duplicate,
                move=set(form.cleaned_data["move"]),
                by=request.user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("Clientes combinados: %(duplicate)s se unió a %(survivor)s.")
                % {"duplicate": duplicate, "survivor": survivor},
            )
            return redirect("contacts:detail", survivor.pk)
    context.update(form=form, other=other, sides=[_merge_side(contact), _merge_side(other)])
    context["parts"] = parts
    return render(request, "contacts/merge.html", context)


# --- ajustes: etiquetas, grupos, campos personalizados ---
#
# Admin-only screens (`contacts.manage_fields`) under Ajustes, in the same layout as users and
# teams: a paginated list, one form page to create or edit, and a POST to delete.

SETTINGS_PAGE = 50


def _settings_page(request: HttpRequest, queryset) -> object:
    return Paginator(queryset, SETTINGS_PAGE).get_page(request.GET.get("page"))


@login_required
def settings_labels(request: HttpRequest) -> HttpResponse:
    require(request.user, "contacts.manage_fields")
    page = _settings_page(request, selectors.labels_with_counts())
    return render(request, "contacts/settings_labels.html", {"page": page, "section": "labels"})


@login_required
def settings_label_edit(request: HttpRequest, label_id: int | None = None) -> HttpResponse:
    require(request.user, "contacts.manage_fields")
    label = get_object_or_404(Label, pk=label_id) if label_id else None
    initial = {"name": label.name, "color": label.color} if label else None
    form = LabelForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            label = services.save_label(by=request.user, label=label, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Etiqueta guardada: %(name)s.") % {"name": label.name})
            return redirect("contacts:settings_labels")
    return render(
        request,
        "contacts/settings_label_form.html",
        {
            "form": form,
            "label": label,
            "usage": label.contact_set.count() if label else 0,
            "colors": LABEL_COLORS,
            "section": "labels",
        },
    )


@login_required
@require_POST
def settings_label_delete(request: HttpRequest, label_id: int) -> HttpResponse:
    label = get_object_or_404(Label, pk=label_id)
    contacts = services.delete_label(label=label, by=request.user)
    messages.success(
        request,
        ngettext(
            "Etiqueta eliminada: %(name)s. Se quitó de %(n)s contacto.",
            "Etiqueta eliminada: %(name)s. Se quitó de %(n)s contactos.",
            contacts,
        )
        % {"name": label.name, "n": contacts},
    )
    return redirect("contacts:settings_labels")


@login_required
def settings_groups(request: HttpRequest) -> HttpResponse:
    require(request.user, "contacts.manage_fields")
    page = _settings_page(request, selectors.groups_with_counts())
    return render(request, "contacts/settings_groups.html", {"page": page, "section": "groups"})


@login_required
def settings_group_edit(request: HttpRequest, group_id: int | None = None) -> HttpResponse:
    require(request.user, "contacts.manage_fields")
    group = get_object_or_404(ContactGroup, pk=group_id) if group_id else None
    initial = {"name": group.name, "description": group.description} if group else None
    form = GroupForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            group = services.save_group(by=request.user, group=group, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Grupo guardado: %(name)s.") % {"name": group.name})
            return redirect("contacts:settings_groups")
    return render(
        request,
        "contacts/settings_group_form.html",
        {
            "form": form,
            "group": group,
            "usage": group.contact_set.count() if group else 0,
            "section": "groups",
        },
    )


@login_required
@require_POST
def settings_group_delete(request: HttpRequest, group_id: int) -> HttpResponse:
    group = get_object_or_404(ContactGroup, pk=group_id)
    contacts = services.delete_group(group=group, by=request.user)
    messages.success(
        request,
        ngettext(
            "Grupo eliminado: %(name)s. Tenía %(n)s contacto; el contacto se conserva.",
            "Grupo eliminado: %(name)s. Tenía %(n)s contactos; los contactos se conservan.",
            contacts,
        )
        % {"name": group.name, "n": contacts},
    )
    return redirect("contacts:settings_groups")


@login_required
def settings_fields(request: HttpRequest) -> HttpResponse:
    require(request.user, "contacts.manage_fields")
    page = _settings_page(request, selectors.custom_fields())
    return render(request, "contacts/settings_fields.html", {"page": page, "section": "fields"})


@login_required
def settings_field_edit(request: HttpRequest, field_id: int | None = None) -> HttpResponse:
    require(request.user, "contacts.manage_fields")
    field = get_object_or_404(CustomField, pk=field_id) if field_id else None
    initial = None
    if field:
        initial = {
            "label": field.label,
            "key": field.key,
            "kind": field.kind,
            "choices": "\n".join(field.choices),
            "position": field.position,
        }
    form = CustomFieldForm(request.POST or None, initial=initial, editing=field is not None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            field = services.save_custom_field(
                by=request.user,
                field=field,
                label=data["label"],
                key=data["key"],
                kind=data["kind"],
                choices=form.choice_list(),
                position=data["position"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Campo guardado: %(name)s.") % {"name": field.label})
            return redirect("contacts:settings_fields")
    usage = selectors.custom_field_usage(field=field) if field else 0
    return render(
        request,
        "contacts/settings_field_form.html",
        {"form": form, "field": field, "usage": usage, "section": "fields"},
    )


@login_required
@require_POST
def settings_field_delete(request: HttpRequest, field_id: int) -> HttpResponse:
    field = get_object_or_404(CustomField, pk=field_id)
    contacts = services.delete_custom_field(field=field, by=request.user)
    messages.success(
        request,
        ngettext(
            "Campo eliminado: %(name)s. Se borró su valor en %(n)s contacto.",
            "Campo eliminado: %(name)s. Se borró su valor en %(n)s contactos.",
            contacts,
        )
        % {"name": field.label, "n": contacts},
    )
    return redirect("contacts:settings_fields")


# --- import / export ------------------------------------------------------------------

from django.http import StreamingHttpResponse  # noqa: E402

from atiende.contacts import exports, imports  # noqa: E402
from atiende.contacts.models import ImportJob  # noqa: E402


def _import_job(request: HttpRequest, pk: int) -> ImportJob:
    try:
        return imports.import_job_for(user=request.user, job_id=pk)
    except ImportJob.DoesNotExist as exc:
        raise Http404 from exc


def _posted_mapping(request: HttpRequest, job: ImportJob) -> tuple[dict[str, str], str]:
    mapping = {str(i): request.POST.get(f"col-{i}", "") for i in range(len(job.headers))}
    return mapping, request.POST.get("match_by", "")


def _mapping_context(request: HttpRequest, job: ImportJob, mapping, match_by, errors) -> dict:
    samples = imports.column_samples(job)
    return {
        "section": "contacts",
        "job": job,
        "columns": [
            (index, header, samples[index], mapping.get(str(index), ""))
            for index, header in enumerate(job.headers)
        ],
        "choices": imports.target_choices(),
        "match_by": match_by,
        "match_choices": ImportJob.MatchBy.choices,
        "preview": imports.preview_import(job, mapping=mapping, match_by=match_by),
        "errors": errors,
    }


@login_required
def import_list(request: HttpRequest) -> HttpResponse:
    """Upload a CSV or XLSX file (→ mapping screen) and see the past imports."""
    require(request.user, "contacts.import_contacts")
    errors: list[str] = []
    if request.method == "POST":
        try:
            job = imports.start_import(upload=request.FILES.get("file"), by=request.user)
        except ValidationError as exc:
            errors = exc.messages
        else:
            return redirect("contacts:import_detail", job.pk)
    context = {
        "section": "contacts",
        "jobs": imports.recent_imports(user=request.user),
        "errors": errors,
        "max_mb": imports.max_upload_mb(),
        "max_rows": imports.max_import_rows(),
    }
    return render(request, "contacts/import_list.html", context, status=400 if errors else 200)


@login_required
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The mapping screen while the job waits for it; then its progress and its result."""
    job = _import_job(request, pk)
    if job.status != ImportJob.Status.MAPPING:
        return render(request, "contacts/import_detail.html", {"section": "contacts", "job": job})
    if request.method == "POST":
        mapping, match_by = _posted_mapping(request, job)
        try:
            imports.configure_import(job=job, mapping=mapping, match_by=match_by, by=request.user)
        except ValidationError as exc:
            context = _mapping_context(request, job, mapping, match_by, exc.messages)
            return render(request, "contacts/import_mapping.html", context, status=400)
        return redirect("contacts:import_detail", job.pk)
    match_by = imports.default_match_by(job.mapping)
    context = _mapping_context(request, job, job.mapping, match_by, [])
    return render(request, "contacts/import_mapping.html", context)


@login_required
@require_POST
def import_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """The preview table again for the mapping being chosen (htmx, on every change)."""
    job = _import_job(request, pk)
    if job.status != ImportJob.Status.MAPPING:
        return HttpResponse(status=204)
    mapping, match_by = _posted_mapping(request, job)
    preview = imports.preview_import(job, mapping=mapping, match_by=match_by)
    return render(request, "contacts/import_preview.html", {"job": job, "preview": preview})


@login_required
def import_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress card, polled by htmx until the job is done or failed."""
    job = _import_job(request, pk)
    return render(request, "contacts/import_progress.html", {"job": job})


@login_required
@require_POST
def import_resume(request: HttpRequest, pk: int) -> HttpResponse:
    job = _import_job(request, pk)
    try:
        imports.resume_import(job=job, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("contacts:import_detail", job.pk)


@login_required
def import_rejected(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    """The rejected rows with their row number and reason, as CSV."""
    job = _import_job(request, pk)
    response = StreamingHttpResponse(
        imports.rejected_rows_csv(job=job, by=request.user), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="rechazadas-importacion-{job.pk}.csv"'
    return response


@login_required
def contact_export(request: HttpRequest) -> HttpResponse:
    """The contact list with the list's filters (same query string) as CSV or XLSX."""
    filters = selectors.filters_from_query(request.GET)
    try:
        return exports.export_response(
            user=request.user, filters=filters, fmt=request.GET.get("formato", "csv")
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        query = request.GET.copy()
        query.pop("formato", None)
        return redirect(f"{reverse('contacts:list')}?{query.urlencode()}")
