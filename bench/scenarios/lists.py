"""The lists agents live in: inbox trays with filters, the ticket list with filters, and the
contact profile with its activity timeline, requested over HTTP as the browser does (a logged-in
session; htmx partials with `HX-Request`).

For each kind of request the variants differ in how much data is behind them (a busy agent and a
quiet one, a contact with many conversations and one with a single one), so the query count,
read from the `X-Query-Count` header of ATIENDE_BENCH's middleware, must be the same for every
variant, and the same as in the smoke run: a count that grows with the data is an N+1.
"""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Iterable
from typing import Any

from bench.core import Context, Figure, at_most, percentile
from bench.scenarios.search import Http, Response

SCENARIO = "lists"
TARGET_P95_MS = 100.0
BUDGET_SECONDS = 30.0


def _session_cookie(username: str) -> str:
    """A real login session for `username`, made in this process against the same database."""
    from django.conf import settings
    from django.test import Client

    from atiende.users.models import User

    client = Client()
    client.force_login(User.objects.get(username=username))
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def _ids(rows: Iterable[Any], n: int) -> list[Any]:
    return list(rows)[:n]


def plan(ctx: Context, tickets_html: bool) -> list[tuple[str, str, list[str]]]:
    """[(name, who, [paths…])]: each name's paths are variants of one request kind."""
    from django.db.models import Count

    from atiende.inbox.models import Conversation
    from atiende.tickets.models import Stage, Ticket, format_number

    data = ctx.state["dataset"]
    busy_agents = _ids(
        Conversation.objects.filter(status="open", assignee__isnull=False)
        .values("assignee")
        .annotate(n=Count("id"))
        .order_by("-n")
        .values_list("assignee", flat=True),
        2,
    )
    # The quietest agent who still has rows (an empty page skips the rows' own queries).
    quiet_agent = (
        Conversation.objects.filter(status="open", assignee__isnull=False)
        .values("assignee")
        .annotate(n=Count("id"))
        .order_by("n", "assignee")
        .values_list("assignee", flat=True)
        .first()
    )
    agents = [*busy_agents, quiet_agent]
    channels, teams, labels = data["channel_ids"], data["team_ids"], data["label_ids"]

    def inbox(**params: Any) -> str:
        return "/inbox/lista/?" + urllib.parse.urlencode(params)

    trays: list[tuple[str, str, list[str]]] = [
        ("inbox page (trays, counts, first rows)", "admin",
         ["/inbox/?bandeja=pending", "/inbox/?bandeja=open", "/inbox/?bandeja=resolved"]),
        ("inbox tray rows, by tray", "admin",
         [inbox(bandeja=t) for t in ("pending", "open", "resolved")]),
        ("inbox tray rows, by agent", "admin",
         [inbox(bandeja="open", agente=a) for a in agents]),
        ("inbox tray rows, by channel", "admin",
         [inbox(bandeja="resolved", canal=c) for c in channels[:3]]),
        ("inbox tray rows, needing attention by team", "admin",
         [inbox(bandeja="open", atencion=1, equipo=t) for t in teams[:3]]),
        ("inbox tray rows, by label", "admin",
         [inbox(bandeja="resolved", etiqueta=label) for label in labels[:3]]),
        ("inbox tray rows, page 3", "admin", [inbox(bandeja="resolved", pagina=3)]),
        ("inbox tray rows, agent's own teams", "agent",
         [inbox(bandeja=t) for t in ("pending", "open", "resolved")]),
    ]  # fmt: skip
    stages = list(
        Stage.objects.filter(pipeline__is_default=True)
        .order_by("position")
        .values_list("id", flat=True)
    )
    base = "/tickets/?" if tickets_html else "/api/v1/tickets?"

    def tickets(**params: Any) -> str:
        return base + urllib.parse.urlencode(params)

    # Owners with the most urgent tickets and one with a single one (never an empty page).
    urgent = list(
        Ticket.objects.filter(priority="urgent", owner__isnull=False)
        .values("owner")
        .annotate(n=Count("id"))
        .order_by("-n", "owner")
        .values_list("owner", flat=True)
    )
    owners = [*urgent[:2], urgent[-1]] if urgent else []
    # A ticket number with an owner, so both searches list an owner among their counts.
    numbered = format_number(
        Ticket.objects.filter(owner__isnull=False).order_by("id").values_list("id", flat=True)[0]
    )
    ticket_lists = [
        ("ticket list, open", "admin", [tickets(state="open"), tickets()]),
        ("ticket list, by stage", "admin", [tickets(stage=s) for s in stages[:3]]),
        ("ticket list, by priority and owner", "admin",
         [tickets(priority="urgent", owner=a) for a in owners]),
        # Apart: a word and a ticket number resolve different lookups first (accounts, contacts
        # by name or by identification), so their query counts differ by design.
        ("ticket list, search by word", "admin", [tickets(q="cobertura"), tickets(q="endoso")]),
        ("ticket list, search by number", "admin", [tickets(q=numbered)]),
    ]  # fmt: skip
    if tickets_html:
        ticket_lists.append(
            ("ticket list, SLA breached", "admin", [tickets(sla="breached", state="open")])
        )
    # Contacts with the most conversations and contacts with a single one.
    per_contact = Conversation.objects.values("contact").annotate(n=Count("id"))
    heavy = _ids(per_contact.order_by("-n", "contact").values_list("contact", flat=True), 2)
    light = _ids(per_contact.filter(n=1).order_by("contact").values_list("contact", flat=True), 2)
    contacts = [*heavy, *light]
    profiles = [
        ("contact profile page", "admin", [f"/contactos/{c}/" for c in contacts]),
        ("contact timeline (activity tab)", "admin",
         [f"/contactos/{c}/actividad/" for c in contacts]),
    ]  # fmt: skip
    return trays + ticket_lists + profiles


def run(ctx: Context) -> list[Figure]:
    from django.db import connections

    agent = ctx.state["agent_usernames"][0]
    cookies = {
        "admin": _session_cookie(ctx.state["admin_username"]),
        "agent": _session_cookie(agent),
    }
    probe = Http(ctx.stack.base_url, {"Cookie": cookies["admin"]})
    tickets_html = probe.get("/tickets/").status == 200
    probe.close()
    requests = plan(ctx, tickets_html)
    connections.close_all()
    rounds = 3 if ctx.smoke else 12
    # The browser's requests: its session cookie, and htmx's header for the partials.
    clients = {
        who: Http(ctx.stack.base_url, {"Cookie": cookie, "HX-Request": "true"})
        for who, cookie in cookies.items()
    }
    api = Http(ctx.stack.base_url, {"Authorization": f"Bearer {ctx.state['api_token']}"})
    figures: list[Figure] = []
    try:
        for name, who, paths in requests:
            client = api if paths[0].startswith("/api/") else clients[who]
            for path in paths:  # warm-up: first-request costs are not the list's
                _check(path, client.get(path))
            server, wall, counts = [], [], {}
            started = time.monotonic()
            for round_ in range(rounds):
                if round_ >= 3 and time.monotonic() - started > BUDGET_SECONDS:
                    break  # a slow list still gets ≥ 3 samples per variant, not minutes of them
                for path in paths:
                    response = _check(path, client.get(path))
                    server.append(response.server_ms)
                    wall.append(response.client_ms)
                    counts[path] = response.queries
            p95 = percentile(server, 95)
            target, met = at_most(p95, TARGET_P95_MS)
            figures.append(Figure(SCENARIO, f"{name} p50", percentile(server, 50), "ms"))
            figures.append(
                Figure(
                    SCENARIO,
                    f"{name} p95",
                    p95,
                    "ms",
                    target,
                    met,
                    f"{len(server)} requests over {len(paths)} variants; "
                    f"client p95 {percentile(wall, 95):.1f} ms",
                )
            )
            distinct = sorted(set(counts.values()))
            figures.append(
                Figure(
                    SCENARIO,
                    f"{name} queries",
                    max(distinct),
                    "consultas",
                    "same for every variant",
                    len(distinct) == 1,
                    "per variant: " + ", ".join(str(counts[p]) for p in paths),
                )
            )
    finally:
        for client in [*clients.values(), api]:
            client.close()
    return figures


def _check(path: str, response: Response) -> Response:
    if response.status != 200:
        raise RuntimeError(f"GET {path} → {response.status}: {response.body[:300]!r}")
    return response
