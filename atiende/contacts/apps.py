from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContactsConfig(AppConfig):
    name = "atiende.contacts"
    label = "contacts"
    verbose_name = _("Contactos")

    def ready(self) -> None:
        # Registers the merge parts that contacts itself owns.
        from atiende.contacts import services  # noqa: F401
