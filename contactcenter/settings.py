"""Settings for the contact center, driven by environment variables.

With no environment at all the product runs as one process: SQLite under var/,
the in-memory channel layer and Celery tasks run eagerly. With DATABASE_URL and
REDIS_URL it runs on PostgreSQL and Redis with Celery workers and beat: that is
production. A bad value fails at start-up with ImproperlyConfigured.
"""

import os
from datetime import time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None


def env_float(name: str, default: float, *, low: float, high: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {raw!r}") from None
    if not low <= value <= high:
        raise ImproperlyConfigured(f"{name} must be between {low} and {high}, not {value}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


# --- Core -------------------------------------------------------------------

DEBUG = env_bool("DEBUG", True)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    # Only ever used on a developer's machine with DEBUG on.
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-0123456789"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "contactcenter.apps.ContactCenterAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "import_export",
    "axes",
    "channels",
    "django_celery_beat",
    "agents",
    "calls",
    "clients",
    "orders",
    "qa",
    "scheduling",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "agents.middleware.UserTimezoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "contactcenter.urls"
ASGI_APPLICATION = "contactcenter.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "agents.context_processors.roles",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------

DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    try:
        _db = dj_database_url.parse(DATABASE_URL)
    except Exception as exc:  # dj-database-url raises several types for bad URLs
        raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from exc
    if _db["ENGINE"] == "django.db.backends.postgresql":
        # Under ASGI, Django's persistent connections are per thread and leak; psycopg's
        # pool shares a bounded set of connections across the threads of one process.
        _db["CONN_MAX_AGE"] = 0
        _db["OPTIONS"] = {
            **_db.get("OPTIONS", {}),
            "pool": {
                "min_size": env_int("DB_POOL_MIN_SIZE", 2),
                "max_size": env_int("DB_POOL_MAX_SIZE", 20),
                "timeout": env_int("DB_POOL_TIMEOUT_S", 10),
            },
        }
        # Prepared statements: parameters bound by the server, and a query run this many times
        # on a connection is prepared there, so PostgreSQL parses and plans it once instead of
        # at every execution (planning cost as much as running the routing queries). 0 turns
        # them off, for a pooler in transaction mode that does not track them (PgBouncer < 1.21).
        prepare_threshold = env_int("DB_PREPARE_THRESHOLD", 5)
        if prepare_threshold > 0:
            _db["OPTIONS"]["server_side_binding"] = True
            _db["OPTIONS"]["prepare_threshold"] = prepare_threshold
        _db["TEST"] = {"NAME": os.environ.get("TEST_DATABASE_NAME") or None}
    DATABASES = {"default": _db}
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "db.sqlite3",
            # One process serves HTTP, WebSockets and eager tasks: wait for the write
            # lock rather than failing at once.
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: channels, Celery, cache -------------------------------------------

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL and not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured("REDIS_URL must start with redis://, rediss:// or unix://")

# The channel layer on Redis: channels-redis' Pub/Sub layer by default (one PUBLISH per group
# message, fanned out inside each ASGI process: with 500 desks its p99 push latency was half the
# core layer's, see README "Performance"), or its core layer (CHANNELS_LAYER=core: the original
# implementation, with per-channel capacity and expiry; the Pub/Sub one is marked beta upstream).
CHANNELS_LAYER = os.environ.get("CHANNELS_LAYER", "pubsub")
_CHANNELS_BACKENDS = {
    "pubsub": "channels_redis.pubsub.RedisPubSubChannelLayer",
    "core": "channels_redis.core.RedisChannelLayer",
}
if CHANNELS_LAYER not in _CHANNELS_BACKENDS:
    raise ImproperlyConfigured("CHANNELS_LAYER must be pubsub or core")

if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": _CHANNELS_BACKENDS[CHANNELS_LAYER],
            # redis-py times reads out after 5 s, the same time the core layer waits for a
            # message: a quiet socket would crash with "Timeout reading". Give reads 30 s.
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, "socket_timeout": 30}],
                "prefix": os.environ.get("CHANNELS_PREFIX", "cc"),
            },
        }
    }
    CACHES = {"default": {"BACKEND": "contactcenter.cache.RedisCache", "LOCATION": REDIS_URL}}
    CELERY_BROKER_URL = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CELERY_BROKER_URL = "memory://"
    # No broker: tasks run in the caller's process, after the commit that enqueued them.
    CELERY_TASK_ALWAYS_EAGER = True

CELERY_TASK_EAGER_PROPAGATES = True
# A task is acknowledged only once it has run, and given back if its worker dies, so
# killing a worker mid-task loses nothing (tasks are written to be safe to run twice).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_BACKEND = None
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Each app adds its periodic work here (see the app's tasks.py); beat reads it at start.
CELERY_BEAT_SCHEDULE: dict = {}

# --- Auth ---------------------------------------------------------------------

AUTH_USER_MODEL = "agents.User"
AUTHENTICATION_BACKENDS = [
    # First, as django-axes requires: it refuses locked-out credentials.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

# --- Internationalisation -------------------------------------------------------

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/Paris")
try:
    ZoneInfo(TIME_ZONE)
except (ZoneInfoNotFoundError, ValueError):
    raise ImproperlyConfigured(f"TIME_ZONE {TIME_ZONE!r} is not a known IANA time zone") from None

# --- Static files -----------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    # JavaScript libraries come from npm at install time (package.json), never a CDN.
    ("vendor/htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist"),
    ("vendor/chartjs", BASE_DIR / "node_modules" / "chart.js" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# With DEBUG on, WhiteNoise serves straight from the finders: no collectstatic needed.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = VAR_DIR / "media"

# --- Security (production: DEBUG=0) --------------------------------------------------

SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("BEHIND_TLS_PROXY", False):
    # The reverse proxy terminates TLS and says so in this header.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- REST API ---------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "contactcenter.errors.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Contact center API",
    "DESCRIPTION": "Telephony events, agents, calls, clients, orders, quality and planning.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI is served from the installed sidecar package, never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models name their choices kind/state/status: give each set one clear name.
    "ENUM_NAME_OVERRIDES": {
        "TeamKindEnum": "agents.models.Team.Kind",
        "CallStateEnum": "calls.models.Call.State",
        "CallEventResultEnum": "calls.models.CallEvent.Result",
        "AgentPresenceStateEnum": "calls.models.AgentPresence.State",
        "AgentPresenceReasonEnum": "calls.models.AgentPresence.Reason",
        "CallbackKindEnum": "calls.models.Callback.Kind",
        "CallbackStateEnum": "calls.models.Callback.State",
        "CampaignKindEnum": "clients.models.Campaign.Kind",
        "CampaignStatusEnum": "clients.models.Campaign.Status",
        "ContactOutcomeKindEnum": "clients.models.ContactOutcome.Kind",
        "CampaignMemberStateEnum": "clients.models.CampaignMember.State",
        "OrderStatusEnum": "orders.models.Order.Status",
        "FollowUpStatusEnum": "orders.models.FollowUp.Status",
        "ReviewKindEnum": "qa.models.Review.Kind",
        "ReviewStatusEnum": "qa.models.Review.Status",
        "CoachingActionKindEnum": "qa.models.CoachingAction.Kind",
        "CalibrationSessionStatusEnum": "qa.models.CalibrationSession.Status",
        "EvaluationStatusEnum": "qa.models.Evaluation.Status",
        "SelfReportStatusEnum": "qa.models.SelfReport.Status",
        "ShiftStateEnum": "scheduling.models.Shift.State",
        "DayOffRequestStateEnum": "scheduling.models.DayOffRequest.State",
        "ShiftSwapStateEnum": "scheduling.models.ShiftSwap.State",
        "NotificationKindEnum": "scheduling.models.Notification.Kind",
    },
}

# --- Import / export (admin CSV) ---------------------------------------------------

# An import is one transaction: a file with a bad row writes nothing.
IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_SKIP_ADMIN_LOG = False
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "add"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"

# --- Logging ------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# --- Product settings ----------------------------------------------------------------

# Country whose national numbering reads numbers given without a +country prefix.
PHONE_REGION = os.environ.get("PHONE_REGION", "FR")

# Shared secret for the HMAC signature of telephony events (calls app).
TELEPHONY_WEBHOOK_SECRET = os.environ.get("TELEPHONY_WEBHOOK_SECRET", "")
if not TELEPHONY_WEBHOOK_SECRET:
    if not DEBUG:
        raise ImproperlyConfigured("TELEPHONY_WEBHOOK_SECRET must be set when DEBUG is off.")
    TELEPHONY_WEBHOOK_SECRET = "dev-telephony-secret"  # noqa: S105

# --- Planning (scheduling; docs/scheduling.md) --------------------------------------
# Share of paid time not spent on calls (breaks, training, absence): agents → headcount.
SCHEDULING_SHRINKAGE = env_float("SCHEDULING_SHRINKAGE", 0.30, low=0.0, high=0.95)
# Erlang C staffing never plans agents busier than this.
SCHEDULING_MAX_OCCUPANCY = env_float("SCHEDULING_MAX_OCCUPANCY", 0.85, low=0.05, high=1.0)
# Day-off requests for a week are due this many days before it starts, at this local time.
SCHEDULING_DAYOFF_DEADLINE_DAYS_BEFORE = env_int("SCHEDULING_DAYOFF_DEADLINE_DAYS_BEFORE", 5)
SCHEDULING_DAYOFF_DEADLINE_TIME = os.environ.get("SCHEDULING_DAYOFF_DEADLINE_TIME", "12:00")
try:
    time.fromisoformat(SCHEDULING_DAYOFF_DEADLINE_TIME)
except ValueError:
    raise ImproperlyConfigured("SCHEDULING_DAYOFF_DEADLINE_TIME must be a time like 12:00") from None
SCHEDULING_DAYOFF_REMINDER_HOURS = env_int("SCHEDULING_DAYOFF_REMINDER_HOURS", 48)

# --- Quality (qa app; docs/quality.md) -----------------------------------------------
# Calls sampled per agent and week for QA review.
QA_SAMPLE_PER_AGENT = env_int("QA_SAMPLE_PER_AGENT", 2)
# Evaluation period in months (must divide a year).
QA_EVALUATION_PERIOD_MONTHS = env_int("QA_EVALUATION_PERIOD_MONTHS", 1)
if QA_EVALUATION_PERIOD_MONTHS not in (1, 2, 3, 4, 6, 12):
    raise ImproperlyConfigured("QA_EVALUATION_PERIOD_MONTHS must divide a year: 1, 2, 3, 4, 6 or 12")
# Days of self-reported results re-checked every night.
QA_SELF_REPORT_RECHECK_DAYS = env_int("QA_SELF_REPORT_RECHECK_DAYS", 7)
# First-contact resolution: a repeat call from the same number within this many days means
# the first one did not resolve the matter (calls/kpis.py and qa/performance.py).
FCR_WINDOW_DAYS = env_int("FCR_WINDOW_DAYS", 7)
# A queue's status goes to the desks and wallboards at most once per this many milliseconds:
# the first change of a window at once, the later ones folded into one push at its end
# (calls/realtime.py). 0 pushes every change.
CALLS_QUEUE_STATUS_INTERVAL_MS = env_int("CALLS_QUEUE_STATUS_INTERVAL_MS", 250)
# The day's figures on the wallboard and the dashboard (calls offered and answered today,
# service level, each agent's calls and occupancy) are counted at most once per this many
# seconds for the same queues and agents in a process, and shared by every page showing them
# (calls/selectors.py, SharedDayFigures). Calls waiting and agents' states are always live.
# 0 counts at every read.
CALLS_DAY_FIGURES_MAX_AGE_S = env_float("CALLS_DAY_FIGURES_MAX_AGE_S", 5.0, low=0.0, high=300.0)
