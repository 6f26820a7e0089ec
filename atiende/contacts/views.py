"""Contact screens: thin views that parse the request, call a service or selector, render."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


@login_required
def contact_list(request: HttpRequest) -> HttpResponse:
    return render(request, "core/section.html", {"section": "contacts"})


# --- import / export ------------------------------------------------------------------
