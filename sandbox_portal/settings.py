"""Settings for every environment, read from environment variables.

With nothing set the portal runs on embedded defaults: SQLite and a filesystem
broker under ``var/``. ``DATABASE_URL`` switches to PostgreSQL and ``REDIS_URL``
to Redis. Every variable is listed in the README.
"""

import ipaddress
import os
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", default=False)
# Production: DEBUG off and DJANGO_PRODUCTION (or SECURE_COOKIES) on. It turns on HTTPS-only
# cookies, HSTS and the redirect to HTTPS, and refuses to start without a real SECRET_KEY.
PRODUCTION = not DEBUG and (env_bool("DJANGO_PRODUCTION") or env_bool("SECURE_COOKIES"))
DEVELOPMENT_SECRET_KEY = "django-insecure-development-only-key-change-me"
SECRET_KEY = os.environ.get("SECRET_KEY", DEVELOPMENT_SECRET_KEY)
if PRODUCTION and (SECRET_KEY == DEVELOPMENT_SECRET_KEY or len(SECRET_KEY) < 50):
    raise ImproperlyConfigured(
        "Production needs its own SECRET_KEY of at least 50 random characters."
    )
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "sandbox_portal.accounts",
    "sandbox_portal.audit",
    "applications",
    "assessments",
    "assessments.evaluations",
    "assessments.reports",
    "assessments.traces",
    "assessments.monitoring",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Whether the session gave its second factor, then: no page or session API call
    # without it for the roles that need it (sandbox_portal/accounts/two_factor.py).
    "django_otp.middleware.OTPMiddleware",
    "sandbox_portal.accounts.middleware.TwoFactorRequiredMiddleware",
    # A database that goes away mid-request: 503 "nothing was saved", never a 500.
    "sandbox_portal.unavailable.DatabaseUnavailableMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "sandbox_portal.audit.middleware.RequestIdMiddleware",
    # Last, as django-axes requires: it turns a locked-out login into the lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "sandbox_portal.urls"
WSGI_APPLICATION = "sandbox_portal.wsgi.application"

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
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'portal.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    )
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # Tests use a file, not memory, so a Celery worker process can open the same
    # test database; one file per test run, so concurrent runs never share one.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # First, so a locked-out username and address is refused before any password check.
    "sandbox_portal.accounts.throttling.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
ANONYMOUS_USER_NAME = None  # guardian: no anonymous user row
GUARDIAN_MONKEY_PATCH_USER = False
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Login throttling (django-axes): after AXES_FAILURE_LIMIT failed logins for one username
# from one address, that pair is locked out for AXES_COOLOFF_HOURS; the page and the token
# endpoint both answer 429 with a message. Other users and addresses are unaffected.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("AXES_COOLOFF_HOURS", "0.25"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "sandbox_portal.accounts.throttling.lockout_response"
AXES_ENABLED = env_bool("AXES_ENABLED", default=True)
# The client's address, which lockouts and the API throttles count by: REMOTE_ADDR, unless
# the portal sits behind TRUSTED_PROXY_COUNT reverse proxies that each append the address
# they saw to X-Forwarded-For: then the entry the outermost of them appended (django-ipware;
# whatever a client wrote to the left of it is ignored). Set it only when those proxies are
# the only way in, or clients could choose their address.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))
AXES_CLIENT_IP_CALLABLE = "sandbox_portal.accounts.throttling.client_ip"
# Two-factor authentication (TOTP): compulsory for case officers, approvers, auditors and
# staff; firm users may enrol. Turn it off only for local development.
TWO_FACTOR_REQUIRED = env_bool("TWO_FACTOR_REQUIRED", default=True)
OTP_TOTP_ISSUER = "Sandbox Portal"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/London")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Uploads: the portal refuses anything larger or of another type.
DOCUMENT_MAX_BYTES = int(os.environ.get("DOCUMENT_MAX_BYTES", str(20 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Mail: console in development, SMTP when EMAIL_HOST is set.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=True)
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Sandbox Portal <no-reply@sandbox.test>")

# Service level: working days a regulator has to decide, RFI time excluded.
SLA_TARGET_WORKING_DAYS = int(os.environ.get("SLA_TARGET_WORKING_DAYS", "60"))
# Days before a condition's due date that its reminder goes out.
CONDITION_REMINDER_DAYS = int(os.environ.get("CONDITION_REMINDER_DAYS", "7"))

# Celery: Redis when REDIS_URL is set, otherwise a filesystem broker that needs no server.
REDIS_URL = os.environ.get("REDIS_URL", "")
BROKER_DIR = VAR_DIR / "broker"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    # An unacknowledged message (its worker died) is delivered again after this many seconds.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "3600"))
    }
else:
    # kombu's filesystem transport with atomic writes (sandbox_portal/broker.py).
    CELERY_BROKER_URL = "portalfs://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
    for _folder in ("queue", "processed", "control"):
        (BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# A lost broker connection (Redis restarting) does not abort the tasks under way: a test run
# keeps its state in the database, finishes, and its claim makes a re-delivery harmless.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "remind-conditions-falling-due": {
        "task": "applications.tasks.remind_due_conditions",
        "schedule": 3600.0,
    },
    "requeue-stale-test-runs": {
        "task": "assessments.tasks.requeue_stale_runs",
        "schedule": 60.0,
    },
    "resend-stale-reports": {
        "task": "assessments.reports.tasks.resend_stale_reports",
        "schedule": 60.0,
    },
}

# The technical test engine runs on workers consuming ENGINE_QUEUE.
ENGINE_QUEUE = os.environ.get("ENGINE_QUEUE", "engine")
CELERY_TASK_ROUTES = {"assessments.tasks.execute_test_run": {"queue": ENGINE_QUEUE}}
ENGINE_SOFT_TIME_LIMIT = int(os.environ.get("ENGINE_SOFT_TIME_LIMIT", "1800"))
ENGINE_HARD_TIME_LIMIT = int(os.environ.get("ENGINE_HARD_TIME_LIMIT", "1900"))
# A running test run without a heartbeat for this long lost its worker and is queued again,
# at most ENGINE_MAX_ATTEMPTS times in all.
ENGINE_STALE_AFTER_SECONDS = float(os.environ.get("ENGINE_STALE_AFTER_SECONDS", "120"))
ENGINE_MAX_ATTEMPTS = int(os.environ.get("ENGINE_MAX_ATTEMPTS", "3"))
# A run still queued this long after its message was sent is sent again (a broker restarted
# without persistence loses waiting messages); duplicates are harmless, one worker claims it.
ENGINE_RESEND_QUEUED_AFTER_SECONDS = float(
    os.environ.get("ENGINE_RESEND_QUEUED_AFTER_SECONDS", "900")
)
# Networks outside the public internet the portal may send requests to (test runs,
# monitoring probes, demo evidence), comma-separated CIDRs, e.g. "10.20.0.0/16,127.0.0.1/32".
# Empty: public addresses only. Loopback, private, link-local and other special ranges are
# refused unless listed; cloud metadata addresses are refused even when listed.
OUTGOING_ALLOWED_NETWORKS = env_list("OUTGOING_ALLOWED_NETWORKS")
for _network in OUTGOING_ALLOWED_NETWORKS:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"OUTGOING_ALLOWED_NETWORKS: {_network!r} is not an IP network"
        ) from None
# The funded account from which the payment and clearing suites fund their test accounts.
# The default is Hardhat's public development account #0 (public test data, funded only on
# a local reference node): production must set its own key for the chains it tests.
ENGINE_FAUCET_KEY = os.environ.get(
    "ENGINE_FAUCET_KEY", "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
)

# Access-evaluation reports are rendered by workers consuming REPORTS_QUEUE.
REPORTS_QUEUE = os.environ.get("REPORTS_QUEUE", "reports")
# A report queued (its message not sent again) or rendering for this long is sent again.
REPORT_STALE_AFTER_SECONDS = float(os.environ.get("REPORT_STALE_AFTER_SECONDS", "300"))
CELERY_TASK_ROUTES["assessments.reports.tasks.render_report"] = {"queue": REPORTS_QUEUE}
# The Ed25519 key that signs reports (PEM or base64 of the raw 32 bytes). Unset, a
# development key is generated on first use into REPORT_SIGNING_KEY_FILE (mode 0600).
REPORT_SIGNING_KEY = os.environ.get("REPORT_SIGNING_KEY", "")
REPORT_SIGNING_KEY_FILE = Path(
    os.environ.get("REPORT_SIGNING_KEY_FILE", VAR_DIR / "report-signing-key.pem")
)
# The public key reports are verified with; derived from the signing key when unset
# (set it alone on a machine that only verifies).
REPORT_PUBLIC_KEY = os.environ.get("REPORT_PUBLIC_KEY", "")
REPORT_VERIFY_MAX_BYTES = int(os.environ.get("REPORT_VERIFY_MAX_BYTES", str(20 * 1024 * 1024)))
# Largest consensus trace or ledger history (JSON Lines) accepted for upload.
TRACE_MAX_BYTES = int(os.environ.get("TRACE_MAX_BYTES", str(256 * 1024 * 1024)))
CELERY_BEAT_SCHEDULE["resend-stale-trace-uploads"] = {
    "task": "assessments.traces.tasks.resend_stale_uploads",
    "schedule": 300.0,
}

# Runtime monitoring (L3) of admitted cases: every MONITORING_PROBE_INTERVAL_S seconds each
# case's registered nodes are probed (each request waits at most MONITORING_PROBE_TIMEOUT_S).
# Raw samples are kept MONITORING_RAW_HOURS, per-minute aggregates MONITORING_MINUTE_DAYS,
# per-hour aggregates for good (see assessments/monitoring/retention.py).
MONITORING_PROBE_INTERVAL_S = float(os.environ.get("MONITORING_PROBE_INTERVAL_S", "10"))
MONITORING_PROBE_TIMEOUT_S = float(os.environ.get("MONITORING_PROBE_TIMEOUT_S", "5"))
MONITORING_RAW_HOURS = float(os.environ.get("MONITORING_RAW_HOURS", "48"))
MONITORING_MINUTE_DAYS = float(os.environ.get("MONITORING_MINUTE_DAYS", "30"))
CELERY_BEAT_SCHEDULE["probe-monitored-cases"] = {
    "task": "assessments.monitoring.tasks.probe_monitored_cases",
    "schedule": MONITORING_PROBE_INTERVAL_S,
}
CELERY_BEAT_SCHEDULE["roll-up-monitoring-samples"] = {
    "task": "assessments.monitoring.tasks.roll_up_samples",
    "schedule": 300.0,
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        # The session, only once it has given its second factor (never trusted before).
        "sandbox_portal.accounts.authentication.TwoFactorSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "sandbox_portal.api.exception_handler",
    # JSON bodies are bounded in size and nesting before they are decoded.
    "DEFAULT_PARSER_CLASSES": [
        "sandbox_portal.api_parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # Generous per-caller ceilings that only stop runaway clients (429 when exceeded).
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    # The API throttles count by the address of TRUSTED_PROXY_COUNT above, never by an
    # X-Forwarded-For that a client could write itself.
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("API_ANON_RATE", "1000/hour"),
        "user": os.environ.get("API_USER_RATE", "20000/hour"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Sandbox Portal API",
    "DESCRIPTION": "Cases, tiers and lifecycle actions of the Regulatory Sandbox 2.0.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "sandbox_portal.api.document_error_responses",
    ],
    # One schema name per choice set that several fields share.
    "ENUM_NAME_OVERRIDES": {
        "TechLevelEnum": "applications.models.choices.TechLevel",
        "TierStateEnum": "applications.models.choices.TierState",
        "ConditionStatusEnum": "applications.models.choices.ConditionStatus",
        "DocumentKindEnum": "applications.models.choices.DocumentKind",
        "FirmReportKindEnum": "applications.models.choices.FirmReportKind",
        "ZoneKindEnum": "applications.models.choices.ZoneKind",
        "TestRunStatusEnum": "assessments.models.RunStatus",
        "TraceKindEnum": "assessments.traces.models.TraceKind",
        "TraceCheckStatusEnum": "assessments.traces.models.CheckStatus",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # The engine's HTTP client would log every JSON-RPC request of a test run.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}

# Content security policy: scripts, styles, fonts and images only from the portal itself;
# no inline scripts or event handlers. Inline style attributes stay allowed for the
# progress bars and clocks whose width the server computes.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "style-src-elem": [SELF],
        "style-src-attr": [UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = PRODUCTION or env_bool("SECURE_COOKIES", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    # Only behind a TLS-terminating proxy that sets X-Forwarded-Proto and is the only way in.
    if env_bool("BEHIND_TLS_PROXY", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=True)
    # The health check is probed over plain HTTP by the orchestrator.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
