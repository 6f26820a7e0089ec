"""Reads for the timeline and task lists."""

import datetime

from django.db.models import Count, F, Q, QuerySet
from django.utils.translation import gettext as _
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
        .order_by(F("due_at").asc(nulls_last=True), "id")
    )


def tasks_for(*, user: User, include_done: bool = False) -> QuerySet[Task]:
    """The user's tasks for the API: open ones soonest due first, then (if asked) the done ones,
    most recently done first. Joined with the contact and the assignee."""
    if not include_done:
        return open_tasks_for(user=user).select_related("assignee")
    return (
        Task.objects.filter(assignee=user)
        .select_related("contact", "assignee")
        .order_by(F("done_at").desc(nulls_first=True), F("due_at").asc(nulls_last=True), "id")
    )


def open_tasks_count(*, user: User) -> int:
    """The badge beside "Mis tareas": one indexed count."""
    return Task.objects.filter(assignee=user, done_at__isnull=True).count()


def contact_activity_stats(*, contact: Contact) -> dict[str, dict[str, int]]:
    """Counts for the profile dashboard: calls by direction and outcome, interactions by kind."""
    directions = dict(Call.Direction.choices)
    outcomes = dict(Call.Outcome.choices)
    by_direction: dict[str, int] = {}
    by_outcome: dict[str, int] = {}
    rows = (
        Call.objects.filter(contact=contact)
        .values("direction", "outcome")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        direction = str(directions.get(row["direction"], row["direction"]))
        outcome = str(outcomes.get(row["outcome"], row["outcome"]))
        by_direction[direction] = by_direction.get(direction, 0) + row["n"]
        by_outcome[outcome] = by_outcome.get(outcome, 0) + row["n"]
    totals = Task.objects.filter(contact=contact).aggregate(
        tasks=Count("id"), open_tasks=Count("id", filter=Q(done_at__isnull=True))
    )
    totals["notes"] = Note.objects.filter(contact=contact).count()
    calls = sum(by_direction.values())
    labels = timeline.kinds()
    by_kind = {
        str(labels.get("note", "note")): totals["notes"],
        str(labels.get("task", "task")): totals["tasks"],
        str(labels.get("call", "call")): calls,
    }
    # "Preferencia de canales": calls are the phone channel; other apps count their own.
    channels = {str(_("Teléfono")): calls} if calls else {}
    for name, n in timeline.channel_counts(contact).items():
        channels[name] = channels.get(name, 0) + n
    return {
        "channels": channels,
        "calls_by_direction": by_direction,
        "calls_by_outcome": by_outcome,
        "interactions_by_kind": {k: v for k, v in by_kind.items() if v},
        "totals": {
            "notes": totals["notes"],
            "tasks": totals["tasks"],
            "open_tasks": totals["open_tasks"],
            "calls": calls,
            "answered": sum(row["n"] for row in rows if row["outcome"] == Call.Outcome.ANSWERED),
        },
    }
