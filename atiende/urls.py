from django.contrib import admin
from django.urls import include, path

from atiende.api.api import api
from atiende.core.views import healthz
from atiende.users.views import LoginView

handler403 = "atiende.core.views.permission_denied"
handler404 = "atiende.core.views.page_not_found"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("cuenta/ingresar/", LoginView.as_view(), name="login"),
    path("api/v1/", api.urls),
    path("django-admin/", admin.site.urls),
    path("", include("atiende.users.urls")),
    path("", include("atiende.contacts.urls")),
    path("", include("atiende.activities.urls")),
    path("", include("atiende.inbox.urls")),
    path("", include("atiende.notifications.urls")),
    path("", include("atiende.tickets.urls")),
    path("", include("atiende.connectors.webchat.urls")),
    path("", include("atiende.connectors.whatsapp.urls")),
    path("", include("atiende.connectors.meta.urls")),
    path("", include("atiende.core.urls")),
]
