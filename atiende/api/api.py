"""/api/v1: every app's router under one NinjaAPI, token auth, JSON errors as {"detail": …}."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError

from atiende.api.auth import BearerToken
from atiende.contacts.api import router as contacts_router
from atiende.users.api import router as users_router

api = NinjaAPI(
    title="Atiende API",
    version="1",
    description=(
        "CRM omnicanal para centros de contacto. Autenticación: `Authorization: Bearer <token>`."
    ),
    auth=BearerToken(),
    urls_namespace="api",
)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError):
    return api.create_response(request, {"detail": _("Token ausente o inválido.")}, status=401)


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: PermissionDenied):
    return api.create_response(
        request,
        {"detail": str(exc) or _("No tienes permiso para realizar esta acción.")},
        status=403,
    )


# A service refusing input is the same kind of error as a schema refusing it: 422, field by field.
@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, exc: ValidationError):
    detail = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    return api.create_response(request, {"detail": detail}, status=422)


api.add_router("/", users_router)
api.add_router("/", contacts_router)
api.add_router("/", "atiende.contacts.api_imports.router")
api.add_router("/", "atiende.activities.api.router")
api.add_router("/", "atiende.inbox.api.router")
api.add_router("/", "atiende.notifications.api.router")
api.add_router("/", "atiende.inbox.api_comments.router")
api.add_router("/", "atiende.tickets.api.router")
api.add_router("/", "atiende.tickets.api_views.router")
api.add_router("/", "atiende.tickets.api_settings.router")
