"""Atiende settings: 12-factor, one env var switches SQLite→PostgreSQL and memory→Redis."""

import secrets
from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DATA_DIR = Path(env.str("ATIENDE_DATA_DIR", default=str(BASE_DIR / "data"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)
(DATA_DIR / "static").mkdir(exist_ok=True)


def _secret_key() -> str:
    """The environment wins; else a key generated once into data/ so sessions survive restarts."""
    if env.str("SECRET_KEY", default=""):
        return env.str("SECRET_KEY")
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "rules.apps.AutodiscoverRulesConfig",
    "ninja",
    "atiende.core",
    "atiende.users",
    "atiende.contacts",
    "atiende.activities",
    "atiende.inbox",
    "atiende.notifications",
    "atiende.tickets",
    "atiende.connectors.webchat",
    "atiende.connectors.whatsapp",
    "atiende.connectors.meta",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "atiende.core.middleware.RequestLogMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "atiende.core.middleware.UserPreferencesMiddleware",
    "atiende.core.middleware.HtmxMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
# Benchmark runs only (`python -m bench`): every response says its server time and query count.
ATIENDE_BENCH = env.bool("ATIENDE_BENCH", default=False)
if ATIENDE_BENCH:
    MIDDLEWARE.insert(0, "atiende.core.middleware.BenchMiddleware")

ROOT_URLCONF = "atiende.urls"
ASGI_APPLICATION = "atiende.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "atiende.core.context_processors.layout",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'atiende.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA busy_timeout=20000; "
                "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            ),
        }
    )
    # Job threads keep their connection: opening one runs the PRAGMAs above and was a quarter of
    # a webhook job's time (Huey closes connections around each job unless they are persistent).
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    # Test processes started by the suite (web, worker) must see the test database: keep it on disk.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-atiende.sqlite3")}
elif env.int("ATIENDE_DB_POOL_SIZE", default=10) > 0:
    # Under ASGI each request runs in a thread of its own, so a persistent connection
    # (CONN_MAX_AGE) is never reused and they pile up until PostgreSQL refuses clients (the
    # benchmark hit "too many clients" at 100 webhooks/s). A pool per process hands connections
    # from thread to thread instead; Django requires CONN_MAX_AGE = 0 with it.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": env.int("ATIENDE_DB_POOL_SIZE", default=10),
        "timeout": 20,
    }
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: realtime, jobs, cache -------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
ATIENDE_REDIS_PREFIX = env.str("ATIENDE_REDIS_PREFIX", default="atiende")

# Events that may wait for a socket before the layer drops them, and for how long (seconds).
# Channels' default of 100 lost events under load: with Redis every socket of a web process
# shares one list, so 100 is a single second of a team's traffic at 100 messages/s, and a full
# list silently skips the event; a socket's own buffer drops its oldest events past it.
# (bench/README.md: 52,400 of 400,000 events lost with 200 sockets at 200 messages/s.)
ATIENDE_CHANNEL_CAPACITY = env.int("ATIENDE_CHANNEL_CAPACITY", default=5000)
ATIENDE_CHANNEL_EXPIRY_SECONDS = env.int("ATIENDE_CHANNEL_EXPIRY_SECONDS", default=120)
_LAYER_LIMITS = {"capacity": ATIENDE_CHANNEL_CAPACITY, "expiry": ATIENDE_CHANNEL_EXPIRY_SECONDS}

if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # redis-py 8 reads with a 5 s socket timeout by default, and channels_redis waits
                # for a socket's next event with a 5 s BZPOPMIN: a loop a little late to read the
                # empty answer raised TimeoutError in the consumer, which closed the socket
                # (10 of 200 in the benchmark). The read may take up to this long instead.
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "socket_timeout": env.float("ATIENDE_REDIS_SOCKET_TIMEOUT", default=30.0),
                    }
                ],
                "prefix": f"{ATIENDE_REDIS_PREFIX}:ws",
                **_LAYER_LIMITS,
            },
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": ATIENDE_REDIS_PREFIX,
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "atiende.core.layers.InMemoryChannelLayer", "CONFIG": _LAYER_LIMITS}
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Huey (see atiende/jobs.py): SQLite file under data/ unless REDIS_URL is set.
# Threads of each web process that verify and store provider webhook POSTs (core.asgi_webhooks).
ATIENDE_WEBHOOK_THREADS = env.int("ATIENDE_WEBHOOK_THREADS", default=4)
ATIENDE_JOBS_WORKERS = env.int("ATIENDE_JOBS_WORKERS", default=2)
ATIENDE_JOBS_IMMEDIATE = env.bool("ATIENDE_JOBS_IMMEDIATE", default=False)

# --- Auth and sessions -------------------------------------------------------
AUTH_USER_MODEL = "users.User"
AUTHENTICATION_BACKENDS = [
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Login throttling: this many failures for one username (or one address) within the window lock it.
ATIENDE_LOGIN_MAX_FAILURES = env.int("ATIENDE_LOGIN_MAX_FAILURES", default=5)
ATIENDE_LOGIN_LOCKOUT_MINUTES = env.int("ATIENDE_LOGIN_LOCKOUT_MINUTES", default=15)

SECURE_COOKIES = env.bool("ATIENDE_SECURE_COOKIES", default=False)
SESSION_COOKIE_AGE = env.int("ATIENDE_SESSION_HOURS", default=12) * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_NAME = env.str("ATIENDE_SESSION_COOKIE", default="atiende_session")
CSRF_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if SECURE_COOKIES:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 31536000

# --- i18n ---------------------------------------------------------------------
LANGUAGE_CODE = "es"
LANGUAGES = [("es", _("Español")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "atiende" / "locale"]
LANGUAGE_COOKIE_NAME = "atiende_language"
USE_I18N = True
TIME_ZONE = env.str("TIME_ZONE", default="America/Asuncion")
USE_TZ = True

# --- Static files ---------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = "/media/"
# Uploads are served only through views that check permissions, never from MEDIA_URL directly.
ATIENDE_MAX_UPLOAD_MB = env.int("ATIENDE_MAX_UPLOAD_MB", default=20)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Fernet key for channel credentials at rest; derived from SECRET_KEY when unset.
ATIENDE_ENCRYPTION_KEY = env.str("ATIENDE_ENCRYPTION_KEY", default="")

# --- Contacts ---------------------------------------------------------------------
# Region assumed for phone numbers typed without a country code (ISO 3166-1 alpha-2).
ATIENDE_PHONE_REGION = env.str("ATIENDE_PHONE_REGION", default="PY").upper()

# --- Tickets ---------------------------------------------------------------------------
# Country whose public holidays new SLA policies skip (the `holidays` package's ISO code).
ATIENDE_HOLIDAY_COUNTRY = env.str("ATIENDE_HOLIDAY_COUNTRY", default="PY").upper()

# --- Inbox ---------------------------------------------------------------------------
# Which conversations an agent sees: "team" (their teams' and their own) or "all".
ATIENDE_INBOX_AGENT_SCOPE = env.str("ATIENDE_INBOX_AGENT_SCOPE", default="team")
# Open conversations an agent may hold before automatic assignment skips them.
ATIENDE_INBOX_AGENT_CAP = env.int("ATIENDE_INBOX_AGENT_CAP", default=8)
# Outbound delivery: attempts before a message is marked failed; back-off base in seconds.
ATIENDE_SEND_ATTEMPTS = env.int("ATIENDE_SEND_ATTEMPTS", default=4)
ATIENDE_SEND_BACKOFF_SECONDS = env.float("ATIENDE_SEND_BACKOFF_SECONDS", default=2.0)

# --- Logging: one JSON object per line -------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "atiende.core.logging.JsonFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.server": {"level": "WARNING"},
        "uvicorn.access": {"level": "WARNING"},
        "huey": {"level": "WARNING"},
    },
}
