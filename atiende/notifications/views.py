"""The bell's dropdown panel, the full list, opening one, marking read, and e-mail preferences."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from atiende.notifications import selectors, services
from atiende.notifications.models import Kind, Notification

PAGE_SIZE = 25


def _filters(request: HttpRequest) -> dict:
    kind = request.GET.get("tipo", "")
    state = request.GET.get("estado", "")
    return {
        "kind": kind if kind in Kind.values else "",
        "state": state if state in ("unread", "read") else "",
    }


def _list(request: HttpRequest, filters: dict):
    unread = {"unread": True, "read": False}.get(filters["state"])
    return selectors.notifications_for(
        user=request.user, kind=filters["kind"] or None, unread=unread
    )


def _context(request: HttpRequest, filters: dict) -> dict:
    query = {k: v for k, v in (("tipo", filters["kind"]), ("estado", filters["state"])) if v}
    return {
        "filters": filters,
        "kinds": Kind.choices,
        "query": urlencode(query),
        "unread": selectors.unread_count(request.user),
    }


@login_required
def panel(request: HttpRequest) -> HttpResponse:
    filters = _filters(request)
    items = list(_list(request, filters)[: selectors.PANEL_SIZE])
    return render(
        request, "notifications/_panel.html", {"items": items, **_context(request, filters)}
    )


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    filters = _filters(request)
    page = Paginator(_list(request, filters), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/list.html",
        {"page": page, "items": page.object_list, **_context(request, filters)},
    )


@login_required
def open_notification(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark it read and go where it points (only the recipient's own)."""
    notification = get_object_or_404(Notification, pk=pk, recipient=request.user)
    services.mark_read(user=request.user, ids=[notification.pk])
    url = notification.url
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}):
        return redirect(url)
    return redirect("notifications:list")


@login_required
@require_POST
def mark_read(request: HttpRequest) -> HttpResponse:
    ids = request.POST.getlist("id") or None
    services.mark_read(user=request.user, ids=ids)
    if request.htmx:
        return panel(request)
    messages.success(request, _("Notificaciones marcadas como leídas."))
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("notifications:list")


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        chosen = set(request.POST.getlist("by_email"))
        services.set_preferences(
            user=request.user, by_email={kind: kind in chosen for kind in Kind.values}
        )
        messages.success(request, _("Preferencias de notificación guardadas."))
        return redirect("notifications:preferences")
    current = services.email_preferences(request.user)
    rows = [(value, label, current[value]) for value, label in Kind.choices]
    return render(
        request,
        "notifications/preferences.html",
        {"rows": rows, "section": "notifications"},
    )
