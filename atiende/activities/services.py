"""Writing notes, tasks and calls. Each is also a line in the contact's audit history."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from atiende.activities.models import Call, Note, Task
from atiende.contacts.models import Contact
from atiende.contacts.services import record_interaction, register_merge_part
from atiende.core import audit
from atiende.core.permissions import require
from atiende.users.models import User

MAX_NOTE_LENGTH = 10_000


def _clean_body(body: str, field: str = "body") -> str:
    body = (body or "").strip()
    if not body:
        raise ValidationError({field: _("Escribe la nota.")})
    if len(body) > MAX_NOTE_LENGTH:
        raise ValidationError({field: _("La nota es demasiado larga.")})
    return body


@transaction.atomic
def add_note(*, contact: Contact, body: str, by: User) -> Note:
    require(by, "contacts.change_contact", contact)
    note = Note.objects.create(contact=contact, body=_clean_body(body), author=by)
    audit.record(actor=by, action="note_added", obj=contact, after={"nota": note.body[:200]})
    return note


@transaction.atomic
def update_note(*, note: Note, body: str, by: User) -> Note:
    require(by, "activities.change_note", note)
    before = note.body
    note.body = _clean_body(body)
    note.save(update_fields=["body", "updated_at"])
    audit.record(
        actor=by,
        action="note_changed",
        obj=note.contact,
        before={"nota": before[:200]},
        after={"nota": note.body[:200]},
    )
    return note


@transaction.atomic
def delete_note(*, note: Note, by: User) -> None:
    require(by, "activities.change_note", note)
    audit.record(
        actor=by, action="note_removed", obj=note.contact, before={"nota": note.body[:200]}
    )
    note.delete()


def _clean_task(title: str, assignee: User | None) -> str:
    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": _("Escribe la tarea.")})
    if assignee is not None and not assignee.is_active:
        raise ValidationError({"assignee": _("El usuario no está activo.")})
    return title[:200]


@transaction.atomic
def create_task(
    *,
    by: User,
    title: str,
    contact: Contact | None = None,
    description: str = "",
    due_at: datetime.datetime | None = None,
    assignee: User | None = None,
) -> Task:
    """A reminder for someone (the creator when no one else is named)."""
    if contact is not None:
        require(by, "contacts.change_contact", contact)
    title = _clean_task(title, assignee)
    task = Task.objects.create(
        contact=contact,
        title=title,
        description=(description or "").strip(),
        due_at=due_at,
        assignee=assignee or by,
        created_by=by,
    )
    if contact is not None:
        audit.record(actor=by, action="task_added", obj=contact, after={"tarea": task.title})
    return task


@transaction.atomic
def update_task(
    *,
    task: Task,
    by: User,
    title: str,
    description: str = "",
    due_at: datetime.datetime | None = None,
    assignee: User | None = None,
) -> Task:
    require(by, "activities.change_task", task)
    fields = ["title", "description", "due_at", "assignee"]
    before = audit.snapshot(task, fields)
    task.title = _clean_task(title, assignee)
    task.description, task.due_at, task.assignee = (description or "").strip(), due_at, assignee
    task.save()
    if task.contact_id:
        audit.record(
            actor=by,
            action="task_changed",
            obj=task.contact,
            before=before,
            after=audit.snapshot(task, fields),
        )
    return task


@transaction.atomic
def set_task_done(*, task: Task, done: bool, by: User) -> Task:
    require(by, "activities.change_task", task)
    if done == task.is_done:
        return task
    task.done_at = timezone.now() if done else None
    task.save(update_fields=["done_at"])
    if task.contact_id:
        audit.record(
            actor=by,
            action="task_done" if done else "task_reopened",
            obj=task.contact,
            after={"tarea": task.title},
        )
    return task


@transaction.atomic
def log_call(
    *,
    contact: Contact,
    by: User,
    direction: str,
    outcome: str,
    duration_seconds: int = 0,
    note: str = "",
    at: datetime.datetime | None = None,
) -> Call:
    """Register a phone call; it counts as an interaction with the client."""
    require(by, "contacts.change_contact", contact)
    errors = {}
    if direction not in Call.Direction.values:
        errors["direction"] = _("Indica si la llamada fue entrante o saliente.")
    if outcome not in Call.Outcome.values:
        errors["outcome"] = _("Indica el resultado de la llamada.")
    if duration_seconds is None or duration_seconds < 0 or duration_seconds > 24 * 3600:
        errors["duration_seconds"] = _("La duración no es válida.")
    at = at or timezone.now()
    if at > timezone.now() + datetime.timedelta(minutes=5):
        errors["at"] = _("La fecha de la llamada no puede ser futura.")
    if errors:
        raise ValidationError(errors)
    call = Call.objects.create(
        contact=contact,
        direction=direction,
        outcome=outcome,
        duration_seconds=duration_seconds,
        note=(note or "").strip(),
        at=at,
        by=by,
    )
    record_interaction(contact=contact, at=at)
    audit.record(
        actor=by,
        action="call_logged",
        obj=contact,
        after={"llamada": f"{call.get_direction_display()} · {call.get_outcome_display()}"},
    )
    return call


def _move(model):
    def move(survivor: Contact, duplicate: Contact) -> int:
        return model.objects.filter(contact=duplicate).update(contact=survivor)

    return move


register_merge_part("notes", gettext_lazy("Notas"), _move(Note))
register_merge_part("tasks", gettext_lazy("Tareas"), _move(Task))
register_merge_part("calls", gettext_lazy("Llamadas"), _move(Call))


# --- "Tarea por vencer" in the bell (the activities job calls this every minute) ----------

TASK_DUE_LEAD = datetime.timedelta(minutes=15)
TASK_DUE_LOOKBACK = datetime.timedelta(days=1)


def notify_due_tasks(*, now: datetime.datetime | None = None) -> int:
    """Tell each assignee once about each open task that falls due within 15 minutes (or fell
    due in the last day: a job that was down catches up, old tasks do not flood the bell).
    One indexed query per active assignee (assignee, done_at, due_at); a new due date warns again.
    """
    from django.apps import apps
    from django.urls import reverse

    if not apps.is_installed("atiende.notifications"):
        return 0
    from atiende.notifications.services import notify

    now = now or timezone.now()
    url = reverse("activities:my_tasks")
    sent = 0
    for user in User.objects.filter(is_active=True).order_by("pk"):
        tasks = Task.objects.filter(
            assignee=user,
            done_at__isnull=True,
            due_at__gt=now - TASK_DUE_LOOKBACK,
            due_at__lte=now + TASK_DUE_LEAD,
        ).order_by("due_at")[:50]
        for task in tasks:
            late = task.due_at <= now
            title = (
                _("Tarea vencida: %(title)s") if late else _("Tarea por vencer: %(title)s")
            ) % {"title": task.title}
            body = timezone.localtime(task.due_at).strftime("%d/%m/%Y %H:%M")
            sent += len(
                notify(
                    recipients=[user],
                    kind="task_due",
                    title=title,
                    body=body,
                    url=url,
                    target=task,
                    dedupe_key=f"task-due-{task.pk}-{int(task.due_at.timestamp())}",
                )
            )
    return sent
