"""Ticket pieces shown by other apps' pages: the contact profile's Tickets card and its KPI."""

from typing import Any

from django import template

from atiende.tickets import selectors

register = template.Library()


@register.simple_tag
def contact_tickets(contact: Any, limit: int = 5) -> dict[str, Any]:
    """Open / closed / total and the latest tickets of a contact (two queries)."""
    return selectors.contact_ticket_summary(contact=contact, limit=limit)


@register.inclusion_tag("tickets/_contact_tickets_card.html", takes_context=True)
def contact_tickets_card(context: template.Context, contact: Any) -> dict[str, Any]:
    """The contact profile's "Tickets" card (guide 000: pending or closed, and the total)."""
    return {
        "contact": contact,
        "summary": selectors.contact_ticket_summary(contact=contact, limit=3),
        "request": context.get("request"),
    }


@register.simple_tag
def contact_ticket_breakdown(contact: Any) -> dict[str, Any]:
    """Tickets per stage and per pipeline, with each row's share for a bar (contact dashboard)."""
    data = selectors.contact_ticket_breakdown(contact=contact)
    for key in ("stages", "pipelines"):
        top = max((row["count"] for row in data[key]), default=0)
        for row in data[key]:
            row["percent"] = round(100 * row["count"] / top) if top else 0
    return data
