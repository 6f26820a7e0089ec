"""One ticket: its page (header, properties, SLA, timeline, notes, files, links), creating a
ticket and the escalation to Tech (guide 001).

Views are thin: they parse the request, call one service or selector and render. The page is
made of parts (`?part=header`, …): a plain GET renders the whole page, htmx refreshes a part when
the `ticket-changed` event fires after any write, so the page also works without JavaScript.
"""

import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.formats import date_format
from django.utils.html import strip_tags
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from atiende.contacts import selectors as contact_selectors
from atiende.contacts.models import Account, Contact, Label
from atiende.core.attachments import ALLOWED_TYPES, max_upload_bytes
from atiende.core.forms import add_service_errors
from atiende.core.permissions import require
from atiende.inbox.models import ChannelKind, Conversation
from atiende.tickets import selectors, services, sla
from atiende.tickets.forms import (
    EscalationForm,
    NoteForm,
    TicketCreateForm,
    as_html,
    property_field,
)
from atiende.tickets.models import Priority, Source, Stage, Ticket, TicketNote
from atiende.users.models import Team
from atiende.users.selectors import assignable_users

TIMELINE_LIMIT = 50
LINKABLE_LIMIT = 20
MESSAGE_LIMIT = 20
ATTACHMENT_LIMIT = 200
CHOICE_LIMIT = 500
# Where a conversation came from → the ticket's source.
CHANNEL_SOURCE = {
    ChannelKind.EMAIL: Source.EMAIL,
    ChannelKind.WHATSAPP: Source.WHATSAPP,
    ChannelKind.WEBCHAT: Source.CHAT,
    ChannelKind.MESSENGER: Source.CHAT,
    ChannelKind.INSTAGRAM: Source.CHAT,
    ChannelKind.SMS: Source.CHAT,
}
PARTS = {
    "header": "tickets/_ticket_header.html",
    "properties": "tickets/_ticket_properties.html",
    "description": "tickets/_ticket_description.html",
    "timeline": "tickets/_ticket_timeline.html",
    "sla": "tickets/_sla_panel.html",
    "attachments": "tickets/_ticket_attachments.html",
    "links": "tickets/_ticket_links.html",
}
CHANGED = "ticket-changed"
REFRESH_PROPS = "ticket-refresh-properties"


# --- helpers ------------------------------------------------------------------------------


def _ticket(request: HttpRequest, pk: int | str) -> Ticket:
    try:
        return selectors.ticket_detail(user=request.user, ticket_id=int(pk))
    except (Ticket.DoesNotExist, ValueError) as exc:
        raise Http404 from exc


def _first_error(error: ValidationError) -> str:
    return " ".join(error.messages) if error.messages else _("Revisa los datos.")


def _errors_by_field(error: ValidationError) -> dict[str, str]:
    """A service's ValidationError as {field: message} for the inline editors."""
    if hasattr(error, "error_dict"):
        return {
            ("general" if field == "__all__" else field): " ".join(msgs)
            for field, msgs in error.message_dict.items()
        }
    return {"general": " ".join(error.messages)}


def _sla_summary(clocks: list[sla.Clock]) -> dict[str, Any]:
    """The header's badge: the worst state and the time left on the most pressing clock."""
    if not clocks:
        return {"state": "", "label": "", "clock": None}
    state = sla.worst_state(clocks)
    running = [c for c in clocks if c.due_at is not None or c.state == sla.BREACHED]
    pressing = min(running, key=lambda c: c.remaining_seconds) if running else None
    return {"state": state, "label": sla.STATE_LABELS[state], "clock": pressing}


def _duration(seconds: float) -> str:
    """'2 d 3 h', '5 h 10 min', '12 min' — compact for badges."""
    seconds = abs(int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return _("%(d)s d %(h)s h") % {"d": days, "h": hours}
    if hours:
        return _("%(h)s h %(m)s min") % {"h": hours, "m": minutes}
    return _("%(m)s min") % {"m": max(minutes, 1)}


def _clock_rows(clocks: list[sla.Clock]) -> list[dict[str, Any]]:
    rows = []
    for clock in clocks:
        if clock.state == sla.BREACHED:
            text = _("Vencido hace %(t)s") % {"t": _duration(clock.remaining_seconds)}
        elif clock.state == sla.PAUSED:
            text = _("En pausa: quedan %(t)s") % {"t": _duration(clock.remaining_seconds)}
        elif clock.due_at is None:
            text = _("Cumplido")
        else:
            text = _("Quedan %(t)s") % {"t": _duration(clock.remaining_seconds)}
        rows.append(
            {
                "clock": clock,
                "text": text,
                "done": clock.due_at is None and clock.state in (sla.OK, sla.AT_RISK),
            }
        )
    return rows


FIELD_LABELS = {
    "labels": _("etiquetas"),
    "conversation": _("conversación"),
    "note": _("nota"),
    "at": _("fecha"),
}
LONG_FIELDS = {
    "description",
    "escalation_what",
    "escalation_how",
    "escalation_where",
    "requested_changes",
}


def _field_label(name: str) -> str:
    try:
        return str(Ticket._meta.get_field(name).verbose_name)
    except Exception:
        return str(FIELD_LABELS.get(name, name))


def _readable(value: Any) -> Any:
    """Audit values are stored as text: an ISO moment is shown as a local date and time."""
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] in " T":
        try:
            moment = datetime.datetime.fromisoformat(value)
        except ValueError:
            return value
        if timezone.is_aware(moment):
            moment = timezone.localtime(moment)
        return date_format(moment, "SHORT_DATETIME_FORMAT")
    return value


def _change_rows(changes: dict | None) -> list[dict[str, str]]:
    """Audit changes as readable rows: long rich-text fields only say they changed."""
    rows = []
    for field, values in (changes or {}).items():
        if not isinstance(values, list | tuple) or len(values) != 2:
            continue
        before, after = values
        if field in LONG_FIELDS:
            rows.append({"field": _field_label(field), "before": "", "after": "", "long": True})
            continue
        if field == "priority":
            before = Priority(before).label if before in Priority.values else before
            after = Priority(after).label if after in Priority.values else after
        if field == "source":
            before = Source(before).label if before in Source.values else before
            after = Source(after).label if after in Source.values else after
        before, after = _readable(before), _readable(after)
        rows.append(
            {
                "field": _field_label(field),
                "before": Truncator(strip_tags(str(before or "—"))).chars(80),
                "after": Truncator(strip_tags(str(after or "—"))).chars(80),
                "long": False,
            }
        )
    return rows


def _timeline(ticket: Ticket, attachments: list, linked: list[Conversation]) -> list[Any]:
    """Notes, changes and linked conversations, plus their newest messages, newest first."""
    events = selectors.ticket_timeline(ticket=ticket, limit=TIMELINE_LIMIT)
    messages = selectors.linked_messages(
        conversation_ids=[c.pk for c in linked], limit=MESSAGE_LIMIT
    )
    events += [selectors.TicketEvent("message", m.created_at, m.author, m) for m in messages]
    events.sort(key=lambda e: e.at, reverse=True)
    events = events[:TIMELINE_LIMIT]
    note_type = ContentType.objects.get_for_model(TicketNote)
    by_note: dict[str, list] = {}
    for attachment in attachments:
        if attachment.owner_type_id == note_type.pk:
            by_note.setdefault(attachment.owner_id, []).append(attachment)
    for event in events:
        if event.kind == "note":
            event.obj.files = by_note.get(str(event.obj.pk), [])
        elif event.kind in ("stage", "change", "created"):
            event.rows = _change_rows(event.changes)
    return events


def _choices(ticket: Ticket) -> dict[str, Any]:
    pipelines = list(selectors.pipelines_with_stages())
    accounts = (
        list(Account.objects.filter(contact_id=ticket.contact_id).order_by("number")[:50])
        if ticket.contact_id
        else []
    )
    return {
        "pipelines": pipelines,
        "users": list(assignable_users()[:CHOICE_LIMIT]),
        "teams": list(Team.objects.order_by("name")[:CHOICE_LIMIT]),
        "all_labels": list(Label.objects.order_by("name")[:CHOICE_LIMIT]),
        "accounts": accounts,
        "priorities": Priority.choices,
        "sources": Source.choices,
    }


def _context(request: HttpRequest, ticket: Ticket, **extra: Any) -> dict[str, Any]:
    """Everything the page shows, in a fixed number of queries whatever the number of notes."""
    user = request.user
    ticket_type = ContentType.objects.get_for_model(Ticket)
    clocks = sla.ticket_clocks(ticket)
    attachments = list(selectors.ticket_attachments(ticket=ticket)[:ATTACHMENT_LIMIT])
    linked = list(ticket.conversations.all())
    linked_ids = {c.pk for c in linked}
    linkable = []
    if ticket.contact_id:
        linkable = [
            c
            for c in Conversation.objects.filter(contact_id=ticket.contact_id)
            .exclude(pk__in=linked_ids)
            .select_related("channel")
            .order_by("-last_message_at", "-id")[:LINKABLE_LIMIT]
        ]
    context = {
        "ticket": ticket,
        "section": "tickets",
        "can_change": user.has_perm("tickets.change_ticket", ticket),
        "is_following": any(f.pk == user.pk for f in ticket.followers.all()),
        "followers": list(ticket.followers.all()),
        "clocks": _clock_rows(clocks),
        "sla_summary": _sla_summary(clocks),
        "events": _timeline(ticket, attachments, linked),
        "timeline_limit": TIMELINE_LIMIT,
        "attachments": attachments,
        "escalation_files": [a for a in attachments if a.owner_type_id == ticket_type.pk],
        "linked": linked,
        "linkable": linkable,
        "note_form": NoteForm(),
        "accept": ",".join(sorted(ALLOWED_TYPES)),
        "max_mb": max_upload_bytes() // (1024 * 1024),
        "escalation_stage": ticket.pipeline.stages.filter(is_escalation=True).first(),
        **_choices(ticket),
    }
    context.update(extra)
    return context


def _render_part(request: HttpRequest, ticket: Ticket, part: str, **extra: Any) -> HttpResponse:
    response = render(request, PARTS[part], _context(request, ticket, **extra))
    patch_vary_headers(response, ["HX-Request"])
    return response


def _done(
    request: HttpRequest, ticket: Ticket, notice: str, part: str | None = None, **extra
) -> HttpResponse:
    """After a write: htmx gets the part back and the page refreshes the rest; a plain form
    post is redirected to the page (post/redirect/get)."""
    if request.htmx and part:
        response = _render_part(request, ticket, part, notice=notice, **extra)
        response["HX-Trigger"] = CHANGED if part == "properties" else f"{CHANGED}, {REFRESH_PROPS}"
        return response
    messages.success(request, notice)
    return redirect("tickets:detail", ticket.pk)


def _refused(
    request: HttpRequest, ticket: Ticket, error: ValidationError, part: str
) -> HttpResponse:
    if request.htmx:
        return _render_part(request, ticket, part, errors=_errors_by_field(error))
    messages.error(request, _first_error(error))
    return redirect("tickets:detail", ticket.pk)


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if not target and request.method == "GET":
        # Arriving from the board (or the list), "Cancelar" goes back there.
        referer = request.headers.get("Referer", "")
        target = "" if "/escalar/" in referer else referer
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


# --- the page -----------------------------------------------------------------------------


@login_required
@require_GET
def ticket_detail(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _ticket(request, pk)
    part = request.GET.get("part", "")
    if part == "contacts":
        query = request.GET.get("buscar", "").strip()[:80]
        people = (
            list(contact_selectors.search_contacts(user=request.user, query=query)[:8])
            if query
            else []
        )
        context = {"ticket": ticket, "contact_results": people, "query": query}
        return render(request, "tickets/_ticket_contacts.html", context)
    if part in PARTS and request.htmx:
        return _render_part(request, ticket, part)
    response = render(request, "tickets/detail.html", _context(request, ticket))
    patch_vary_headers(response, ["HX-Request"])
    return response


def _parse_property(field: str, request: HttpRequest) -> Any:
    form_field = property_field(field)
    if form_field is None:
        raise Http404
    if field == "labels":
        raw: Any = request.POST.getlist("labels")
    else:
        raw = request.POST.get(field, "")
    if field in ("description",):
        raw = as_html(raw)
    try:
        value = form_field.clean(raw)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from exc
    if field == "created_at" and value is not None and timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


@login_required
@require_POST
def ticket_property(request: HttpRequest, pk: int, field: str) -> HttpResponse:
    """Inline edit of one property. Choosing the Tech Issues stage opens the escalation form."""
    ticket = _ticket(request, pk)
    part = "description" if field == "description" else "properties"
    try:
        value = _parse_property(field, request)
        if field == "stage":
            if value.is_escalation and not ticket.stage.is_escalation:
                url = reverse("tickets:escalate", args=[ticket.pk]) + f"?stage={value.pk}"
                if request.htmx:
                    response = HttpResponse(status=204)
                    response["HX-Redirect"] = url
                    return response
                return redirect(url)
            services.move_to_pipeline(ticket=ticket, stage=value, by=request.user)
        else:
            services.update_ticket(ticket=ticket, by=request.user, **{field: value})
    except ValidationError as exc:
        return _refused(request, _ticket(request, pk), exc, part)
    return _done(request, _ticket(request, pk), _("Cambios guardados."), part)


@login_required
@require_POST
def ticket_follow(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _ticket(request, pk)
    if request.POST.get("follow") == "1":
        services.follow(ticket=ticket, by=request.user)
        notice = _("Ahora sigues este ticket.")
    else:
        services.unfollow(ticket=ticket, by=request.user)
        notice = _("Dejaste de seguir este ticket.")
    return _done(request, _ticket(request, pk), notice, "header")


@login_required
@require_POST
def ticket_state(request: HttpRequest, pk: int) -> HttpResponse:
    """Close or reopen the ticket (the header's buttons)."""
    ticket = _ticket(request, pk)
    action = request.POST.get("action")
    try:
        if action == "close":
            services.close_ticket(ticket=ticket, by=request.user)
            notice = _("Ticket cerrado.")
        elif action == "reopen":
            services.reopen_ticket(ticket=ticket, by=request.user)
            notice = _("Ticket reabierto.")
        else:
            raise ValidationError(_("Acción desconocida."))
    except ValidationError as exc:
        return _refused(request, _ticket(request, pk), exc, "header")
    return _done(request, _ticket(request, pk), notice, "header")


@login_required
@require_POST
def ticket_customer_update(request: HttpRequest, pk: int) -> HttpResponse:
    """'Registrar actualización al cliente': the customer was contacted; the 48 h clock restarts."""
    ticket = _ticket(request, pk)
    services.record_customer_update(ticket=ticket, by=request.user)
    return _done(request, _ticket(request, pk), _("Actualización al cliente registrada."), "sla")


@login_required
@require_POST
def ticket_note(request: HttpRequest, pk: int) -> HttpResponse:
    """A note with files (uploaded or pasted screenshots) and @mentions."""
    ticket = _ticket(request, pk)
    form = NoteForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.add_note(
                ticket=ticket,
                by=request.user,
                body=as_html(form.cleaned_data["body"]),
                attachments=form.cleaned_data["files"],
                customer_updated=form.cleaned_data["customer_updated"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
            if hasattr(exc, "error_dict") and "file" in exc.error_dict:
                form.add_error("files", exc.error_dict["file"])
        else:
            if request.htmx:
                response = render(
                    request,
                    "tickets/_note_form.html",
                    {
                        "ticket": ticket,
                        "note_form": NoteForm(),
                        "notice": _("Nota agregada."),
                        "accept": ",".join(sorted(ALLOWED_TYPES)),
                        "max_mb": max_upload_bytes() // (1024 * 1024),
                    },
                )
                response["HX-Trigger"] = CHANGED
                return response
            messages.success(request, _("Nota agregada."))
            return redirect("tickets:detail", ticket.pk)
    if request.htmx:
        return render(
            request,
            "tickets/_note_form.html",
            {
                "ticket": ticket,
                "note_form": form,
                "accept": ",".join(sorted(ALLOWED_TYPES)),
                "max_mb": max_upload_bytes() // (1024 * 1024),
            },
        )
    messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
    return redirect("tickets:detail", ticket.pk)


@login_required
@require_POST
def ticket_link(request: HttpRequest, pk: int) -> HttpResponse:
    """Link one of the contact's conversations to the ticket."""
    ticket = _ticket(request, pk)
    try:
        conversation = Conversation.objects.get(pk=int(request.POST.get("conversation", "")))
    except (Conversation.DoesNotExist, ValueError):
        return _refused(
            request,
            ticket,
            ValidationError({"conversation": _("Elige una conversación.")}),
            "links",
        )
    try:
        services.link_conversation(ticket=ticket, conversation=conversation, by=request.user)
    except ValidationError as exc:
        return _refused(request, _ticket(request, pk), exc, "links")
    return _done(request, _ticket(request, pk), _("Conversación vinculada."), "links")


@login_required
@require_GET
def ticket_attachment(request: HttpRequest, pk: int, attachment_id: int) -> FileResponse:
    """Files are never public: the ticket must be visible and the file must be one of its own."""
    ticket = _ticket(request, pk)
    require(request.user, "tickets.view_ticket", ticket)
    attachment = selectors.ticket_attachments(ticket=ticket).filter(pk=attachment_id).first()
    if attachment is None:
        raise Http404
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    inline = attachment.mime_type.startswith("image/") and request.GET.get("ver") == "1"
    response = FileResponse(
        handle,
        as_attachment=not inline,
        filename=attachment.name,
        content_type=attachment.mime_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# --- creating a ticket --------------------------------------------------------------------


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _create_sources(request: HttpRequest) -> tuple[Contact | None, Conversation | None]:
    """The contact and conversation the form starts from (?contact=, ?conversation=): a
    conversation must be one the user may see."""
    data = request.POST if request.method == "POST" else request.GET
    conversation = None
    conversation_id = _int(data.get("conversation"))
    if conversation_id:
        from atiende.inbox import selectors as inbox_selectors

        try:
            conversation = inbox_selectors.conversation_for(
                user=request.user, conversation_id=conversation_id
            )
        except Conversation.DoesNotExist as exc:
            raise Http404 from exc
    contact = None
    contact_id = _int(data.get("contact"))
    if contact_id:
        try:
            contact = contact_selectors.contact_detail(user=request.user, contact_id=contact_id)
        except Contact.DoesNotExist as exc:
            raise Http404 from exc
    if contact is None and conversation is not None:
        contact = conversation.contact
    return contact, conversation


def _create_context(request, form, contact, conversation) -> dict[str, Any]:
    stages = list(form.fields["stage"].queryset)
    escalation_ids = [s.pk for s in stages if s.is_escalation]
    stage_value = form["stage"].value()
    stage_id = getattr(stage_value, "pk", stage_value)
    created = form["created_at"].value() or ""
    if hasattr(created, "strftime"):
        created = timezone.localtime(created).strftime("%Y-%m-%dT%H:%M")
    return {
        "show_escalation": _int(str(stage_id or "")) in escalation_ids,
        "selected_labels": [str(v) for v in (form["labels"].value() or [])],
        "created_at_value": str(created)[:16],
        "form": form,
        "escalation_fields": [form["what"], form["how"], form["where"], form["requested_changes"]],
        "contact": contact,
        "conversation": conversation,
        "escalation_stage_ids": escalation_ids,
        "pipelines": list(selectors.pipelines_with_stages()),
        "contact_results": _contact_results(request, contact),
        "suggested_name": services.escalation_name(account=None, contact=contact),
        "section": "tickets",
        "max_mb": max_upload_bytes() // (1024 * 1024),
        "files_dropped": request.method == "POST" and bool(request.FILES),
    }


def _contact_results(request: HttpRequest, contact: Contact | None) -> list[Contact]:
    query = request.GET.get("buscar", "").strip()[:80]
    if contact is not None or not query:
        return []
    return list(contact_selectors.search_contacts(user=request.user, query=query)[:8])


@login_required
def ticket_create(request: HttpRequest) -> HttpResponse:
    """The new-ticket form, from the list, a contact profile (?contact=) or a conversation
    (?conversation=: linked, its contact and channel prefilled). Choosing Tech Issues asks for
    the escalation and creates the ticket escalated, in one step."""
    require(request.user, "tickets.add_ticket")
    contact, conversation = _create_sources(request)
    if request.method != "POST":
        pipeline = services.default_pipeline()
        initial: dict[str, Any] = {
            "pipeline": pipeline,
            "stage": pipeline.stages.order_by("position", "id").first(),
            "priority": Priority.MEDIUM,
            "owner": request.user,
            "created_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "contact": contact,
            "source": Source.INTERNAL,
        }
        if conversation is not None:
            initial["source"] = CHANNEL_SOURCE.get(conversation.channel.kind, Source.CHAT)
            initial["conversation"] = conversation.pk
        stage_id = _int(request.GET.get("stage"))
        if stage_id:
            initial["stage"] = stage_id
        form = TicketCreateForm(initial=initial, contact=contact)
        return render(
            request, "tickets/create.html", _create_context(request, form, contact, conversation)
        )
    form = TicketCreateForm(request.POST, request.FILES, contact=contact)
    if form.is_valid():
        data = form.cleaned_data
        stage: Stage | None = data["stage"]
        escalation = None
        if stage is not None and stage.is_escalation:
            escalation = services.Escalation(
                what=as_html(data["what"]),
                how=as_html(data["how"]),
                where=as_html(data["where"]),
                requested_changes=as_html(data["requested_changes"]),
                screenshots=tuple(data["screenshots"]),
            )
        created_at = data["created_at"]
        if created_at is not None and timezone.is_naive(created_at):
            created_at = timezone.make_aware(created_at)
        try:
            ticket = services.create_ticket(
                by=request.user,
                name=data["name"],
                description=as_html(data["description"]),
                pipeline=data["pipeline"] or (stage.pipeline if stage else None),
                stage=stage,
                priority=data["priority"] or None,
                owner=data["owner"],
                team=data["team"],
                contact=data["contact"] or contact,
                account=data["account"],
                source=data["source"],
                created_at=created_at,
                labels=list(data["labels"]),
                conversation=conversation,
                escalation=escalation,
            )
        except ValidationError as exc:
            add_service_errors(form, _rename(exc, {"file": "screenshots"}))
        else:
            if ticket.escalated_at:
                messages.success(
                    request,
                    _("Ticket %(number)s creado y escalado a Tech. El equipo fue notificado.")
                    % {"number": ticket.number},
                )
            else:
                messages.success(
                    request, _("Ticket %(number)s creado.") % {"number": ticket.number}
                )
            return redirect("tickets:detail", ticket.pk)
    return render(
        request, "tickets/create.html", _create_context(request, form, contact, conversation)
    )


def _rename(error: ValidationError, names: dict[str, str]) -> ValidationError:
    if not hasattr(error, "error_dict"):
        return error
    return ValidationError({names.get(k, k): v for k, v in error.error_dict.items()})


# --- escalation to Tech -------------------------------------------------------------------


@login_required
def ticket_escalate(request: HttpRequest, pk: int) -> HttpResponse:
    """Guide 001's form: qué / cómo / dónde, cambios solicitados, priority, screenshots. Refused
    with what is missing; on success the Tech team is notified (by the service)."""
    ticket = _ticket(request, pk)
    if not request.user.has_perm("tickets.change_ticket", ticket):
        raise PermissionDenied
    back = _safe_next(request, reverse("tickets:detail", args=[ticket.pk]))
    suggested = services.escalation_name(account=ticket.account, contact=ticket.contact)
    if request.method != "POST":
        form = EscalationForm(
            initial={
                "name": suggested or ticket.name,
                "priority": ticket.priority,
                "what": strip_tags(ticket.escalation_what),
                "how": strip_tags(ticket.escalation_how),
                "where": strip_tags(ticket.escalation_where),
                "requested_changes": strip_tags(ticket.requested_changes),
            }
        )
    else:
        form = EscalationForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.escalate_to_tech(
                    ticket=ticket,
                    by=request.user,
                    what=as_html(data["what"]),
                    how=as_html(data["how"]),
                    where=as_html(data["where"]),
                    requested_changes=as_html(data["requested_changes"]),
                    priority=data["priority"] or None,
                    screenshots=data["screenshots"],
                    name=data["name"] or None,
                )
            except ValidationError as exc:
                add_service_errors(form, _rename(exc, {"file": "screenshots"}))
            else:
                messages.success(
                    request,
                    _("Ticket %(number)s escalado a Tech. El equipo de ingenieros fue notificado.")
                    % {"number": ticket.number},
                )
                return redirect("tickets:detail", ticket.pk)
    return render(
        request,
        "tickets/escalate.html",
        {
            "ticket": ticket,
            "form": form,
            "back": back,
            "suggested_name": suggested,
            "section": "tickets",
            "max_mb": max_upload_bytes() // (1024 * 1024),
            "already_escalated": ticket.stage.is_escalation,
            "files_dropped": request.method == "POST" and bool(request.FILES),
            "escalation_fields": [
                form["what"],
                form["how"],
                form["where"],
                form["requested_changes"],
            ],
        },
    )


__all__ = [
    "ticket_attachment",
    "ticket_create",
    "ticket_customer_update",
    "ticket_detail",
    "ticket_escalate",
    "ticket_follow",
    "ticket_link",
    "ticket_note",
    "ticket_property",
    "ticket_state",
]
