"""/api/v1/tasks: the caller's tasks ("Mis tareas") and changing one. Thin, like the UI."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError
from ninja.pagination import PageNumberPagination, paginate

from atiende.activities import selectors, services
from atiende.activities.models import Task
from atiende.core.permissions import require
from atiende.users.models import User

router = Router(tags=["tasks"])

PAGE_SIZE = 25
MAX_PAGE_SIZE = 100


class UserRef(Schema):
    id: int
    name: str


class ContactRef(Schema):
    id: int
    full_name: str


class TaskOut(Schema):
    id: int
    title: str
    description: str
    due_at: datetime.datetime | None
    assignee: UserRef | None
    contact: ContactRef | None
    done: bool
    done_at: datetime.datetime | None
    created_at: datetime.datetime

    @staticmethod
    def resolve_done(obj: Task) -> bool:
        return obj.is_done


class TaskPatch(Schema):
    """Only the fields sent change."""

    done: bool | None = Field(None, description="true la completa, false la reabre.")
    title: str | None = None
    description: str | None = None
    due_at: datetime.datetime | None = Field(None, description="null quita el vencimiento.")
    assignee: int | None = Field(None, description="Id del nuevo responsable.")


def _task(task_id: int) -> Task:
    task = Task.objects.select_related("contact", "assignee").filter(pk=task_id).first()
    if task is None:
        raise HttpError(404, _("La tarea no existe."))
    return task


def _assignee(user_id: int | None) -> User:
    user = User.objects.filter(pk=user_id, is_active=True).first() if user_id else None
    if user is None:
        raise ValidationError({"assignee": _("El usuario no existe o no está activo.")})
    return user


def _aware(value: datetime.datetime | None) -> datetime.datetime | None:
    if value is not None and timezone.is_naive(value):
        return timezone.make_aware(value)
    return value


@router.get("/tasks", response=list[TaskOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE, max_page_size=MAX_PAGE_SIZE)
def my_tasks(
    request: HttpRequest,
    include_done: bool = Query(
        False, alias="all", description="1: también las completadas (al final)."
    ),
):
    """The caller's open tasks, soonest due first (`?all=1` adds the done ones)."""
    return selectors.tasks_for(user=request.user, include_done=include_done)


@router.patch("/tasks/{int:task_id}", response=TaskOut)
def update_task(request: HttpRequest, task_id: int, payload: TaskPatch):
    """Complete or reopen (`{"done": true}`), or edit title, description, due date, assignee.

    Its assignee or author, an admin or a supervisor may; anyone else gets 403.
    """
    task = _task(task_id)
    require(request.user, "activities.change_task", task)
    data = payload.dict(exclude_unset=True)
    done = data.pop("done", None)
    with transaction.atomic():
        if data:
            task = services.update_task(
                task=task,
                by=request.user,
                title=data.get("title", task.title),
                description=data.get("description", task.description),
                due_at=_aware(data["due_at"]) if "due_at" in data else task.due_at,
                assignee=_assignee(data["assignee"]) if "assignee" in data else task.assignee,
            )
        if done is not None:
            task = services.set_task_done(task=task, done=done, by=request.user)
    return _task(task_id)
