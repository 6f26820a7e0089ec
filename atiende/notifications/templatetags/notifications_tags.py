"""The bell's unread badge in the top bar: one count query per page."""

from django import template

from atiende.notifications.selectors import unread_count

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_notifications(context) -> int:
    user = getattr(context.get("request"), "user", None)
    if not user or not user.is_authenticated:
        return 0
    return unread_count(user)
