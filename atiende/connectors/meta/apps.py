from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MetaConfig(AppConfig):
    name = "atiende.connectors.meta"
    label = "meta"
    verbose_name = _("Messenger e Instagram")

    def ready(self) -> None:
        from atiende.connectors.meta import connector  # noqa: F401  (registers both connectors)
