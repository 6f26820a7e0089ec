"""The inbox screen: trays, the conversation list, the chat pane, the composer and the contact card.

Thin views: parse the request → one selector or service → render. A plain GET renders the whole
three-pane page; an htmx request renders only the fragment asked for.
"""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    return render(request, "inbox/inbox.html", {"section": "inbox"})
