from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InboxConfig(AppConfig):
    name = "atiende.inbox"
    label = "inbox"
    verbose_name = _("Inbox")

    def ready(self) -> None:
        # Registers conversations on the contact timeline, channel counts and the merge part.
        from atiende.inbox import selectors, services  # noqa: F401
