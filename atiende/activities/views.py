"""'Mis tareas': the signed-in user's open tasks, with mark-done."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from atiende.activities import selectors, services
from atiende.activities.models import Task

PAGE_SIZE = 50


@login_required
def my_tasks(request: HttpRequest) -> HttpResponse:
    tasks = selectors.open_tasks_for(user=request.user)
    page = Paginator(tasks, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "activities/my_tasks.html",
        {"page": page, "now": timezone.now(), "section": "tasks"},
    )


@login_required
@require_POST
def task_status(request: HttpRequest, pk: int) -> HttpResponse:
    task = get_object_or_404(Task.objects.select_related("contact"), pk=pk)
    done = request.POST.get("done") == "1"
    task = services.set_task_done(task=task, done=done, by=request.user)
    if request.htmx:
        return render(request, "activities/_task_row.html", {"task": task, "now": timezone.now()})
    messages.success(request, _("Tarea completada.") if done else _("Tarea reabierta."))
    return redirect("activities:my_tasks")
