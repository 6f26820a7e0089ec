from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from atiende.core.health import health_report
from atiende.users import selectors as user_selectors


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    healthy, report = health_report()
    return JsonResponse(report, status=200 if healthy else 503)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    context = {"section": "home"}
    if request.user.has_perm("users.view_presence"):
        context["online"] = user_selectors.online_users(viewer=request.user)[:50]
    return render(request, "core/home.html", context)


# The modules that later parts of Atiende fill; until then each shows what it will hold.
SECTIONS = {
    "collections": {
        "title": _("Cobranza"),
        "icon": "cash-coin",
        "lead": _(
            "Tramos de mora, flujos de comunicación, lista de llamadas, compromisos y pagos."
        ),
    },
    "reports": {
        "title": _("Reportes"),
        "icon": "bar-chart-line",
        "lead": _("Tableros de atención, ventas y cobranza, con exportación."),
    },
}


@login_required
def section(request: HttpRequest, name: str) -> HttpResponse:
    if name not in SECTIONS:
        raise Http404
    return render(request, "core/section.html", {"section": name, "page": SECTIONS[name]})


SEARCH_LIMIT = 50


@login_required
def search(request: HttpRequest) -> HttpResponse:
    """The global search box: contacts by name, phone in any format, e-mail or identification,
    and people of the team for those who may see them."""
    from atiende.contacts.selectors import search_contacts

    q = request.GET.get("q", "").strip()[:100]
    people, contacts, contacts_count = [], [], 0
    if q and request.user.has_perm("contacts.view_contact"):
        found = search_contacts(user=request.user, query=q).prefetch_related("labels")
        contacts = list(found[: SEARCH_LIMIT + 1])
        contacts_count = len(contacts)
        contacts = contacts[:SEARCH_LIMIT]
    if q and request.user.has_perm("users.view_users"):
        people = user_selectors.users_list(viewer=request.user, q=q)[:20]
    return render(
        request,
        "core/search.html",
        {
            "q": q,
            "people": people,
            "contacts": contacts,
            "more_contacts": contacts_count > SEARCH_LIMIT,
        },
    )


def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    return render(request, "core/403.html", {"message": str(exception or "")}, status=403)


def page_not_found(request: HttpRequest, exception=None) -> HttpResponse:
    return render(request, "core/404.html", status=404)
