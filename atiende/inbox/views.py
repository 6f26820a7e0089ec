"""The inbox screen: trays, the conversation list, the chat pane, the composer and the contact card.

Thin views: parse the request → one selector or service → render. A plain GET renders the whole
three-pane page (so every URL works without JavaScript and can be shared); an htmx request gets
only the fragment it asked for. Writes answer htmx with the fragment that changed, `fetch`
(the composer) with JSON, and plain form posts with a redirect back to the conversation.
"""

import json
from pathlib import Path

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import CharField
from django.db.models.functions import Cast
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    JsonResponse,
)
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from atiende.activities import selectors as activity_selectors
from atiende.connectors.base import connector_for
from atiende.core.attachments import ALLOWED_TYPES
from atiende.core.forms import add_service_errors
from atiende.core.models import Attachment
from atiende.inbox import comments, selectors, services
from atiende.inbox.forms import (
    LabelsForm,
    LocationForm,
    StartConversationForm,
    StatusForm,
    TransferForm,
    active_filter_count,
    filter_options,
    filter_querystring,
    filters_from_query,
    tray_from_query,
)
from atiende.inbox.models import (
    Conversation,
    ConversationStatus,
    Message,
    MessageKind,
    MessageTemplate,
)
from atiende.users.models import Team, User

PAGE_SIZE = 25
MAX_PAGES = 40  # "cargar más" stops at 1000 rows: narrow the search instead
THREAD_SIZE = 60
CANNED_LIMIT = 20


# --- helpers ---------------------------------------------------------------------------------


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _conversation(request: HttpRequest, conversation_id: int) -> Conversation:
    """The conversation if the user may see it: 404 when missing, 403 when another team's."""
    try:
        return selectors.conversation_for(user=request.user, conversation_id=conversation_id)
    except Conversation.DoesNotExist as exc:
        raise Http404 from exc


def _page_number(request: HttpRequest) -> int:
    try:
        return min(max(int(request.GET.get("pagina", "1")), 1), MAX_PAGES)
    except ValueError:
        return 1


def _list_context(request: HttpRequest) -> dict:
    tray = tray_from_query(request.GET)
    filters = filters_from_query(request.GET)
    page = _page_number(request)
    start = (page - 1) * PAGE_SIZE
    rows = list(
        selectors.with_open_task_flag(
            selectors.conversations_for_tray(user=request.user, status=tray, filters=filters)
        )[start : start + PAGE_SIZE + 1]
    )
    has_more = len(rows) > PAGE_SIZE and page < MAX_PAGES
    return {
        "tray": tray,
        "filters": filters,
        "conversations": rows[:PAGE_SIZE],
        "has_more": has_more,
        "next_page": page + 1,
        "qs": filter_querystring(request.GET),
        "more_qs": filter_querystring(request.GET, pagina=str(page + 1)),
    }


def _page_context(request: HttpRequest) -> dict:
    """Everything the left pane needs: trays with counts, filters, the first page of rows."""
    context = _list_context(request)
    filters = context["filters"]
    counts = selectors.tray_counts(user=request.user, filters=filters)
    context.update(
        section="inbox",
        counts=counts,
        trays=[
            (status, label, filter_querystring(request.GET, tray=status), counts[status])
            for status, label in ConversationStatus.choices
        ],
        options=filter_options(),
        active_filters=active_filter_count(filters),
        raw=request.GET,
        can_see_presence=request.user.has_perm("users.view_presence"),
    )
    if context["can_see_presence"]:
        from atiende.users.selectors import online_users

        context["online"] = list(online_users(viewer=request.user)[:30])
    return context


def _attach_files(thread: list[Message]) -> None:
    files = selectors.message_attachments(thread)
    for message in thread:
        message.files = files[message.pk]


def _with_days(thread: list[Message], previous_day: str = "") -> list[dict]:
    """Messages with a day separator before the first of each local day."""
    items = []
    for message in thread:
        day = timezone.localdate(message.created_at)
        key = day.isoformat()
        items.append({"message": message, "day": day if key != previous_day else None, "key": key})
        previous_day = key
    return items


def _thread_items(conversation: Conversation, **kwargs) -> list[dict]:
    previous_day = kwargs.pop("previous_day", "")
    thread = selectors.thread(conversation=conversation, **kwargs)
    _attach_files(thread)
    return _with_days(thread, previous_day)


def _card_context(conversation: Conversation) -> dict:
    contact = conversation.contact
    return {
        "contact_points": list(contact.points.order_by("-is_primary", "kind", "id")),
        "contact_labels": list(contact.labels.all()),
        "contact_groups": list(contact.groups.all()),
        "accounts": list(contact.accounts.order_by("number")[:10]),
        "notes": list(activity_selectors.notes_for_contact(contact=contact)[:3]),
        "pending_tasks": list(
            activity_selectors.tasks_for_contact(contact=contact).filter(done_at__isnull=True)[:5]
        ),
        "shared_files": list(selectors.shared_files(conversation=conversation)),
    }


def _header_context(request: HttpRequest, conversation: Conversation) -> dict:
    user = request.user
    return {
        "conversation": conversation,
        "is_mine": conversation.assignee_id == user.pk,
        "can_transfer": user.has_perm("inbox.transfer_conversation", conversation),
        "can_reply": user.has_perm("inbox.reply_conversation", conversation),
        "transfer_form": TransferForm(initial={"assignee": conversation.assignee_id, "team": None}),
        "all_labels": LabelsForm.base_fields["labels"].queryset,
        "conversation_label_ids": {label.pk for label in conversation.labels.all()},
        "statuses": ConversationStatus.choices,
        "qs": filter_querystring(request.GET),
    }


def _chat_context(request: HttpRequest, conversation: Conversation) -> dict:
    items = _thread_items(conversation, limit=THREAD_SIZE)
    capabilities = _capabilities(conversation)
    context = _header_context(request, conversation)
    context.update(
        items=items,
        last_id=items[-1]["message"].pk if items else 0,
        last_day=items[-1]["key"] if items else "",
        has_older=len(items) >= THREAD_SIZE,
        capabilities=capabilities,
        location_form=LocationForm(),
        window_open=services.reply_window_open(conversation),
        window_closed_notice=services.WINDOW_CLOSED,
        **_card_context(conversation),
    )
    return context


def _capabilities(conversation: Conversation):
    try:
        return connector_for(conversation.channel.kind).capabilities
    except LookupError:
        return None


def _render_header(request: HttpRequest, conversation: Conversation, **extra) -> HttpResponse:
    context = _header_context(request, conversation)
    context.update(extra)
    response = render(request, "inbox/_chat_header.html", context)
    response["HX-Trigger"] = _changed(conversation.pk)
    return response


def _back(request: HttpRequest, conversation: Conversation) -> HttpResponse:
    url = reverse("inbox:conversation", args=[conversation.pk])
    qs = filter_querystring(request.POST if request.POST.get("bandeja") else request.GET)
    return redirect(f"{url}?{qs}" if qs else url)


def _changed(conversation_id: int) -> str:
    """HX-Trigger telling the page which conversation changed (row and counts refresh)."""
    return json.dumps({"inbox:changed": {"id": conversation_id}})


def _first_error(error: ValidationError) -> str:
    return " ".join(error.messages)


# --- the page, the list and the counts -------------------------------------------------------


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    """The inbox with no conversation open (htmx: only the list pane, for filter changes)."""
    if not request.user.has_perm("inbox.view_inbox"):
        raise PermissionDenied
    context = _page_context(request)
    context["new_comments"] = comments.new_count(user=request.user)
    if request.htmx and request.headers.get("HX-Target") == "list-body":
        return render(request, "inbox/_list_body.html", context)
    return render(request, "inbox/inbox.html", context)


@login_required
@require_GET
def conversation_list(request: HttpRequest) -> HttpResponse:
    """More rows ("cargar más"): the next page of the same tray and filters."""
    if not request.user.has_perm("inbox.view_inbox"):
        raise PermissionDenied
    return render(request, "inbox/_rows.html", _list_context(request))


@login_required
@require_GET
def counts(request: HttpRequest) -> JsonResponse:
    """Tray counts under the list's filters, for the live update of the tabs."""
    if not request.user.has_perm("inbox.view_inbox"):
        raise PermissionDenied
    return JsonResponse(
        selectors.tray_counts(user=request.user, filters=filters_from_query(request.GET))
    )


@login_required
@require_GET
def row(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """One list row, when the conversation is still in the list's tray and filters; else empty
    (the browser then removes the row)."""
    _conversation(request, conversation_id)
    tray = tray_from_query(request.GET)
    filters = filters_from_query(request.GET)
    found = (
        selectors.with_open_task_flag(
            selectors.conversations_for_tray(user=request.user, status=tray, filters=filters)
        )
        .filter(pk=conversation_id)
        .first()
    )
    if found is None:
        return HttpResponse("")
    return render(
        request,
        "inbox/_row.html",
        {"c": found, "qs": filter_querystring(request.GET), "tray": tray},
    )


@login_required
@require_GET
def online(request: HttpRequest) -> HttpResponse:
    """Who is connected, for the bottom bar (supervisors and admins)."""
    if not request.user.has_perm("users.view_presence"):
        return HttpResponse("")
    from atiende.users.selectors import online_users

    return render(
        request,
        "inbox/_online.html",
        {"online": list(online_users(viewer=request.user)[:30]), "can_see_presence": True},
    )


# --- the chat pane ---------------------------------------------------------------------------


@login_required
@require_GET
def conversation(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """Open a chat: the whole page on a plain GET, the chat + contact card on htmx. Opening it
    marks it read (for its assignee)."""
    conv = _conversation(request, conversation_id)
    conv = services.mark_read(conversation=conv, by=request.user)
    context = _chat_context(request, conv)
    if request.htmx and request.headers.get("HX-Target") == "conversation-pane":
        response = render(request, "inbox/_conversation.html", context)
        response["HX-Trigger"] = _changed(conv.pk)
        return response
    context.update(_page_context(request))
    context["open_id"] = conv.pk
    return render(request, "inbox/inbox.html", context)


@login_required
@require_GET
def header(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """The chat header (assignee, tray, labels, actions), refreshed on realtime events."""
    return render(
        request,
        "inbox/_chat_header.html",
        _header_context(request, _conversation(request, conversation_id)),
    )


@login_required
@require_GET
def thread_messages(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """New messages after `despues` (live updates and catch-up after a reconnect) or older ones
    before `antes` ("ver anteriores")."""
    conv = _conversation(request, conversation_id)
    after = _positive(request.GET.get("despues"))
    before = _positive(request.GET.get("antes"))
    if after is not None:
        items = _thread_items(
            conv, after_id=after, previous_day=request.GET.get("dia", ""), limit=200
        )
    else:
        items = _thread_items(conv, before_id=before, limit=THREAD_SIZE)
    if items and conv.unread_count and after is not None:
        services.mark_read(conversation=conv, by=request.user)
    return render(
        request,
        "inbox/_messages.html",
        {
            "items": items,
            "conversation": conv,
            "older": before is not None,
            "has_older": len(items) >= THREAD_SIZE,
        },
    )


def _positive(value: str | None) -> int | None:
    try:
        number = int(value or "")
    except ValueError:
        return None
    return number if number >= 0 else None


@login_required
@require_GET
def message(request: HttpRequest, conversation_id: int, message_id: int) -> HttpResponse:
    """One message again (its delivery status changed)."""
    conv = _conversation(request, conversation_id)
    found = Message.objects.filter(conversation=conv, pk=message_id).select_related("author")
    thread = list(found)
    if not thread:
        raise Http404
    _attach_files(thread)
    return render(
        request, "inbox/_message.html", {"m": thread[0], "conversation": conv, "item": None}
    )


@login_required
@require_GET
def attachment(request: HttpRequest, conversation_id: int, attachment_id: int) -> FileResponse:
    """A file of the conversation, only for those who may see it. Images, audio and video are
    shown inline (their types are checked on upload); `?descargar=1` downloads."""
    conv = _conversation(request, conversation_id)
    message_ids = Message.objects.filter(conversation=conv).annotate(
        key=Cast("id", output_field=CharField())
    )
    found = Attachment.objects.filter(
        pk=attachment_id,
        owner_type=ContentType.objects.get_for_model(Message),
        owner_id__in=message_ids.values("key"),
    ).first()
    if found is None:
        raise Http404
    try:
        handle = found.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    inline = found.mime_type.split("/")[0] in ("image", "audio", "video") and not (
        request.GET.get("descargar")
    )
    response = FileResponse(
        handle, as_attachment=not inline, filename=found.name, content_type=found.mime_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# --- actions ---------------------------------------------------------------------------------


def _action(request: HttpRequest, conv: Conversation, do) -> HttpResponse:
    """Run one service call; answer htmx with the fresh header, a plain post with a redirect."""
    error = ""
    try:
        conv = do()
    except ValidationError as exc:
        error = _first_error(exc)
    try:
        conv = _conversation(request, conv.pk)
    except PermissionDenied:
        # Transferred to a team the user is not in: it is no longer theirs to see.
        flash.success(request, _("Conversación transferida."))
        index = reverse("inbox:index")
        if request.htmx:
            response = HttpResponse(status=204)
            response["HX-Redirect"] = index
            return response
        return redirect(index)
    if request.htmx:
        return _render_header(request, conv, action_error=error)
    if error:
        flash.error(request, error)
    return _back(request, conv)


@login_required
@require_POST
def take(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """ "Tomar": assign to me; a pending conversation moves to En curso."""
    conv = _conversation(request, conversation_id)

    def do():
        taken = services.assign_conversation(
            conversation=conv, assignee=request.user, by=request.user
        )
        if taken.status != ConversationStatus.OPEN:
            taken = services.set_conversation_status(
                conversation=taken, status=ConversationStatus.OPEN, by=request.user
            )
        return taken

    return _action(request, conv, do)


@login_required
@require_POST
def transfer(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conv = _conversation(request, conversation_id)
    form = TransferForm(request.POST)

    def do():
        if not form.is_valid():
            raise ValidationError(_("Elige un agente o un equipo válido."))
        assignee: User | None = form.cleaned_data["assignee"]
        team: Team | None = form.cleaned_data["team"]
        return services.assign_conversation(
            conversation=conv, assignee=assignee, team=team, by=request.user
        )

    return _action(request, conv, do)


@login_required
@require_POST
def move(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """ "Mover de bandeja" and "Resolver" (status=resolved)."""
    conv = _conversation(request, conversation_id)
    form = StatusForm(request.POST)

    def do():
        if not form.is_valid():
            raise ValidationError(_("Bandeja desconocida."))
        return services.set_conversation_status(
            conversation=conv, status=form.cleaned_data["status"], by=request.user
        )

    return _action(request, conv, do)


@login_required
@require_POST
def labels(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conv = _conversation(request, conversation_id)
    form = LabelsForm(request.POST)

    def do():
        if not form.is_valid():
            raise ValidationError(_("Etiqueta desconocida."))
        return services.set_conversation_labels(
            conversation=conv, labels=list(form.cleaned_data["labels"]), by=request.user
        )

    return _action(request, conv, do)


@login_required
@require_POST
def mark_read(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conv = _conversation(request, conversation_id)
    conv = services.mark_read(conversation=conv, by=request.user)
    if _wants_json(request):
        return JsonResponse({"unread": conv.unread_count})
    return _back(request, conv)


# --- sending ---------------------------------------------------------------------------------


_VOICE_TYPES = {"audio/ogg", "video/webm", "audio/wav", "audio/mpeg", "audio/mp4"}


def _kind_for_upload(upload, requested: str) -> str:
    """The message kind from the file's (checked) type: image, video, audio, voice or file."""
    mime_type = ALLOWED_TYPES.get(Path(upload.name or "").suffix.lower(), ("",))[0]
    if requested == MessageKind.VOICE and mime_type in _VOICE_TYPES:
        return MessageKind.VOICE
    family = mime_type.split("/")[0]
    if family == "image":
        return MessageKind.IMAGE
    if family == "video":
        return MessageKind.VIDEO
    if family == "audio":
        return MessageKind.VOICE if requested == MessageKind.VOICE else MessageKind.AUDIO
    return MessageKind.FILE


def _sent(request: HttpRequest, conv: Conversation, sent: Message | None, error: str):
    if _wants_json(request):
        if error:
            return JsonResponse({"error": error}, status=400)
        thread = [sent]
        _attach_files(thread)
        html = render_to_string(
            "inbox/_messages.html",
            {
                "items": _with_days(thread, request.POST.get("dia", "")),
                "conversation": conv,
            },
            request=request,
        )
        return JsonResponse({"id": sent.pk, "html": html})
    if error:
        flash.error(request, error)
    return _back(request, conv)


@login_required
@require_POST
def send(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """The composer: a reply or a private note; text, a file (its kind from its type), a voice
    note, or a location. Bad input gets a Spanish message and stores nothing."""
    conv = _conversation(request, conversation_id)
    body = request.POST.get("body", "")
    upload = request.FILES.get("file")
    requested = request.POST.get("kind", "")
    payload = None
    if request.POST.get("mode") == "note":
        kind = MessageKind.NOTE
        upload = None
    elif upload is not None:
        kind = _kind_for_upload(upload, requested)
    elif requested == MessageKind.LOCATION:
        kind = MessageKind.LOCATION
        form = LocationForm(request.POST)
        if not form.is_valid():
            return _sent(request, conv, None, _("Ubicación no válida."))
        payload = form.cleaned_data
    else:
        kind = MessageKind.TEXT
    try:
        sent = services.send_message(
            conversation=conv, by=request.user, body=body, kind=kind, upload=upload, payload=payload
        )
    except ValidationError as exc:
        return _sent(request, conv, None, _first_error(exc))
    return _sent(request, conv, sent, "")


@login_required
@require_POST
def send_template(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conv = _conversation(request, conversation_id)
    template = (
        selectors.approved_templates(channel=conv.channel)
        .filter(pk=_positive(request.POST.get("template")) or 0)
        .first()
    )
    if template is None:
        return _sent(request, conv, None, _("Elige una plantilla aprobada."))
    variables = [value.strip() for value in request.POST.getlist("variable")]
    try:
        sent = services.send_template(
            conversation=conv, by=request.user, template=template, variables=variables
        )
    except ValidationError as exc:
        return _sent(request, conv, None, _first_error(exc))
    return _sent(request, conv, sent, "")


@login_required
@require_POST
def retry(request: HttpRequest, conversation_id: int, message_id: int) -> HttpResponse:
    """ "Reintentar" on a failed message."""
    conv = _conversation(request, conversation_id)
    failed = Message.objects.filter(conversation=conv, pk=message_id).first()
    if failed is None:
        raise Http404
    error = ""
    try:
        failed = services.retry_message(message=failed, by=request.user)
    except ValidationError as exc:
        error = _first_error(exc)
    if request.htmx:
        failed.refresh_from_db()
        thread = [failed]
        _attach_files(thread)
        return render(
            request,
            "inbox/_message.html",
            {"m": failed, "conversation": conv, "retry_error": error},
        )
    if error:
        flash.error(request, error)
    return _back(request, conv)


# --- composer helpers: canned responses, templates, mentions ---------------------------------


@login_required
@require_GET
def canned(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """Canned responses whose shortcut starts with (or title contains) `q`, variables filled in
    for this conversation: what `/` in the composer lists."""
    conv = _conversation(request, conversation_id)
    query = request.GET.get("q", "").strip().lstrip("/")[:40]
    found = list(selectors.canned_responses_for(user=request.user, query=query)[:CANNED_LIMIT])
    for item in found:
        item.filled = services.fill_variables(item.body, conv, request.user)
    return render(request, "inbox/_canned.html", {"canned": found, "query": query})


@login_required
@require_GET
def templates(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """The searchable template picker (approved templates of the conversation's channel)."""
    conv = _conversation(request, conversation_id)
    query = request.GET.get("q", "").strip()[:80]
    found = list(selectors.approved_templates(channel=conv.channel, query=query)[:30])
    for item in found:
        defaults = services.template_defaults(item, conv, request.user)
        item.variables = [(n, defaults[n - 1]) for n in range(1, len(defaults) + 1)]
    return render(
        request,
        "inbox/_templates.html",
        {"templates": found, "conversation": conv, "query": query},
    )


@login_required
@require_GET
def mentions(request: HttpRequest) -> HttpResponse:
    """Usernames for @mentions in private notes."""
    if not request.user.has_perm("inbox.view_inbox"):
        raise PermissionDenied
    query = request.GET.get("q", "").strip()[:40]
    people = User.objects.filter(is_active=True)
    if query:
        people = people.filter(username__istartswith=query) | people.filter(
            display_name__icontains=query
        )
    return render(
        request,
        "inbox/_mentions.html",
        {"people": people.order_by("username")[:8]},
    )


# --- "Enviar mensaje a número" ----------------------------------------------------------------


def _needs_template(channel) -> bool:
    try:
        return connector_for(channel.kind).capabilities.templates
    except LookupError:
        return False


def _start_form(request: HttpRequest, data=None) -> StartConversationForm:
    channels = selectors.active_channels()
    templates = MessageTemplate.objects.filter(
        status=MessageTemplate.Status.APPROVED
    ).select_related("channel")
    return StartConversationForm(data, channels=channels, templates=templates)


@login_required
def start(request: HttpRequest) -> HttpResponse:
    """Start a conversation with a number that may not be a contact yet."""
    if not request.user.has_perm("inbox.start_conversation"):
        raise PermissionDenied
    form = _start_form(request, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            started = services.start_conversation(
                channel=data["channel"],
                phone=data["phone"],
                by=request.user,
                body=data["body"],
                template=data["template"],
                variables=form.variable_list,
            )
        except LookupError:
            form.add_error("channel", _("Este canal todavía no puede enviar mensajes."))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            url = reverse("inbox:conversation", args=[started.pk]) + "?bandeja=" + started.status
            if request.htmx:
                response = HttpResponse(status=204)
                response["HX-Redirect"] = url
                return response
            return redirect(url)
    template = "inbox/_start_form.html" if request.htmx else "inbox/start.html"
    return render(
        request,
        template,
        {
            "form": form,
            "section": "inbox",
            "template_channels": [
                channel.pk
                for channel in form.fields["channel"].queryset
                if _needs_template(channel)
            ],
        },
    )
