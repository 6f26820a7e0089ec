"""The widget's HTTP side: the script, its configuration, the visitor's session, messages and files.

The widget runs on other people's sites, so these views are CSRF-exempt and answer CORS with
credentials; what protects them is the channel's public key plus the visitor's signed cookie (or
the same signed value in the `X-Atiende-Visitor` header). Every view is thin: parse → service.
"""

import json
from functools import wraps
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from atiende.connectors.webchat import services
from atiende.connectors.webchat.services import Visitor
from atiende.inbox.models import Channel

WIDGET_JS = Path(__file__).parent / "static" / "webchat" / "widget.js"
_script_cache: dict[str, str] = {}


def _own_origin(request: HttpRequest) -> str:
    return f"{request.scheme}://{request.get_host()}"


def _cors(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    origin = request.headers.get("Origin")
    if origin:
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Credentials"] = "true"
        response["Access-Control-Allow-Headers"] = f"Content-Type, {services.VISITOR_HEADER}"
        response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response["Access-Control-Max-Age"] = "600"
    response.headers.setdefault("Cache-Control", "no-store")
    response["Vary"] = "Origin, Cookie"
    return response


def _error(message: str, status: int, **extra) -> JsonResponse:
    return JsonResponse({"error": message, **extra}, status=status)


def _validation_error(exc: ValidationError) -> JsonResponse:
    if hasattr(exc, "error_dict"):
        errors = {field: " ".join(messages) for field, messages in exc.message_dict.items()}
    else:
        errors = {"__all__": " ".join(exc.messages)}
    return _error(next(iter(errors.values())), 422, errors=errors)


def widget_endpoint(*, needs_visitor: bool = True, methods: tuple[str, ...] = ("GET",)):
    """Resolve the channel by public key (404 when unknown or inactive), answer CORS preflights,
    check the embedding site, and read the visitor (401 when required and missing)."""

    def decorate(view):
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, public_key: str, *args, **kwargs):
            channel = services.channel_for_key(public_key)
            if channel is None:
                return _cors(request, _error(_("Este chat no existe o no está activo."), 404))
            if request.method == "OPTIONS":
                return _cors(request, HttpResponse(status=204))
            if request.method not in methods:
                return _cors(request, _error(_("Método no permitido."), 405))
            if not services.origin_allowed(
                channel, request.headers.get("Origin", ""), _own_origin(request)
            ):
                return _cors(request, _error(_("Este sitio no puede usar este chat."), 403))
            visitor = _visitor(request, channel)
            if needs_visitor and visitor is None:
                return _cors(request, _error(_("Completa tus datos para empezar el chat."), 401))
            response = view(request, channel, visitor, *args, **kwargs)
            return _cors(request, response)

        return wrapper

    return decorate


def _visitor(request: HttpRequest, channel: Channel) -> Visitor | None:
    token = (
        request.COOKIES.get(services.cookie_name(channel))
        or request.headers.get(services.VISITOR_HEADER)
        or (request.GET.get("t") if request.method == "GET" else None)
    )
    return services.read_visitor(channel, token)


def _json_body(request: HttpRequest) -> dict | None:
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            return None
        return data if isinstance(data, dict) else None
    return request.POST.dict()


def _client_address(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "") or "?"


# --- the script ------------------------------------------------------------------------------


def _script_source() -> str:
    if settings.DEBUG or "js" not in _script_cache:
        _script_cache["js"] = WIDGET_JS.read_text(encoding="utf-8")
    return _script_cache["js"]


@require_GET
def widget_js(request: HttpRequest, public_key: str) -> HttpResponse:
    """The embeddable script, with this server's address and the channel's key built in."""
    channel = services.channel_for_key(public_key)
    if channel is None:
        body = "/* Atiende: " + _("este chat no existe o no está activo.") + " */\n"
        return HttpResponse(body, status=404, content_type="text/javascript; charset=utf-8")
    options = json.dumps({"base": _own_origin(request), "key": public_key})
    source = _script_source().replace("__ATIENDE_OPTIONS__", options)
    response = HttpResponse(source, content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=300"
    response["Access-Control-Allow-Origin"] = "*"
    return response


# --- JSON endpoints --------------------------------------------------------------------------


@widget_endpoint(needs_visitor=False)
def config(request: HttpRequest, channel: Channel, visitor: Visitor | None) -> JsonResponse:
    return JsonResponse(services.widget_config(channel, visitor))


@widget_endpoint(needs_visitor=False, methods=("POST",))
def session(request: HttpRequest, channel: Channel, visitor: Visitor | None) -> JsonResponse:
    data = _json_body(request)
    if data is None:
        return _error(_("La solicitud no es válida."), 400)
    if visitor is None and services.session_rate_limited(channel, _client_address(request)):
        return _error(_("Demasiados intentos. Espera unos minutos."), 429)
    try:
        visitor = services.start_session(channel=channel, data=data, current=visitor)
    except ValidationError as exc:
        return _validation_error(exc)
    token = services.sign_visitor(visitor)
    response = JsonResponse(
        {"visitor": {"name": visitor.name}, "token": token, **services.history(channel, visitor)}
    )
    secure = request.is_secure()
    response.set_cookie(
        services.cookie_name(channel),
        token,
        max_age=services.VISITOR_MAX_AGE,
        httponly=True,
        secure=secure,
        samesite="None" if secure else "Lax",
    )
    return response


@widget_endpoint(methods=("GET", "POST"))
def messages(request: HttpRequest, channel: Channel, visitor: Visitor) -> JsonResponse:
    if request.method == "GET":
        return JsonResponse(services.history(channel, visitor))
    data = _json_body(request)
    if data is None:
        return _error(_("La solicitud no es válida."), 400)
    try:
        client_id, created = services.post_message(
            channel=channel, visitor=visitor, client_id=data.get("id"), body=data.get("body")
        )
    except ValidationError as exc:
        return _validation_error(exc)
    except services.RateLimited:
        return _error(_("Estás enviando demasiados mensajes. Espera un momento."), 429)
    return JsonResponse({"id": client_id, "duplicate": not created}, status=201 if created else 200)


@widget_endpoint(methods=("POST",))
def attachments(request: HttpRequest, channel: Channel, visitor: Visitor) -> JsonResponse:
    try:
        client_id, created = services.post_attachment(
            channel=channel,
            visitor=visitor,
            client_id=request.POST.get("id"),
            upload=request.FILES.get("file"),
            body=request.POST.get("body", ""),
        )
    except ValidationError as exc:
        return _validation_error(exc)
    except services.RateLimited:
        return _error(_("Estás enviando demasiados mensajes. Espera un momento."), 429)
    return JsonResponse({"id": client_id, "duplicate": not created}, status=201 if created else 200)


@widget_endpoint()
def attachment_file(request: HttpRequest, channel: Channel, visitor: Visitor, attachment_id: int):
    attachment = services.visitor_file(channel, visitor, attachment_id)
    if attachment is None:
        raise Http404
    inline = attachment.mime_type.startswith(("image/", "audio/", "video/"))
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=not inline,
        filename=attachment.name,
        content_type=attachment.mime_type,
    )
    response["Cache-Control"] = "private, max-age=3600"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# --- the demo site ---------------------------------------------------------------------------


def demo(request: HttpRequest) -> HttpResponse:
    """A sample insurer's website with the widget pasted in, as a customer would."""
    channel = services.demo_channel()
    snippet = services.embed_snippet(channel, request) if channel else ""
    return render(request, "webchat/demo.html", {"channel": channel, "snippet": snippet})
