"""The one settings module: everything comes from the environment through config.env."""

from __future__ import annotations

import dj_database_url

from config import env

BASE_DIR = env.BASE_DIR
LEDGER_ENV = env.environment()
PRODUCTION = env.is_production()

# Development-only values: public on purpose, refused when LEDGER_ENV=production.
_DEV_SECRET_KEY = "development-only-secret-key-not-for-production"  # noqa: S105
_DEV_SIGNING_SEED = "dKD52xD/AKOCUWT9gIEcxDbm0e0mVaiGQfeRT9A2qM8="
_DEV_PSEUDONYM_KEY = "development-only-pseudonym-key"

SECRET_KEY = env.text("DJANGO_SECRET_KEY", _DEV_SECRET_KEY, required_in_production=True)
DEBUG = env.flag("DJANGO_DEBUG", default=LEDGER_ENV == "development")
ALLOWED_HOSTS = env.csv("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env.csv("DJANGO_CSRF_TRUSTED_ORIGINS", "http://localhost,http://127.0.0.1")

INSTALLED_APPS = [
    "eventstore.admin_site.LedgerAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    # Swagger UI and ReDoc as static files of this service (pinned), never from a CDN.
    "drf_spectacular_sidecar",
    "guardian",
    "django_celery_beat",
    "core",
    "eventstore",
    "registry",
    "boards",
    "governance",
    "approvals",
    "lineage",
    # The API's templates (its documentation pages).
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "api.middleware.RejectNulCharacters",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "api.middleware.ViewerTimeZone",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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

_database = dj_database_url.parse(
    env.text(
        "DATABASE_URL",
        "postgres://postgres@127.0.0.1:5432/model_ledger",
        required_in_production=True,
    ),
    conn_max_age=env.integer("DATABASE_CONN_MAX_AGE", 60),
    conn_health_checks=True,
)
_database.setdefault("OPTIONS", {})
# Server-side binding lets PostgreSQL prepare the hot statements (append, projections) once.
_database["OPTIONS"].setdefault("server_side_binding", True)
_database["OPTIONS"].setdefault("prepare_threshold", 1)
# Plan those statements once per connection, not at every execution: every hot statement looks
# rows up by key, where PostgreSQL's default (a fresh custom plan while it judges the generic
# one dearer) spent more time planning than executing.
_options = _database["OPTIONS"].get("options", "")
if "plan_cache_mode" not in _options:
    _database["OPTIONS"]["options"] = f"{_options} -c plan_cache_mode=force_generic_plan".strip()
_database["TEST"] = {"NAME": env.text("DATABASE_TEST_NAME", "test_model_ledger")}
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

if LEDGER_ENV == "test":
    # Tests create many users; the production hashers are slow on purpose.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION
if not PRODUCTION:
    # Development serves from the finders; the folder only has to exist for whitenoise.
    STATIC_ROOT.mkdir(exist_ok=True)

# Security headers; the strict ones only where TLS terminates in front of us.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
SECURE_SSL_REDIRECT = env.flag("DJANGO_SECURE_SSL_REDIRECT", default=PRODUCTION)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = 31_536_000 if PRODUCTION else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
SECURE_HSTS_PRELOAD = PRODUCTION
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Event store: who signs checkpoints, and the key that turns personal data into references.
LEDGER_ORIGIN = env.text("LEDGER_ORIGIN", "model-ledger.local/dev")
# Only the signer process (manage.py run_signer) is given the seed; web, worker, beat and relay
# have none and verify with the public keys of LEDGER_TRUSTED_KEYS (the current signer's first,
# then retired ones). The tests sign in-process with the development seed.
LEDGER_SIGNING_KEY = env.text(
    "LEDGER_SIGNING_KEY", _DEV_SIGNING_SEED if LEDGER_ENV == "test" else ""
)
LEDGER_TRUSTED_KEYS = env.csv("LEDGER_TRUSTED_KEYS", "")
LEDGER_PSEUDONYM_KEY = env.text(
    "LEDGER_PSEUDONYM_KEY", _DEV_PSEUDONYM_KEY, required_in_production=True
)
# The signer looks at the log this often, and whenever asked (NOTIFY ledger_checkpoint).
LEDGER_CHECKPOINT_SECONDS = env.integer("LEDGER_CHECKPOINT_SECONDS", 60)
# signer.fresh_checkpoint: a look at most this old is fresh; else ask and wait at most this long.
LEDGER_CHECKPOINT_MAX_AGE = env.integer("LEDGER_CHECKPOINT_MAX_AGE", 60)
LEDGER_CHECKPOINT_WAIT = env.integer("LEDGER_CHECKPOINT_WAIT", 15)

# Celery: a broker that needs no service of its own unless one is configured.
_broker_dir = env.STATE_DIR / ("test-broker" if LEDGER_ENV == "test" else "broker")
CELERY_BROKER_URL = env.text("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
if CELERY_BROKER_URL.startswith(("redis://", "rediss://", "redis+socket://")):
    # A task a dead worker never acknowledged goes back to the queue after this many seconds.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.integer("CELERY_VISIBILITY_TIMEOUT", 3600)
    }
CELERY_TASK_DEFAULT_QUEUE = env.text("CELERY_TASK_DEFAULT_QUEUE", "celery")
CELERY_RESULT_BACKEND = env.optional("CELERY_RESULT_BACKEND")
CELERY_TASK_IGNORE_RESULT = CELERY_RESULT_BACKEND is None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing from a request or the outbox relay must fail fast; the outbox retries later.
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
LEDGER_OUTBOX_POLL_SECONDS = env.integer("LEDGER_OUTBOX_POLL_SECONDS", 2)
# A published task no worker finished within this time is published again (same task id).
LEDGER_OUTBOX_REDELIVER_SECONDS = env.integer(
    "LEDGER_OUTBOX_REDELIVER_SECONDS", env.integer("CELERY_VISIBILITY_TIMEOUT", 3600)
)

# One cache for every web and worker process (throttle counters, task de-duplication): Redis
# when CACHE_URL is set, otherwise a table in PostgreSQL (core's migration creates it).
_cache_url = env.optional("CACHE_URL")
if _cache_url is not None and not _cache_url.startswith(("redis://", "rediss://", "unix://")):
    raise env.MissingSetting("CACHE_URL must be a redis://, rediss:// or unix:// URL")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _cache_url}
        if _cache_url
        else {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "ledger_cache"}
    )
}

# REST API: authenticated everywhere, problem+json errors, cursor pages, throttled.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.BearerTokenAuthentication",
        "api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.DepthLimitedJSONParser"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.LedgerCursorPagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_THROTTLE_CLASSES": [
        "api.throttling.AnonThrottle",
        "api.throttling.UserThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.text("API_THROTTLE_ANON", "60/minute"),
        "user": env.text("API_THROTTLE_USER", "100000/hour"),
    },
    # Client addresses for the anonymous rate: REMOTE_ADDR unless proxies in front are declared,
    # so a made-up X-Forwarded-For does not buy a fresh allowance.
    "NUM_PROXIES": env.integer("API_NUM_PROXIES", 0),
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "STRICT_JSON": True,
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Model Ledger API",
    "DESCRIPTION": (
        "Event-sourced ML model registry and governance. Every change is a hash-chained event; "
        "errors are RFC 9457 problem+json with a stable `code`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "OAS_VERSION": "3.1.0",
    # Two choice sets share the field name "kind": evidence kinds and lineage node kinds.
    "ENUM_NAME_OVERRIDES": {
        "EvidenceKindEnum": "governance.policy.EVIDENCE_KINDS",
        "LineageNodeKindEnum": "lineage.rules.NODE_KINDS",
        "OpenClosedStatusEnum": "governance.events.OPEN_CLOSED",
        "FindingStatusEnum": "governance.events.FINDING_STATUSES",
        "ApprovalOutputStatusEnum": "approvals.state.REQUEST_STATUSES",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.strict_inputs",
    ],
}
# Request bodies beyond this are refused with 413 before any parsing.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.integer("API_MAX_BODY_BYTES", 1_048_576)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.text("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# Notifications (approval requests and decisions) go out through the outbox as e-mail.
EMAIL_BACKEND = env.text("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_FILE_PATH = env.text("EMAIL_FILE_PATH", str(env.STATE_DIR / "mail"))
DEFAULT_FROM_EMAIL = env.text("DEFAULT_FROM_EMAIL", "model-ledger@localhost")
# Where links in notifications point: the address people reach the service at (./ledger serve
# sets it from HOST and PORT where unset); required in production.
LEDGER_BASE_URL = env.text(
    "LEDGER_BASE_URL", "http://localhost:8000", required_in_production=True
).rstrip("/")

# Artifacts: an S3 bucket (AWS, MinIO or any S3-compatible store) when S3_BUCKET is set, else
# files under ARTIFACT_ROOT uploaded through this service's own signed URLs. Without keys here,
# boto3's own chain (instance role, ~/.aws) supplies credentials.
S3_ENDPOINT_URL = env.optional("S3_ENDPOINT_URL")
S3_BUCKET = env.optional("S3_BUCKET")
S3_REGION = env.text("S3_REGION", env.text("AWS_DEFAULT_REGION", "us-east-1"))
S3_ADDRESSING_STYLE = env.text("S3_ADDRESSING_STYLE", "path")
AWS_ACCESS_KEY_ID = env.optional("AWS_ACCESS_KEY_ID")
AWS_SECRET_ACCESS_KEY = env.optional("AWS_SECRET_ACCESS_KEY")
# A relative ARTIFACT_ROOT is taken from the project folder; an absolute one replaces it.
ARTIFACT_ROOT = env.BASE_DIR / env.text("ARTIFACT_ROOT", str(env.STATE_DIR / "artifacts"))
ARTIFACT_MAX_DIRECT_UPLOAD = env.integer("ARTIFACT_MAX_DIRECT_UPLOAD", 16 * 1024 * 1024)
ARTIFACT_UPLOAD_URL_SECONDS = env.integer("ARTIFACT_UPLOAD_URL_SECONDS", 3600)
# One presigned PUT carries at most 5 GiB on S3; larger artifacts belong in a dataset URI.
ARTIFACT_MAX_UPLOAD = env.integer("ARTIFACT_MAX_UPLOAD", 5 * 1024**3)
