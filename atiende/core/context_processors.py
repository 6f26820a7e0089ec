from django.http import HttpRequest

from atiende.users.models import AgentStatus

SETTINGS_SECTIONS = (
    "profile",
    "password",
    "tokens",
    "notifications",
    "users",
    "teams",
    "online",
    "labels",
    "groups",
    "fields",
    "pipelines",
)


def layout(request: HttpRequest) -> dict:
    return {
        "agent_statuses": AgentStatus.choices,
        "settings_sections": SETTINGS_SECTIONS,
    }
