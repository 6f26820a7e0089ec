"""Every write about tickets: create, edit, stage changes, escalation to Tech, notes, bulk actions.

Each service checks its permission (`tickets.rules`), runs in a transaction, records the change in
the audit history (before → after) and keeps `last_activity_at`.
"""

import datetime
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import nh3
from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from atiende.contacts.models import Account, Contact, Label
from atiende.contacts.services import register_merge_part
from atiende.core.attachments import check_upload, store_attachment
from atiende.core.audit import record, snapshot
from atiende.core.permissions import require
from atiende.tickets import sla
from atiende.tickets.defaults import TECH_TEAM_NAME
from atiende.tickets.models import (
    Pipeline,
    Priority,
    SlaPause,
    Source,
    Stage,
    Ticket,
    TicketNote,
)
from atiende.users.models import Team, User

AUDIT_FIELDS = [
    "name",
    "description",
    "pipeline",
    "stage",
    "priority",
    "owner",
    "team",
    "contact",
    "account",
    "source",
    "created_at",
    "closed_at",
    "escalation_what",
    "escalation_how",
    "escalation_where",
    "requested_changes",
]

ALLOWED_TAGS = {
    "p", "br", "b", "strong", "i", "em", "u", "s", "ul", "ol", "li", "a", "blockquote",
    "code", "pre", "h3", "h4", "span",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
_MENTION = re.compile(r"@([\w.\-]+)")
# A create date a little ahead of the server clock (a user's watch) is tolerated.
FUTURE_TOLERANCE = datetime.timedelta(minutes=5)


def sanitize_html(text: str) -> str:
    """Rich text as basic, safe HTML: no scripts, styles or event handlers."""
    return nh3.clean(text or "", tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES).strip()


# --- helpers ----------------------------------------------------------------------------


def default_pipeline() -> Pipeline:
    pipeline = Pipeline.objects.filter(is_default=True).order_by("position", "id").first()
    pipeline = pipeline or Pipeline.objects.order_by("position", "id").first()
    if pipeline is None:
        raise ValidationError({"pipeline": _("No hay ningún pipeline configurado.")})
    return pipeline


def ticket_url(ticket: Ticket) -> str:
    try:
        return reverse("tickets:detail", args=[ticket.pk])
    except NoReverseMatch:
        return ""


def _notify(**kwargs: Any) -> list:
    """Hand a notification to the notifications app when it is installed; otherwise nothing.
    Returns the notifications created (none when deduplicated)."""
    if not apps.is_installed("atiende.notifications"):
        return []
    try:
        from atiende.notifications.services import notify
    except ImportError:  # pragma: no cover - app present without the service
        return []
    return notify(**kwargs)


def _touch(ticket: Ticket, at: datetime.datetime | None = None) -> None:
    ticket.last_activity_at = at or timezone.now()
    Ticket.objects.filter(pk=ticket.pk).update(last_activity_at=ticket.last_activity_at)


def _sync_pause(ticket: Ticket, at: datetime.datetime) -> None:
    """Open an SLA pause when the ticket enters a pausing stage, close it when it leaves."""
    open_pause = SlaPause.objects.filter(ticket=ticket, ended_at__isnull=True).first()
    if ticket.stage.pauses_sla and ticket.closed_at is None:
        if open_pause is None:
            SlaPause.objects.create(ticket=ticket, started_at=at)
    elif open_pause is not None:
        open_pause.ended_at = at
        open_pause.save(update_fields=["ended_at"])


def _refresh_sla(ticket: Ticket) -> None:
    """Keep the stored SLA state, deadline and 48-hour flag right after a change to the clocks."""
    sla.refresh_sla(ticket, pauses=list(SlaPause.objects.filter(ticket=ticket)))


def escalation_name(*, account: Account | None, contact: Contact | None) -> str:
    """The guide's ticket name: "<policy number> \u2013 <customer name>" (an en dash)."""
    parts = [account.number if account else "", contact.full_name if contact else ""]
    return " \u2013 ".join(p for p in parts if p)


@dataclass(frozen=True)
class Escalation:
    """The three questions of guide 001, the changes asked for, and the screenshots."""

    what: str = ""
    how: str = ""
    where: str = ""
    requested_changes: str = ""
    screenshots: Sequence[UploadedFile] = ()


def _escalation_errors(escalation: Escalation, priority: str | None) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not escalation.what.strip():
        errors["what"] = _("Falta «¿Qué ocurre?»: describe qué está ocurriendo.")
    if not escalation.how.strip():
        errors["how"] = _("Falta «¿Cómo ocurrió?»: qué se estaba haciendo cuando surgió el error.")
    if not escalation.where.strip():
        errors["where"] = _("Falta «¿Dónde ocurrió?»: la página web o pantalla de la app.")
    if not priority:
        errors["priority"] = _("Falta la prioridad: Baja, Media, Alta o Urgente.")
    elif priority not in Priority.values:
        errors["priority"] = _("Prioridad desconocida.")
    for upload in escalation.screenshots:
        try:
            mime_type = check_upload(upload)
        except ValidationError as exc:
            errors["screenshots"] = " ".join(exc.messages)
            break
        if not mime_type.startswith("image/"):
            errors["screenshots"] = _("Las capturas de pantalla deben ser imágenes.")
            break
    return errors


def _apply_escalation(ticket: Ticket, escalation: Escalation, stage: Stage) -> None:
    ticket.escalation_what = sanitize_html(escalation.what)
    ticket.escalation_how = sanitize_html(escalation.how)
    ticket.escalation_where = sanitize_html(escalation.where)
    ticket.requested_changes = sanitize_html(escalation.requested_changes)
    ticket.stage = stage
    ticket.closed_at = None
    ticket.escalated_at = timezone.now()
    tech = Team.objects.filter(name=TECH_TEAM_NAME).first()
    if tech is not None:
        ticket.team = tech
    if not ticket.name.strip():
        ticket.name = escalation_name(account=ticket.account, contact=ticket.contact)[:200]


def _after_escalation(ticket: Ticket, escalation: Escalation, by: User) -> None:
    for upload in escalation.screenshots:
        store_attachment(upload=upload, by=by, contact=ticket.contact, owner=ticket)
    if ticket.team_id is not None:
        recipients = list(ticket.team.members.filter(is_active=True).exclude(pk=by.pk))
        if recipients:
            _notify(
                recipients=recipients,
                kind="escalation",
                title=_("Escalación a Tech: %(number)s %(name)s")
                % {"number": ticket.number, "name": ticket.name},
                body=escalation.what[:300],
                url=ticket_url(ticket),
                actor=by,
                target=ticket,
                dedupe_key=f"ticket-escalation-{ticket.pk}-{ticket.escalated_at:%s}",
            )


def _check_owner(owner: User | None, errors: dict) -> None:
    if owner is not None and not owner.is_active:
        errors["owner"] = _("El propietario debe ser un usuario activo.")


def _notify_owner(ticket: Ticket, by: User | None) -> None:
    if ticket.owner_id is None or (by is not None and ticket.owner_id == by.pk):
        return
    _notify(
        recipients=[ticket.owner],
        kind="assignment",
        title=_("Te asignaron el ticket %(number)s") % {"number": ticket.number},
        body=ticket.name,
        url=ticket_url(ticket),
        actor=by,
        target=ticket,
        dedupe_key=f"ticket-owner-{ticket.pk}-{ticket.owner_id}-{timezone.now():%s}",
    )


# --- create and edit --------------------------------------------------------------------


@transaction.atomic
def create_ticket(
    *,
    by: User,
    name: str = "",
    description: str = "",
    pipeline: Pipeline | None = None,
    stage: Stage | None = None,
    priority: str | None = Priority.MEDIUM,
    owner: User | None = None,
    team: Team | None = None,
    contact: Contact | None = None,
    account: Account | None = None,
    source: str = Source.INTERNAL,
    created_at: datetime.datetime | None = None,
    labels: Iterable[Label] = (),
    conversation: Any = None,
    escalation: Escalation | None = None,
) -> Ticket:
    """A new ticket. Into the escalation stage (Tech Issues) only with a complete escalation."""
    require(by, "tickets.add_ticket")
    pipeline = pipeline or (stage.pipeline if stage else default_pipeline())
    stage = stage or pipeline.stages.order_by("position", "id").first()
    errors: dict[str, str] = {}
    if stage is None or stage.pipeline_id != pipeline.pk:
        errors["stage"] = _("El estado no pertenece al pipeline.")
    if conversation is not None and contact is None:
        contact = conversation.contact
    if account is not None and contact is None:
        contact = account.contact
    if account is not None and account.contact_id != contact.pk:
        errors["account"] = _("La póliza no pertenece a este contacto.")
    if conversation is not None and conversation.contact_id != contact.pk:
        errors["conversation"] = _("La conversación es de otro contacto.")
    if source not in Source.values:
        errors["source"] = _("Origen desconocido.")
    now = timezone.now()
    if created_at is not None and created_at > now + FUTURE_TOLERANCE:
        errors["created_at"] = _("La fecha de creación no puede estar en el futuro.")
    _check_owner(owner, errors)
    name = (name or "").strip()
    escalating = stage is not None and stage.is_escalation
    if escalating:
        errors.update(_escalation_errors(escalation or Escalation(), priority))
        name = name or escalation_name(account=account, contact=contact)
    elif not priority or priority not in Priority.values:
        errors["priority"] = _("Prioridad desconocida.")
    if not name:
        errors["name"] = _("Indica el nombre del ticket.")
    if errors:
        raise ValidationError(errors)
    ticket = Ticket(
        name=name[:200],
        description=sanitize_html(description),
        pipeline=pipeline,
        stage=stage,
        priority=priority,
        owner=owner,
        team=team or pipeline.team,
        contact=contact,
        account=account,
        source=source,
        created_at=created_at or now,
        last_activity_at=now,
        closed_at=now if stage.is_closed else None,
        created_by=by,
    )
    if escalating:
        _apply_escalation(ticket, escalation, stage)
    ticket.save()
    _sync_pause(ticket, ticket.created_at)
    _refresh_sla(ticket)
    if labels:
        ticket.labels.add(*labels)
    if conversation is not None:
        ticket.conversations.add(conversation)
    ticket.followers.add(by)
    record(actor=by, action="create", obj=ticket, after=snapshot(ticket, AUDIT_FIELDS))
    if escalating:
        _after_escalation(ticket, escalation, by)
    _notify_owner(ticket, by)
    return ticket


EDITABLE = {
    "name",
    "description",
    "priority",
    "owner",
    "team",
    "contact",
    "account",
    "source",
    "created_at",
}


@transaction.atomic
def update_ticket(*, ticket: Ticket, by: User, **changes: Any) -> Ticket:
    """Change the ticket's properties; labels replace the set; a new owner is notified."""
    require(by, "tickets.change_ticket", ticket)
    labels = changes.pop("labels", None)
    stage = changes.pop("stage", None)
    unknown = set(changes) - EDITABLE
    if unknown:
        raise ValidationError(
            {"__all__": _("Campos desconocidos: %s") % ", ".join(sorted(unknown))}
        )
    errors: dict[str, str] = {}
    if "name" in changes:
        changes["name"] = (changes["name"] or "").strip()[:200]
        if not changes["name"]:
            errors["name"] = _("Indica el nombre del ticket.")
    if "description" in changes:
        changes["description"] = sanitize_html(changes["description"])
    if "priority" in changes and changes["priority"] not in Priority.values:
        errors["priority"] = _("Prioridad desconocida.")
    if "source" in changes and changes["source"] not in Source.values:
        errors["source"] = _("Origen desconocido.")
    if changes.get("created_at") and changes["created_at"] > timezone.now() + FUTURE_TOLERANCE:
        errors["created_at"] = _("La fecha de creación no puede estar en el futuro.")
    if "created_at" in changes and changes["created_at"] is None:
        errors["created_at"] = _("Indica la fecha de creación.")
    _check_owner(changes.get("owner"), errors)
    contact = changes.get("contact", ticket.contact)
    account = changes.get("account", ticket.account)
    stale_account = account is not None and (contact is None or account.contact_id != contact.pk)
    if "contact" in changes and "account" not in changes and stale_account:
        changes["account"] = account = None
    if account is not None and (contact is None or account.contact_id != contact.pk):
        errors["account"] = _("La póliza no pertenece a este contacto.")
    if errors:
        raise ValidationError(errors)
    before = snapshot(ticket, AUDIT_FIELDS)
    old_owner = ticket.owner_id
    for field, value in changes.items():
        setattr(ticket, field, value)
    ticket.last_activity_at = timezone.now()
    ticket.save()
    if labels is not None:
        before_labels = sorted(ticket.labels.values_list("name", flat=True))
        ticket.labels.set(labels)
        before["labels"] = ", ".join(before_labels)
    after = snapshot(ticket, AUDIT_FIELDS)
    if labels is not None:
        after["labels"] = ", ".join(sorted(label.name for label in labels))
    record(actor=by, action="update", obj=ticket, before=before, after=after)
    _refresh_sla(ticket)
    if ticket.owner_id != old_owner:
        _notify_owner(ticket, by)
    if stage is not None and stage != ticket.stage:
        change_stage(ticket=ticket, stage=stage, by=by)
    return ticket


# --- stages, escalation, closing --------------------------------------------------------


@transaction.atomic
def change_stage(
    *, ticket: Ticket, stage: Stage, by: User, escalation: Escalation | None = None
) -> Ticket:
    """Move a ticket (the board's drag-and-drop calls this). Entering the escalation stage needs a
    complete escalation; entering a closed stage closes the ticket, leaving one reopens it."""
    require(by, "tickets.change_ticket", ticket)
    if stage.pipeline_id != ticket.pipeline_id:
        raise ValidationError({"stage": _("El estado no pertenece al pipeline del ticket.")})
    if stage.pk == ticket.stage_id and escalation is None:
        return ticket
    before = snapshot(ticket, AUDIT_FIELDS)
    escalating = stage.is_escalation and (escalation is not None or not ticket.stage.is_escalation)
    if escalating:
        escalation = escalation or Escalation(
            what=ticket.escalation_what,
            how=ticket.escalation_how,
            where=ticket.escalation_where,
            requested_changes=ticket.requested_changes,
        )
        errors = _escalation_errors(escalation, ticket.priority)
        if errors:
            raise ValidationError(errors)
        _apply_escalation(ticket, escalation, stage)
    ticket.stage = stage
    if stage.is_closed and ticket.closed_at is None:
        ticket.closed_at = timezone.now()
    elif not stage.is_closed:
        ticket.closed_at = None
    ticket.last_activity_at = timezone.now()
    ticket.save()
    _sync_pause(ticket, ticket.last_activity_at)
    _refresh_sla(ticket)
    record(
        actor=by, action="update", obj=ticket, before=before, after=snapshot(ticket, AUDIT_FIELDS)
    )
    if escalating:
        _after_escalation(ticket, escalation, by)
    _notify_followers(ticket, by)
    return ticket


def _notify_followers(ticket: Ticket, by: User) -> None:
    """Followers (and the owner) hear of every move of the ticket but their own."""
    people = list(ticket.followers.all())
    if ticket.owner is not None:
        people.append(ticket.owner)
    _notify(
        recipients=people,
        kind="stage_change",
        title=_("%(number)s pasó a «%(stage)s»")
        % {"number": ticket.number, "stage": ticket.stage.label},
        body=ticket.name,
        url=ticket_url(ticket),
        actor=by,
        target=ticket,
    )


@transaction.atomic
def escalate_to_tech(
    *,
    ticket: Ticket,
    by: User,
    what: str,
    how: str,
    where: str,
    requested_changes: str = "",
    priority: str | None,
    screenshots: Sequence[UploadedFile] = (),
    name: str | None = None,
) -> Ticket:
    """Guide 001: move the ticket to Tech Issues with qué / cómo / dónde, priority and screenshots.
    Refused, naming every missing part, when anything required is absent."""
    require(by, "tickets.change_ticket", ticket)
    escalation = Escalation(
        what=what or "",
        how=how or "",
        where=where or "",
        requested_changes=requested_changes or "",
        screenshots=tuple(screenshots),
    )
    errors = _escalation_errors(escalation, priority)
    stage = ticket.pipeline.stages.filter(is_escalation=True).order_by("position").first()
    if stage is None:
        errors["stage"] = _("Este pipeline no tiene un estado de escalación a Tech.")
    if errors:
        raise ValidationError(errors)
    if name is not None:
        ticket.name = name.strip()
    if not ticket.name.strip():
        ticket.name = escalation_name(account=ticket.account, contact=ticket.contact)
    if not ticket.name:
        raise ValidationError({"name": _("Indica el nombre del ticket.")})
    if priority != ticket.priority:
        before = snapshot(ticket, AUDIT_FIELDS)
        ticket.priority = priority
        ticket.save(update_fields=["priority", "name"])
        record(
            actor=by,
            action="update",
            obj=ticket,
            before=before,
            after=snapshot(ticket, AUDIT_FIELDS),
        )
    return change_stage(ticket=ticket, stage=stage, by=by, escalation=escalation)


def _stage_for(ticket: Ticket, *, closed: bool) -> Stage:
    stage = (
        ticket.pipeline.stages.filter(is_closed=closed, is_escalation=False)
        .order_by("position", "id")
        .first()
    )
    if stage is None:
        raise ValidationError({"stage": _("El pipeline no tiene un estado adecuado.")})
    return stage


@transaction.atomic
def move_to_pipeline(*, ticket: Ticket, stage: Stage, by: User) -> Ticket:
    """Move a ticket to a stage of another pipeline (the properties panel's pipeline choice).
    Escalating goes through `escalate_to_tech`, which asks for qué / cómo / dónde."""
    require(by, "tickets.change_ticket", ticket)
    if stage.pipeline_id == ticket.pipeline_id:
        return change_stage(ticket=ticket, stage=stage, by=by)
    if stage.is_escalation:
        raise ValidationError(
            {"stage": _("Para escalar a Tech completa primero el formulario de escalación.")}
        )
    before = snapshot(ticket, AUDIT_FIELDS)
    now = timezone.now()
    ticket.pipeline = stage.pipeline
    ticket.stage = stage
    if stage.is_closed and ticket.closed_at is None:
        ticket.closed_at = now
    elif not stage.is_closed:
        ticket.closed_at = None
    ticket.last_activity_at = now
    ticket.save()
    _sync_pause(ticket, now)
    _refresh_sla(ticket)
    record(
        actor=by, action="update", obj=ticket, before=before, after=snapshot(ticket, AUDIT_FIELDS)
    )
    return ticket


def close_ticket(*, ticket: Ticket, by: User) -> Ticket:
    if ticket.stage.is_closed:
        return ticket
    return change_stage(ticket=ticket, stage=_stage_for(ticket, closed=True), by=by)


def reopen_ticket(*, ticket: Ticket, by: User, stage: Stage | None = None) -> Ticket:
    if not ticket.stage.is_closed:
        return ticket
    return change_stage(ticket=ticket, stage=stage or _stage_for(ticket, closed=False), by=by)


# --- notes, followers, conversations ----------------------------------------------------


@transaction.atomic
def add_note(
    *,
    ticket: Ticket,
    by: User,
    body: str,
    attachments: Sequence[UploadedFile] = (),
    customer_updated: bool = False,
) -> TicketNote:
    """A note (sanitised HTML) with files; @usuario mentions notify; the ticket's activity moves.
    `customer_updated`: the note records that the customer was given an update (the 48 h rule)."""
    require(by, "tickets.note_ticket", ticket)
    clean = sanitize_html(body)
    if not clean and not attachments:
        raise ValidationError({"body": _("La nota está vacía.")})
    for upload in attachments:
        check_upload(upload)
    note = TicketNote.objects.create(ticket=ticket, body=clean, author=by)
    for upload in attachments:
        store_attachment(upload=upload, by=by, contact=ticket.contact, owner=note)
    _touch(ticket, note.created_at)
    if customer_updated:
        _customer_updated(ticket, note.created_at)
    record(actor=by, action="note", obj=ticket, after={"note": clean[:200]})
    mentioned = list(
        User.objects.filter(username__in=_MENTION.findall(body or ""), is_active=True).exclude(
            pk=by.pk
        )
    )
    if mentioned:
        _notify(
            recipients=mentioned,
            kind="mention",
            title=_("%(name)s te mencionó en %(number)s")
            % {"name": by.name, "number": ticket.number},
            body=nh3.clean(clean, tags=set())[:300],
            url=ticket_url(ticket),
            actor=by,
            target=ticket,
            dedupe_key=f"ticket-note-{note.pk}",
        )
    return note


def follow(*, ticket: Ticket, by: User) -> None:
    require(by, "tickets.follow_ticket", ticket)
    ticket.followers.add(by)


def unfollow(*, ticket: Ticket, by: User) -> None:
    require(by, "tickets.follow_ticket", ticket)
    ticket.followers.remove(by)


@transaction.atomic
def link_conversation(*, ticket: Ticket, conversation: Any, by: User) -> Ticket:
    """Link an inbox conversation; a ticket without contact takes the conversation's."""
    require(by, "tickets.change_ticket", ticket)
    if ticket.contact_id is not None and conversation.contact_id != ticket.contact_id:
        raise ValidationError({"conversation": _("La conversación es de otro contacto.")})
    if ticket.contact_id is None:
        ticket.contact_id = conversation.contact_id
        ticket.save(update_fields=["contact"])
    ticket.conversations.add(conversation)
    _touch(ticket)
    record(actor=by, action="link", obj=ticket, after={"conversation": conversation.pk})
    return ticket


def _customer_updated(ticket: Ticket, at: datetime.datetime) -> None:
    ticket.last_customer_update_at = at
    fields = ["last_customer_update_at"]
    if ticket.first_response_at is None:
        ticket.first_response_at = at
        fields.append("first_response_at")
    Ticket.objects.filter(pk=ticket.pk).update(**{f: at for f in fields})
    _refresh_sla(ticket)


def record_customer_update(
    *, ticket: Ticket, by: User, at: datetime.datetime | None = None
) -> Ticket:
    """The customer was contacted about the ticket (call, e-mail, message): restarts the 48 h clock
    and, the first time, stops the first-response clock."""
    require(by, "tickets.note_ticket", ticket)
    at = at or timezone.now()
    _customer_updated(ticket, at)
    _touch(ticket, at)
    record(actor=by, action="customer_update", obj=ticket, after={"at": at.isoformat()})
    return ticket


def conversation_activity(
    *, conversation: Any, at: datetime.datetime | None = None, outbound: bool = False
) -> int:
    """A message on a linked conversation is activity on its open tickets (the inbox calls this
    through its message hook); an agent's outbound message is also an update given to the
    customer: it answers the first response and clears the 48-hour flag."""
    at = at or timezone.now()
    tickets = list(
        Ticket.objects.filter(conversations=conversation, closed_at__isnull=True).select_related(
            "owner"
        )
    )
    for ticket in tickets:
        _touch(ticket, at)
        if outbound:
            _customer_updated(ticket, at)
        else:
            _notify_customer_reply(ticket, conversation)
    return len(tickets)


def _notify_customer_reply(ticket: Ticket, conversation: Any) -> None:
    """Tell the owner the customer wrote: once per turn (until we update the customer again),
    so a customer sending five messages in a row rings the bell once."""
    if ticket.owner_id is None:
        return
    turn = ticket.last_customer_update_at or ticket.created_at
    _notify(
        recipients=[ticket.owner],
        kind="customer_reply",
        title=_("El cliente respondió en %(number)s") % {"number": ticket.number},
        body=ticket.name,
        url=ticket_url(ticket),
        target=ticket,
        dedupe_key=f"ticket-reply-{ticket.pk}-{conversation.pk}-{int(turn.timestamp())}",
    )


# --- bulk actions -----------------------------------------------------------------------

BULK_ACTIONS = ("assign", "stage", "priority", "label", "close")


@transaction.atomic
def bulk_update(*, tickets: Iterable[Ticket], by: User, action: str, value: Any = None) -> int:
    """Assign, move, prioritise, label or close many tickets: all of them or none."""
    tickets = list(tickets)
    if action not in BULK_ACTIONS:
        raise ValidationError({"action": _("Acción desconocida.")})
    refused = [t.number for t in tickets if not by.has_perm("tickets.change_ticket", t)]
    if refused:
        raise PermissionDenied(
            ngettext(
                "No tienes permiso para cambiar el ticket %(numbers)s.",
                "No tienes permiso para cambiar los tickets %(numbers)s.",
                len(refused),
            )
            % {"numbers": ", ".join(refused)}
        )
    for ticket in tickets:
        if action == "assign":
            update_ticket(ticket=ticket, by=by, owner=value)
        elif action == "stage":
            change_stage(ticket=ticket, stage=value, by=by)
        elif action == "priority":
            update_ticket(ticket=ticket, by=by, priority=value)
        elif action == "label":
            ticket.labels.add(value)
            _touch(ticket)
            record(actor=by, action="label", obj=ticket, after={"label": value.name})
        elif action == "close":
            close_ticket(ticket=ticket, by=by)
    return len(tickets)


# --- the contact merge moves tickets ----------------------------------------------------


def _move_tickets(survivor: Contact, duplicate: Contact) -> int:
    return Ticket.objects.filter(contact=duplicate).update(contact=survivor)


register_merge_part("tickets", gettext_lazy("Tickets"), _move_tickets)


# --- the inbox tells us about messages on linked conversations ---------------------------


def _on_conversation_message(
    *, conversation: Any, at: datetime.datetime, outbound: bool, new_conversation: bool = False
) -> None:
    if new_conversation:
        return  # started by this very message: no ticket can be linked to it yet
    conversation_activity(conversation=conversation, at=at, outbound=outbound)


if apps.is_installed("atiende.inbox"):
    from atiende.inbox.services import register_message_hook

    register_message_hook(_on_conversation_message)
