import logging
import time
import zoneinfo

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation

request_logger = logging.getLogger("atiende.request")


class RequestLogMiddleware:
    """One structured log line per request: method, path, status, duration and user."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        if request.path.startswith(settings.STATIC_URL):
            return response
        user = getattr(request, "user", None)
        user_id = user.pk if user is not None and user.is_authenticated else None
        log_request(request.method, request.path, response.status_code, started, user_id)
        return response


def log_request(method: str, path: str, status: int, started: float, user_id: int | None) -> None:
    """The structured line of one request; `started` is its `time.perf_counter()`."""
    request_logger.info(
        "%s %s %s",
        method,
        path,
        status,
        extra={
            "method": method,
            "path": path,
            "status": status,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            "user_id": user_id,
        },
    )


class UserPreferencesMiddleware:
    """Spanish unless the person chose otherwise (profile, or cookie before login); their zone."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.languages = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            language = user.language
            try:
                timezone.activate(zoneinfo.ZoneInfo(user.time_zone))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
        else:
            language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
            timezone.deactivate()
        if language not in self.languages:
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        try:
            response = self.get_response(request)
        finally:
            # Back to the defaults: no person's language or zone leaks past their request.
            translation.deactivate()
            timezone.deactivate()
        response.headers.setdefault("Content-Language", language)
        return response


class HtmxMiddleware:
    """`request.htmx` is True for requests made by htmx, which get a partial instead of a page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.htmx = request.headers.get("HX-Request") == "true"
        return self.get_response(request)


class BenchMiddleware:
    """Benchmark runs only (ATIENDE_BENCH=1): `X-Query-Count` and `Server-Timing` on every response,
    so `python -m bench` reads the server's own time and query count over plain HTTP."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        queries = 0

        def count(execute, sql, params, many, context):
            nonlocal queries
            queries += 1
            return execute(sql, params, many, context)

        started = time.perf_counter()
        with connection.execute_wrapper(count):
            response = self.get_response(request)
        response.headers["X-Query-Count"] = str(queries)
        response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.2f}"
        return response
