"""The "Mis tareas" badge in the sidebar."""

from django import template

from atiende.activities.selectors import open_tasks_count

register = template.Library()


@register.simple_tag(takes_context=True)
def my_open_tasks(context) -> int:
    user = getattr(context.get("request"), "user", None)
    if not user or not user.is_authenticated:
        return 0
    return open_tasks_count(user=user)
