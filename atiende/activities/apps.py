from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ActivitiesConfig(AppConfig):
    name = "atiende.activities"
    label = "activities"
    verbose_name = _("Actividades")

    def ready(self) -> None:
        # Registers the merge parts and timeline sources of notes, tasks and calls.
        from atiende.activities import selectors, services  # noqa: F401
