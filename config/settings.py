"""FineCurate settings: one module, every value read from the environment.

With neither DATABASE_URL nor CELERY_BROKER_URL set, FineCurate runs on its embedded default:
SQLite in WAL mode and a filesystem broker, both under FINECURATE_VAR_DIR, so a bare machine
needs no server. Production sets both (see docker-compose.yml) and DEBUG=0.
"""
import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_choice, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("FINECURATE_VAR_DIR", str(BASE_DIR / "var"))).resolve()

DEBUG = env_bool("DEBUG", False)


# Django's own deploy check asks for 50 characters; a shorter key is refused outright when DEBUG is off.
MIN_SECRET_KEY_LENGTH = 50


def _secret_key() -> str:
    key = env_str("SECRET_KEY")
    if key:
        if not DEBUG and len(key) < MIN_SECRET_KEY_LENGTH:
            raise ImproperlyConfigured(
                f"SECRET_KEY is {len(key)} characters; production needs at least {MIN_SECRET_KEY_LENGTH} "
                "(python -c 'import secrets; print(secrets.token_urlsafe(50))')"
            )
        return key
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    # A development key kept beside the local database, so sessions survive restarts.
    key_file = VAR_DIR / "secret_key"
    key_file.parent.mkdir(parents=True, exist_ok=True)
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Production sits behind the TLS proxy of docker-compose.yml (deploy/nginx/). FINECURATE_PLAIN_HTTP=1 is the
# documented switch for a local trial over plain HTTP: no redirect to https, no Secure cookies, no HSTS.
FINECURATE_PLAIN_HTTP = env_bool("FINECURATE_PLAIN_HTTP", False)
# X-Forwarded-Proto is believed only where the operator says a proxy sets it and nothing else can reach the app
# (compose publishes only nginx, which overwrites the header); a client reaching gunicorn directly cannot fake https.
FINECURATE_TRUST_FORWARDED_PROTO = env_bool("FINECURATE_TRUST_FORWARDED_PROTO", False)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "rest_framework",
    "rest_framework.authtoken",  # kept for migration 0005, which hashed its keys into ApiToken
    "axes",
    "csp",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "curation",
    "annotate",
    "workers",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Before any view or CSRF reads a body: the upload cap, and no body parsed for a visitor not signed in.
    "annotate.uploads.RequestBodyGuardMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "annotate.middleware.AppErrorPagesMiddleware",  # pages answer an uncaught 403, 404 or domain error as a page
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: locks out repeated failed sign-ins on /login/ and /admin/login/.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
            "builtins": ["template_partials.templatetags.partials", "django.contrib.humanize.templatetags.humanize"],
        },
    }
]

# Database: DATABASE_URL (postgres://...) or the embedded SQLite default.
_default_sqlite = f"sqlite:///{VAR_DIR / 'finecurate.sqlite3'}"
# Production keeps connections open (with a health check before reuse); development opens one per request.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", _default_sqlite),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 0 if DEBUG else 600, minimum=0),
        conn_health_checks=env_bool("DB_CONN_HEALTH_CHECKS", not DEBUG),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets the web process read while the worker writes; IMMEDIATE avoids upgrade deadlocks.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
elif DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL or SQLite")
IS_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
# Brute force: AXES_FAILURE_LIMIT wrong passwords for one user from one address lock that pair out for a while.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 10, minimum=1)
AXES_COOLOFF_TIME = env_float("AXES_COOLOFF_HOURS", 0.25, minimum=0.0)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Behind the proxy the client's address is the one nginx put last in X-Forwarded-For.
AXES_IPWARE_PROXY_COUNT = 1 if FINECURATE_TRUST_FORWARDED_PROTO else None
AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if FINECURATE_TRUST_FORWARDED_PROTO else ["REMOTE_ADDR"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# Content-addressed images, uploads and export files live under MEDIA_ROOT.
MEDIA_ROOT = Path(env_str("FINECURATE_MEDIA_ROOT", str(VAR_DIR / "media"))).resolve()
MEDIA_URL = "media/"
# Behind nginx (docker-compose.yml): export downloads answer X-Accel-Redirect: <prefix><path under MEDIA_ROOT> and
# nginx sends the file. Empty: the app streams it itself.
FINECURATE_ACCEL_REDIRECT_PREFIX = env_str("FINECURATE_ACCEL_REDIRECT_PREFIX")
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 10 * 1024 * 1024, minimum=1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# The largest request body (an upload) accepted; deploy/nginx.conf's client_max_body_size says the same.
FINECURATE_MAX_UPLOAD_BYTES = env_int("FINECURATE_MAX_UPLOAD_BYTES", 1024 * 1024 * 1024, minimum=1024)
FILE_UPLOAD_HANDLERS = [
    "annotate.uploads.CappedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# Where sources may be read from: the demo data, the uploads folder, and any roots the operator adds.
FINECURATE_DEMO_DIR = BASE_DIR / "curation" / "demo"
FINECURATE_UPLOAD_DIR = MEDIA_ROOT / "uploads"
FINECURATE_DATA_ROOTS = [
    Path(p).resolve()
    for p in env_list("FINECURATE_DATA_ROOTS", [str(VAR_DIR / "data")], sep=":")
] + [FINECURATE_DEMO_DIR.resolve(), FINECURATE_UPLOAD_DIR.resolve()]
# Images above this many pixels are rejected as decompression bombs.
FINECURATE_MAX_IMAGE_PIXELS = env_int("FINECURATE_MAX_IMAGE_PIXELS", 40_000_000, minimum=1)
FINECURATE_MAX_IMAGE_BYTES = env_int("FINECURATE_MAX_IMAGE_BYTES", 50 * 1024 * 1024, minimum=1)
# Threads of one ingest that check and write images while it reads on (0: in the ingest's own thread); one per core
# by default: on 2 cores, 4 threads were slower than 2 in every run of bench/ingest.py (the GIL is handed round
# more), while 2 gained 40-60% over none where creating the files was slow.
FINECURATE_INGEST_IMAGE_THREADS = env_int("FINECURATE_INGEST_IMAGE_THREADS", min(8, os.cpu_count() or 1), minimum=0)
# Bombs in source files: one record (a line of JSON Lines/CSV, an item of a JSON array) longer than this is
# rejected unread, and reading a file stops once it has yielded this many (decompressed) bytes.
FINECURATE_MAX_LINE_BYTES = env_int("FINECURATE_MAX_LINE_BYTES", 64 * 1024 * 1024, minimum=1024)
FINECURATE_MAX_SOURCE_BYTES = env_int("FINECURATE_MAX_SOURCE_BYTES", 256 * 1024**3, minimum=1024)
FINECURATE_EXPORT_TTL_DAYS = env_int("FINECURATE_EXPORT_TTL_DAYS", 30, minimum=1)
# The review decisions an export keeps when the curator does not choose (comma-separated: accepted, pending,
# rejected). Only accepted samples by default: a never-reviewed subset must not export whole unasked.
FINECURATE_EXPORT_DEFAULT_DECISIONS = [
    d.strip() for d in env_str("FINECURATE_EXPORT_DEFAULT_DECISIONS", "accepted").split(",") if d.strip()
]
if not FINECURATE_EXPORT_DEFAULT_DECISIONS or set(FINECURATE_EXPORT_DEFAULT_DECISIONS) - {"accepted", "pending", "rejected"}:
    raise ImproperlyConfigured("FINECURATE_EXPORT_DEFAULT_DECISIONS must list some of: accepted, pending, rejected")

# Model engines: each is optional; without one the built-in default runs and names itself.
FINECURATE_TORCH_DEVICE = env_choice("FINECURATE_TORCH_DEVICE", "cpu", {"cpu", "cuda", "mps"})
FINECURATE_LLM_BASE_URL = env_str("FINECURATE_LLM_BASE_URL")
FINECURATE_LLM_MODEL = env_str("FINECURATE_LLM_MODEL")
FINECURATE_LLM_API_KEY = env_str("FINECURATE_LLM_API_KEY")
FINECURATE_LLM_TIMEOUT = env_float("FINECURATE_LLM_TIMEOUT", 60.0, minimum=1.0)
FINECURATE_LLM_CONCURRENCY = env_int("FINECURATE_LLM_CONCURRENCY", 8, minimum=1)
FINECURATE_TRANSFORMERS_MODEL_DIR = env_str("FINECURATE_TRANSFORMERS_MODEL_DIR")
FINECURATE_DUPLICATE_THRESHOLD = env_float("FINECURATE_DUPLICATE_THRESHOLD", 0.95, minimum=0.0, maximum=1.0)
FINECURATE_SSCD_MODEL_PATH = env_str("FINECURATE_SSCD_MODEL_PATH")
# Near-duplicates (curation/engines/sscd*.py): the embedding engine (empty = SSCD TorchScript when a model file is
# set, else SSCD int8 on ONNX Runtime), ONNX threads, and the lower cosine at which candidates go to the verifier.
FINECURATE_EMBEDDING_ENGINE = env_choice(
    "FINECURATE_EMBEDDING_ENGINE", "", {"", "sscd-int8-onnx", "sscd-distilled-onnx", "sscd-torchscript"}
)
FINECURATE_ONNX_THREADS = env_int("FINECURATE_ONNX_THREADS", 2, minimum=1)
FINECURATE_VERIFY_THRESHOLD = env_float("FINECURATE_VERIFY_THRESHOLD", 0.35, minimum=0.0, maximum=1.0)
FINECURATE_REVIEW_LEASE_SECONDS = env_int("FINECURATE_REVIEW_LEASE_SECONDS", 600, minimum=10)
# A worker beats every FINECURATE_JOB_HEARTBEAT_SECONDS while it runs a job; a running job silent for
# FINECURATE_JOB_STALL_SECONDS has lost its worker: the page shows it stalled and offers Retry and Cancel.
FINECURATE_JOB_HEARTBEAT_SECONDS = env_float("FINECURATE_JOB_HEARTBEAT_SECONDS", 15.0, minimum=0.1)
FINECURATE_JOB_STALL_SECONDS = env_float("FINECURATE_JOB_STALL_SECONDS", 90.0, minimum=1.0)
if FINECURATE_JOB_STALL_SECONDS <= 2 * FINECURATE_JOB_HEARTBEAT_SECONDS:
    raise ImproperlyConfigured("FINECURATE_JOB_STALL_SECONDS must exceed twice FINECURATE_JOB_HEARTBEAT_SECONDS")

# Celery: CELERY_BROKER_URL (redis://...) or a filesystem broker that needs no server.
_broker_dir = VAR_DIR / "broker"
# "localhost" only names the machine whose folders hold the queue (kombu warns when no host is given).
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://localhost/")
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("queue", "processed", "control"):
        (_broker_dir / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
else:
    # With acks_late, Redis hands an unacknowledged task to another worker after visibility_timeout (default 1 h),
    # even while the first still runs it. So it must exceed the longest task (a full ingest or export of a big
    # source runs for hours): a redelivered copy of a job that still beats is refused by job_claim anyway, but a
    # short timeout would redeliver every long task. A dead worker's job shows as stalled after
    # FINECURATE_JOB_STALL_SECONDS and is resumed sooner by Retry (the page or `manage.py job retry`).
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env_int("FINECURATE_BROKER_VISIBILITY_TIMEOUT", 12 * 3600, minimum=60),
    }
CELERY_IMPORTS = [
    "workers.tasks.ingest",
    "workers.tasks.mapping",
    "workers.tasks.review",
    "workers.tasks.exports",
    "workers.tasks.actions",
    "workers.tasks.hard_negatives",
    "workers.tasks.ratings",
    "workers.tasks.dedup",
]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "cpu"
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# Queues: io (file reading and writing), cpu (rules, small models), gpu (embeddings, large models). A job's task
# goes to the queue its kind names (curation/services/job_kinds.py, sent by job_enqueue); beat tasks name theirs.
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    # Delete the files of exports past FINECURATE_EXPORT_TTL_DAYS.
    "exports-cleanup": {"task": "workers.tasks.exports.exports_cleanup", "schedule": 3600.0, "options": {"queue": "io"}},
    # Return review items whose claim lapsed (FINECURATE_REVIEW_LEASE_SECONDS) to their queues.
    "review-release-expired": {"task": "workers.tasks.review.review_release_expired", "schedule": 60.0},
}
CELERY_TIMEZONE = "UTC"

# Content-Security-Policy (django-csp): scripts and styles from this origin only (htmx is vendored; page scripts
# are static files, no inline script, handler or style); the API docs page alone adds inline styles (Swagger UI).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Cache (throttle counters): Redis in production (FINECURATE_CACHE_URL), this process's memory otherwise.
FINECURATE_CACHE_URL = env_str("FINECURATE_CACHE_URL")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": FINECURATE_CACHE_URL}
    if FINECURATE_CACHE_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "curation.api.authentication.HashedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "curation.api.errors.exception_handler",
    # Failed token attempts per client address (curation.api.authentication.TokenFailureThrottle).
    "DEFAULT_THROTTLE_RATES": {"token_failure": env_str("FINECURATE_TOKEN_FAILURE_RATE", "10/min")},
    # Behind the proxy the client's address is the last X-Forwarded-For entry nginx added.
    "NUM_PROXIES": 1 if FINECURATE_TRUST_FORWARDED_PROTO else None,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer", "rest_framework.renderers.BrowsableAPIRenderer"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "FineCurate API",
    "DESCRIPTION": (
        "List approved subsets, page through samples, create, poll and download exports. "
        "Authenticate with `Authorization: Token ...` ([get your token](/token/)). [Back to FineCurate](/)"
    ),
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "curation.api.schema.error_responses_hook",
    ],
    # Several models have a "format" or "status" field: name each choice set after its model.
    "ENUM_NAME_OVERRIDES": {
        "ExportFormatEnum": "curation.exporters.format_choices",
        "SourceFormatEnum": "curation.models.sources.Source.Format",
        "SubsetStatusEnum": "curation.models.samples.Subset.Status",
        "SampleStatusEnum": "curation.models.samples.Sample.Status",
        "SourceStatusEnum": "curation.models.sources.Source.Status",
        "CopyKindEnum": "curation.models.duplicates.DuplicatePair.Kind",
        "CopyScanKindEnum": "curation.models.duplicates.DuplicateScan.Kind",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

if FINECURATE_TRUST_FORWARDED_PROTO:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
if not DEBUG:
    _tls = not FINECURATE_PLAIN_HTTP
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", _tls)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", _tls)
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", _tls)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 3600 if _tls else 0, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
