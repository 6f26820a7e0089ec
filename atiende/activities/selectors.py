"""Reads for the timeline and task lists."""

import datetime

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy

from atiende.activities import timeline
from atiende.activities.models import Call, Note, Task
from atiende.contacts.models import Contact
from atiende.users.models import User

TIMELINE_PAGE = 50


def _in_range(queryset: QuerySet, field: str, since, until) -> QuerySet:
    if since:
        queryset = queryset.filter(**{f"{field}__gte": since})
    if until:
        queryset = queryset.filter(**{f"{field}__lt": until})
    return queryset


def _notes(contact, since, until, limit):
    notes = _in_range(Note.objects.filter(contact=contact), "created_at", since, until)
    return [
        timeline.TimelineItem("note", n.created_at, n, "activities/items/_note.html")
        for n in notes.select_related("author").order_by("-created_at", "-id")[:limit]
    ]


def _tasks(contact, since, until, limit):
    tasks = _in_range(Task.objects.filter(contact=contact), "created_at", since, until)
    return [
        timeline.TimelineItem("task", t.created_at, t, "activities/items/_task.html")
        for t in tasks.select_related("assignee").order_by("-created_at", "-id")[:limit]
    ]


def _calls(contact, since, until, limit):
    calls = _in_range(Call.objects.filter(contact=contact), "at", since, until)
    return [
        timeline.TimelineItem("call", c.at, c, "activities/items/_call.html")
        for c in calls.select_related("by").order_by("-at", "-id")[:limit]
    ]


timeline.register_source("note", gettext_lazy("Notas"), _notes)
timeline.register_source("task", gettext_lazy("Tareas"), _tasks)
timeline.register_source("call", gettext_lazy("Llamadas"), _calls)


def contact_timeline(
    *,
    contact: Contact,
    kinds: set[str] | None = None,
    since: datetime.datetime | None = None,
    until: datetime.datetime | None = None,
    limit: int = TIMELINE_PAGE,
) -> list[timeline.TimelineItem]:
    """One list, newest first, of everything that happened with the contact in the range.

    Each source is asked for at most `limit` items, so one query per source whatever the history.
    Page back by passing the oldest item's time as `until`.
    """
    items: list[timeline.TimelineItem] = []
    for kind, source in timeline.sources().items():
        if kinds and kind not in kinds:
            continue
        items.extend(source(contact, since, until, limit))
    items.sort(key=lambda item: item.at, reverse=True)
    return items[:limit]


def notes_for_contact(*, contact: Contact) -> QuerySet[Note]:
    return (
        Note.objects.filter(contact=contact).select_related("author").order_by("-created_at", "-id")
    )


def tasks_for_contact(*, contact: Contact) -> QuerySet[Task]:
    return (
        Task.objects.filter(contact=contact)
        .select_related("assignee")
        .order_by("done_at", "due_at", "-id")
    )


def calls_for_contact(*, contact: Contact) -> QuerySet[Call]:
    return Call.objects.filter(contact=contact).select_related("by").order_by("-at", "-id")


def open_tasks_for(*, user: User) -> QuerySet[Task]:
    """ "Mis tareas": the user's pending tasks, soonest due first."""
    return (
        Task.objects.filter(assignee=user, done_at__isnull=True)
        .select_related("contact")
        .order_by("due_at", "id")
    )
