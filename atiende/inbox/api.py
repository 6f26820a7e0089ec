"""/api/v1 for the inbox: conversations and their messages, canned responses, templates, channels.

Thin, like the UI: the same selectors (what a user may see) and services (every write, with its
permission check). An agent asking for another team's conversation gets 403, as in the UI and on
the socket. Channel credentials are write-only: they are never returned.
"""

import datetime
import json
from typing import Any

import pydantic
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import PageNumberPagination, paginate

from atiende.core.models import Attachment
from atiende.core.permissions import require
from atiende.inbox import selectors, services
from atiende.inbox.models import (
    CannedResponse,
    Channel,
    Conversation,
    ConversationStatus,
    Message,
    MessageKind,
    MessageTemplate,
)
from atiende.users.models import Team, User

router = Router(tags=["inbox"])

PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
THREAD_LIMIT = 100
# Kinds a JSON body may send; files go as multipart and take their kind from the MIME type.
JSON_KINDS = (MessageKind.TEXT, MessageKind.NOTE, MessageKind.LOCATION)
FILE_KINDS = (
    MessageKind.IMAGE,
    MessageKind.VIDEO,
    MessageKind.AUDIO,
    MessageKind.VOICE,
    MessageKind.FILE,
)


# --- schemas ----------------------------------------------------------------------------


class UserRef(Schema):
    id: int
    name: str


class TeamRef(Schema):
    id: int
    name: str


class LabelRef(Schema):
    id: int
    name: str
    color: str


class ContactRef(Schema):
    id: int
    full_name: str
    primary_phone: str
    primary_email: str


class ChannelRef(Schema):
    id: int
    name: str
    kind: str
    color: str
    icon: str


class ConversationOut(Schema):
    id: int
    status: str = Field(description="pending (Pendiente) | open (En curso) | resolved (Atendidos)")
    contact: ContactRef
    channel: ChannelRef
    recipient: str = Field(description="El identificador del cliente en el canal.")
    assignee: UserRef | None
    team: TeamRef | None
    labels: list[LabelRef]
    awaiting_first_response: bool
    unread_count: int
    last_message_at: datetime.datetime | None
    last_message_preview: str
    last_message_inbound: bool = Field(
        description="true: el último mensaje es del cliente (pendiente de atención)."
    )
    last_inbound_at: datetime.datetime | None
    first_response_at: datetime.datetime | None
    assigned_at: datetime.datetime | None
    resolved_at: datetime.datetime | None
    created_at: datetime.datetime

    @staticmethod
    def resolve_labels(obj: Conversation) -> list:
        return list(obj.labels.all())


class AttachmentOut(Schema):
    id: int
    name: str
    mime_type: str
    size: int
    url: str


class MessageOut(Schema):
    id: int
    conversation_id: int
    direction: str = Field(description="in | out")
    author_kind: str = Field(description="contact | agent | bot | system")
    author: UserRef | None
    kind: str = Field(
        description="text | image | video | audio | voice | file | location | template | note"
    )
    body: str
    payload: dict[str, Any]
    status: str = Field(description="received | queued | sent | delivered | read | failed")
    error_code: str
    error_message: str = Field(description="El error del proveedor cuando falló el envío.")
    attempts: int
    reply_to_id: int | None
    attachments: list[AttachmentOut]
    created_at: datetime.datetime
    sent_at: datetime.datetime | None
    delivered_at: datetime.datetime | None
    read_at: datetime.datetime | None

    @staticmethod
    def resolve_attachments(obj: Message) -> list[dict]:
        files = getattr(obj, "files", None)
        if files is None:
            files = selectors.message_attachments([obj])[obj.pk]
        contact_id = obj.conversation.contact_id
        return [_attachment(contact_id, attachment) for attachment in files]


class MessageIn(Schema):
    body: str = ""
    kind: str = Field("text", description="text | note (nota privada) | location")
    payload: dict[str, Any] = Field(
        {}, description='Ubicación: {"latitude": …, "longitude": …, "name": "…"}.'
    )
    template: int | None = Field(None, description="Id de una plantilla aprobada.")
    variables: list[str] = Field([], description="Valores de {{1}}, {{2}}… de la plantilla.")


class AssignIn(Schema):
    assignee: int | None = Field(description="Id del agente; null la deja sin asignar.")
    team: int | None = Field(None, description="Id del equipo al que se transfiere.")


class StatusIn(Schema):
    status: str = Field(description="pending | open | resolved")


class StartIn(Schema):
    channel: int
    phone: str = Field(description="En cualquier formato: 0991 651351, +595 991 651351…")
    body: str = ""
    template: int | None = Field(None, description="Obligatoria en canales que la exigen.")
    variables: list[str] = []


class CannedOut(Schema):
    id: int
    shortcut: str
    title: str
    body: str
    team: TeamRef | None
    created_at: datetime.datetime


class CannedIn(Schema):
    shortcut: str = Field(description="Se escribe /atajo en el chat.")
    title: str
    body: str = Field(description="Admite {{contacto.nombre}}, {{agente.nombre}}…")
    team: int | None = Field(None, description="Id del equipo; null: para todos.")


class CannedPatch(Schema):
    shortcut: str | None = None
    title: str | None = None
    body: str | None = None
    team: int | None = Field(None, description="Id del equipo; null: para todos.")


class TemplateOut(Schema):
    id: int
    name: str
    language: str
    category: str
    status: str = Field(description="approved | pending | rejected | paused")
    body: str
    channel: ChannelRef | None
    updated_at: datetime.datetime


class TemplateIn(Schema):
    name: str = Field(description="Minúsculas, números y guion bajo.")
    body: str = Field(description="Con variables {{1}}, {{2}}…")
    language: str = "es"
    category: str = ""
    status: str = "approved"
    channel: int | None = Field(None, description="Id del canal; null: para todos.")


class TemplatePatch(Schema):
    name: str | None = None
    body: str | None = None
    language: str | None = None
    category: str | None = None
    status: str | None = None
    channel: int | None = None


class ChannelOut(ChannelRef):
    team: TeamRef | None
    is_active: bool
    auto_assign: bool
    business_hours: dict[str, Any] = Field(
        description='Por día ISO ("1" lunes … "7" domingo): [["08:00", "18:00"]]. Vacío: siempre.'
    )
    out_of_hours_message: str
    config: dict[str, Any]
    has_credentials: bool = Field(description="Las credenciales nunca se devuelven.")
    created_at: datetime.datetime

    @staticmethod
    def resolve_has_credentials(obj: Channel) -> bool:
        return bool(obj.credentials_encrypted)


class ChannelIn(Schema):
    name: str
    kind: str = Field(description="webchat | whatsapp | messenger | instagram | sms | email")
    color: str = Field("#0d7c86", description="Color en formato #RRGGBB.")
    team: int | None = Field(None, description="Id del equipo por defecto.")
    is_active: bool = True
    auto_assign: bool = True
    business_hours: dict[str, list[list[str]]] = {}
    out_of_hours_message: str = ""
    config: dict[str, Any] = {}
    credentials: dict[str, str] | None = Field(
        None, description="Se guardan cifradas y nunca se devuelven."
    )


class ChannelPatch(Schema):
    name: str | None = None
    color: str | None = None
    team: int | None = None
    is_active: bool | None = None
    auto_assign: bool | None = None
    business_hours: dict[str, list[list[str]]] | None = None
    out_of_hours_message: str | None = None
    config: dict[str, Any] | None = None
    credentials: dict[str, str] | None = Field(
        None, description="Se combinan con las guardadas; nunca se devuelven."
    )


# --- helpers ----------------------------------------------------------------------------


def _attachment(contact_id: int | None, attachment: Attachment) -> dict:
    url = ""
    if contact_id:
        url = reverse("contacts:attachment_download", args=[contact_id, attachment.pk])
    return {
        "id": attachment.pk,
        "name": attachment.name,
        "mime_type": attachment.mime_type,
        "size": attachment.size,
        "url": url,
    }


def _conversation(request: HttpRequest, conversation_id: int) -> Conversation:
    try:
        return selectors.conversation_for(user=request.user, conversation_id=conversation_id)
    except Conversation.DoesNotExist:
        raise HttpError(404, _("La conversación no existe.")) from None


def _message(request: HttpRequest, message_id: int) -> Message:
    message = Message.objects.filter(pk=message_id).only("id", "conversation_id").first()
    if message is None:
        raise HttpError(404, _("El mensaje no existe."))
    conversation = _conversation(request, message.conversation_id)
    message = Message.objects.select_related("author").get(pk=message_id)
    message.conversation = conversation
    return message


def _with_files(messages: list[Message], conversation: Conversation) -> list[Message]:
    files = selectors.message_attachments(messages)
    for message in messages:
        message.conversation = conversation
        message.files = files[message.pk]
    return messages


def _user(user_id: int | None, field: str) -> User | None:
    if user_id is None:
        return None
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise ValidationError({field: _("El usuario no existe o no está activo.")})
    return user


def _team(team_id: int | None, field: str = "team") -> Team | None:
    if team_id is None:
        return None
    team = Team.objects.filter(pk=team_id).first()
    if team is None:
        raise ValidationError({field: _("El equipo no existe.")})
    return team


def _channel_ref(channel_id: int | None, field: str = "channel") -> Channel | None:
    if channel_id is None:
        return None
    channel = Channel.objects.filter(pk=channel_id).first()
    if channel is None:
        raise ValidationError({field: _("El canal no existe.")})
    return channel


def _template_ref(template_id: int, field: str = "template") -> MessageTemplate:
    template = MessageTemplate.objects.filter(pk=template_id).first()
    if template is None:
        raise ValidationError({field: _("La plantilla no existe.")})
    return template


def _schema_errors(exc: pydantic.ValidationError) -> ValidationError:
    errors: dict[str, list[str]] = {}
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else "__all__"
        errors.setdefault(field, []).append(_("Valor no válido."))
    return ValidationError(errors)


def _kind_for_mime(mime_type: str) -> str:
    for prefix, kind in (
        ("image/", MessageKind.IMAGE),
        ("audio/", MessageKind.AUDIO),
        ("video/", MessageKind.VIDEO),
    ):
        if mime_type.startswith(prefix):
            return kind
    return MessageKind.FILE


# --- conversations ----------------------------------------------------------------------


class ConversationFilters(Schema):
    status: str = Field("", description="pending | open | resolved; vacío: todas las bandejas.")
    assignee: str = Field("", description='Id de agente, "me" (las mías) o "none" (sin asignar).')
    channel: int | None = None
    team: int | None = None
    label: int | None = Field(None, description="Etiqueta de la conversación o del contacto.")
    group: int | None = Field(None, description="Grupo del contacto.")
    q: str = Field("", description="Nombre o número del contacto, en cualquier formato.")
    needs_attention: bool = Field(False, description="Solo las que esperan respuesta del agente.")
    sort: str = Field("-last", description="-last | last | -created | created | waiting | -waiting")


@router.get("/conversations", response=list[ConversationOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE, max_page_size=MAX_PAGE_SIZE)
def list_conversations(request: HttpRequest, filters: Query[ConversationFilters]):
    """The conversations the caller may see, newest message first, filtered like the inbox."""
    errors = {}
    if filters.status and filters.status not in ConversationStatus.values:
        errors["status"] = _("Bandeja desconocida.")
    if filters.sort not in selectors.SORTS:
        errors["sort"] = _("Orden desconocido.")
    assignee = filters.assignee.strip()
    if assignee not in ("", "me", "none") and not assignee.isdigit():
        errors["assignee"] = _('Indica el id de un agente, "me" o "none".')
    if errors:
        raise ValidationError(errors)
    inbox_filters = selectors.InboxFilters(
        query=filters.q.strip(),
        team=filters.team,
        assignee=int(assignee) if assignee.isdigit() else None,
        mine=assignee == "me",
        unassigned=assignee == "none",
        channel=filters.channel,
        label=filters.label,
        group=filters.group,
        needs_attention=filters.needs_attention,
        sort=filters.sort,
    )
    return selectors.conversations_for_tray(
        user=request.user,
        status=filters.status,
        filters=inbox_filters,
        all_trays=not filters.status,
    )


@router.post("/conversations/start", response={201: ConversationOut})
def start_conversation(request: HttpRequest, payload: StartIn):
    """ "Enviar mensaje a número": the contact is created when the number is new."""
    channel = Channel.objects.filter(pk=payload.channel, is_active=True).first()
    if channel is None:
        raise ValidationError({"channel": _("El canal no existe o no está activo.")})
    template = _template_ref(payload.template) if payload.template is not None else None
    conversation = services.start_conversation(
        channel=channel,
        phone=payload.phone,
        by=request.user,
        body=payload.body,
        template=template,
        variables=payload.variables,
    )
    return Status(201, _conversation(request, conversation.pk))


@router.get("/conversations/{int:conversation_id}", response=ConversationOut)
def get_conversation(request: HttpRequest, conversation_id: int):
    return _conversation(request, conversation_id)


@router.get("/conversations/{int:conversation_id}/messages", response=list[MessageOut])
def list_messages(
    request: HttpRequest,
    conversation_id: int,
    after: int | None = Query(None, description="Solo los posteriores a este id (al reconectar)."),
    before: int | None = Query(None, description="Los anteriores a este id (página atrás)."),
    limit: int = Query(THREAD_LIMIT, ge=1, le=THREAD_LIMIT),
):
    """The thread oldest → newest: the latest `limit` messages, private notes included."""
    conversation = _conversation(request, conversation_id)
    messages = selectors.thread(
        conversation=conversation, after_id=after, before_id=before, limit=limit
    )
    return _with_files(messages, conversation)


_MESSAGE_BODY_DOC = {
    "requestBody": {
        "content": {
            "application/json": {"schema": MessageIn.model_json_schema()},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "body": {"type": "string"},
                        "kind": {
                            "type": "string",
                            "description": "image | video | audio | voice | file; "
                            "vacío: según el tipo del archivo.",
                        },
                    },
                    "required": ["file"],
                }
            },
        },
        "required": True,
    }
}


@router.post(
    "/conversations/{int:conversation_id}/messages",
    response={201: MessageOut},
    openapi_extra=_MESSAGE_BODY_DOC,
)
def send_message(request: HttpRequest, conversation_id: int):
    """A reply (text, location, template), a private note, or a file sent as multipart.

    It is stored `queued` and delivered by a job: follow its `status` (sent, delivered, read or
    failed with `error_message`)."""
    conversation = _conversation(request, conversation_id)
    if request.content_type == "multipart/form-data":
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationError({"file": _("Adjunta un archivo.")})
        kind = request.POST.get("kind", "").strip()
        if kind and kind not in FILE_KINDS:
            raise ValidationError({"kind": _("Tipo de mensaje no válido.")})
        message = services.send_message(
            conversation=conversation,
            by=request.user,
            body=request.POST.get("body", ""),
            kind=kind or _kind_for_mime(upload.content_type or ""),
            upload=upload,
        )
    else:
        try:
            raw = json.loads(request.body or b"{}")
        except ValueError:
            raise ValidationError({"__all__": _("El cuerpo no es JSON válido.")}) from None
        try:
            data = MessageIn.model_validate(raw)
        except pydantic.ValidationError as exc:
            raise _schema_errors(exc) from None
        if data.template is not None:
            message = services.send_template(
                conversation=conversation,
                by=request.user,
                template=_template_ref(data.template),
                variables=data.variables,
            )
        else:
            if data.kind not in JSON_KINDS:
                raise ValidationError(
                    {"kind": _("Tipo de mensaje no válido. Los archivos se envían como multipart.")}
                )
            message = services.send_message(
                conversation=conversation,
                by=request.user,
                body=data.body,
                kind=data.kind,
                payload=data.payload,
            )
    message.refresh_from_db()
    return Status(201, _with_files([message], conversation)[0])


@router.post("/conversations/{int:conversation_id}/assign", response=ConversationOut)
def assign_conversation(request: HttpRequest, conversation_id: int, payload: AssignIn):
    """Take (your own id), transfer (another agent, optionally another team) or release (null)."""
    conversation = _conversation(request, conversation_id)
    services.assign_conversation(
        conversation=conversation,
        assignee=_user(payload.assignee, "assignee"),
        team=_team(payload.team),
        by=request.user,
    )
    return _conversation(request, conversation_id)


@router.post("/conversations/{int:conversation_id}/status", response=ConversationOut)
def set_status(request: HttpRequest, conversation_id: int, payload: StatusIn):
    """Move to another tray: pending (Pendiente), open (En curso), resolved (Atendidos)."""
    conversation = _conversation(request, conversation_id)
    services.set_conversation_status(
        conversation=conversation, status=payload.status, by=request.user
    )
    return _conversation(request, conversation_id)


@router.post("/conversations/{int:conversation_id}/read", response=ConversationOut)
def mark_read(request: HttpRequest, conversation_id: int):
    """The unread count goes to zero when the caller is the assignee (or nobody is)."""
    conversation = _conversation(request, conversation_id)
    return services.mark_read(conversation=conversation, by=request.user)


@router.post("/messages/{int:message_id}/retry", response=MessageOut)
def retry_message(request: HttpRequest, message_id: int):
    """Queue a failed message again."""
    message = _message(request, message_id)
    services.retry_message(message=message, by=request.user)
    message.refresh_from_db()
    return _with_files([message], message.conversation)[0]


# --- canned responses -------------------------------------------------------------------


def _canned(canned_id: int) -> CannedResponse:
    canned = CannedResponse.objects.select_related("team").filter(pk=canned_id).first()
    if canned is None:
        raise HttpError(404, _("La respuesta rápida no existe."))
    return canned


@router.get("/canned-responses", response=list[CannedOut])
@paginate(PageNumberPagination, page_size=MAX_PAGE_SIZE, max_page_size=MAX_PAGE_SIZE)
def list_canned_responses(
    request: HttpRequest,
    q: str = Query("", description="Atajo (empieza por) o título (contiene)."),
    team: str = Query("", description='Id de equipo o "global"; solo para quienes las gestionan.'),
):
    """The ones the caller can use: global and their teams'. Admins and supervisors see all."""
    require(request.user, "inbox.view_inbox")
    if not request.user.has_perm("inbox.manage_canned_responses"):
        return selectors.canned_responses_for(user=request.user, query=q.strip())
    team = team.strip()
    if team and team != "global" and not team.isdigit():
        raise ValidationError({"team": _('Indica el id de un equipo o "global".')})
    return selectors.canned_responses(
        team=int(team) if team.isdigit() else None,
        only_global=team == "global",
        query=q.strip(),
    )


@router.post("/canned-responses", response={201: CannedOut})
def create_canned_response(request: HttpRequest, payload: CannedIn):
    canned = services.save_canned_response(
        by=request.user,
        shortcut=payload.shortcut,
        title=payload.title,
        body=payload.body,
        team=_team(payload.team),
    )
    return Status(201, canned)


@router.patch("/canned-responses/{int:canned_id}", response=CannedOut)
def update_canned_response(request: HttpRequest, canned_id: int, payload: CannedPatch):
    """Only the fields sent change; `team: null` makes it global."""
    canned = _canned(canned_id)
    data = payload.dict(exclude_unset=True)
    require(request.user, "inbox.manage_canned_responses", canned.team)
    return services.save_canned_response(
        by=request.user,
        canned=canned,
        shortcut=canned.shortcut if data.get("shortcut") is None else data["shortcut"],
        title=canned.title if data.get("title") is None else data["title"],
        body=canned.body if data.get("body") is None else data["body"],
        team=_team(data["team"]) if "team" in data else canned.team,
    )


@router.delete("/canned-responses/{int:canned_id}", response={204: None})
def delete_canned_response(request: HttpRequest, canned_id: int):
    services.delete_canned_response(canned=_canned(canned_id), by=request.user)
    return Status(204, None)


# --- templates --------------------------------------------------------------------------


def _template(template_id: int) -> MessageTemplate:
    template = MessageTemplate.objects.select_related("channel").filter(pk=template_id).first()
    if template is None:
        raise HttpError(404, _("La plantilla no existe."))
    return template


@router.get("/templates", response=list[TemplateOut])
@paginate(PageNumberPagination, page_size=MAX_PAGE_SIZE, max_page_size=MAX_PAGE_SIZE)
def list_templates(
    request: HttpRequest,
    channel: int | None = Query(None, description="Las del canal y las globales."),
    status: str = Query("", description="approved | pending | rejected | paused"),
    q: str = Query("", description="Nombre o texto."),
):
    require(request.user, "inbox.view_inbox")
    if status and status not in MessageTemplate.Status.values:
        raise ValidationError({"status": _("Estado desconocido.")})
    return selectors.message_templates(channel=channel, status=status, query=q.strip())


@router.post("/templates", response={201: TemplateOut})
def create_template(request: HttpRequest, payload: TemplateIn):
    require(request.user, "inbox.manage_channels")
    template = services.save_template(
        by=request.user,
        name=payload.name,
        body=payload.body,
        language=payload.language,
        category=payload.category,
        status=payload.status,
        channel=_channel_ref(payload.channel),
    )
    return Status(201, _template(template.pk))


@router.patch("/templates/{int:template_id}", response=TemplateOut)
def update_template(request: HttpRequest, template_id: int, payload: TemplatePatch):
    """Only the fields sent change; `channel: null` makes it available on every channel."""
    require(request.user, "inbox.manage_channels")
    template = _template(template_id)
    data = payload.dict(exclude_unset=True)

    def value(name: str) -> Any:
        return getattr(template, name) if data.get(name) is None else data[name]

    services.save_template(
        by=request.user,
        template=template,
        name=value("name"),
        body=value("body"),
        language=value("language"),
        category=value("category"),
        status=value("status"),
        channel=_channel_ref(data["channel"]) if "channel" in data else template.channel,
    )
    return _template(template_id)


# --- channels ---------------------------------------------------------------------------


def _channel(channel_id: int) -> Channel:
    channel = Channel.objects.select_related("team").filter(pk=channel_id).first()
    if channel is None:
        raise HttpError(404, _("El canal no existe."))
    return channel


@router.get("/channels", response=list[ChannelOut])
@paginate(PageNumberPagination, page_size=MAX_PAGE_SIZE, max_page_size=MAX_PAGE_SIZE)
def list_channels(request: HttpRequest):
    """Active channels (admins: every channel). Credentials are never returned."""
    return selectors.channels_for(user=request.user)


@router.post("/channels", response={201: ChannelOut})
def create_channel(request: HttpRequest, payload: ChannelIn):
    """Admins only. `credentials` are stored encrypted and never returned."""
    require(request.user, "inbox.manage_channels")
    data = payload.dict()
    data["team"] = _team(data["team"])
    channel = services.save_channel(by=request.user, **data)
    return Status(201, _channel(channel.pk))


@router.get("/channels/{int:channel_id}", response=ChannelOut)
def get_channel(request: HttpRequest, channel_id: int):
    require(request.user, "inbox.manage_channels")
    return _channel(channel_id)


@router.patch("/channels/{int:channel_id}", response=ChannelOut)
def update_channel(request: HttpRequest, channel_id: int, payload: ChannelPatch):
    """Admins only. Only the fields sent change; sent credentials join the stored ones."""
    require(request.user, "inbox.manage_channels")
    channel = _channel(channel_id)
    data = payload.dict(exclude_unset=True)

    def value(name: str) -> Any:
        return getattr(channel, name) if data.get(name) is None else data[name]

    services.save_channel(
        by=request.user,
        channel=channel,
        name=value("name"),
        kind=channel.kind,
        color=value("color"),
        team=_team(data["team"]) if "team" in data else channel.team,
        is_active=value("is_active"),
        auto_assign=value("auto_assign"),
        business_hours=value("business_hours"),
        out_of_hours_message=value("out_of_hours_message"),
        config=data.get("config"),
        credentials=data.get("credentials"),
    )
    return _channel(channel_id)


@router.post("/channels/{int:channel_id}/templates/sync", response=dict)
def sync_channel_templates(request: HttpRequest, channel_id: int):
    """Admins only: read the channel's templates from its provider now (WhatsApp)."""
    require(request.user, "inbox.manage_channels")
    count = services.sync_channel_templates(channel=_channel(channel_id), by=request.user)
    return {"templates": count}
