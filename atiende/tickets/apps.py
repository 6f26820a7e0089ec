from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "atiende.tickets"
    label = "tickets"
    verbose_name = _("Tickets")

    def ready(self) -> None:
        # Registers tickets on the contact timeline and the "tickets" merge part.
        from atiende.tickets import selectors, services  # noqa: F401
