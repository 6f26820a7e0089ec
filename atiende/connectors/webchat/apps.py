from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebchatConfig(AppConfig):
    name = "atiende.connectors.webchat"
    label = "webchat"
    verbose_name = _("Chat web")

    def ready(self) -> None:
        from atiende.connectors.webchat import connector  # noqa: F401  (registers the connector)
