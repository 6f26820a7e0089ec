from importlib import import_module

from django.apps import AppConfig, apps
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "atiende.core"
    label = "core"
    verbose_name = _("Núcleo")

    def ready(self) -> None:
        # Every process (web, worker, embedded) must register the same Huey tasks.
        for app in apps.get_app_configs():
            if app.name.startswith("atiende."):
                try:
                    import_module(f"{app.name}.jobs")
                except ModuleNotFoundError as exc:
                    if exc.name != f"{app.name}.jobs":
                        raise
