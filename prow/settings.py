"""Settings for the Python Prow.

Every deployment knob is an environment variable (the contract table in
DESIGN.md); nothing here needs editing to deploy. With no variables set the
project runs on one machine with SQLite, an embedded broker and the local
executor.
"""

import os
import secrets
from pathlib import Path
from urllib.parse import urlparse

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def _env_number(name: str, default, cast, kind: str):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return cast(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be {kind}, not {value!r}")


def env_int(name: str, default: int) -> int:
    return _env_number(name, default, int, "an integer")


def env_float(name: str, default: float) -> float:
    return _env_number(name, default, float, "a number")


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


DATA_DIR = Path(env("PROW_DATA_DIR", str(BASE_DIR / "data"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    key = env("DJANGO_SECRET_KEY")
    if key:
        return key
    # Generated once and kept, so sessions survive restarts and every process
    # started from the same data folder agrees on it.
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.github",
    "template_partials",
    "prow.config",
    "hook",
    "jobs",
    "tide",
    "deck",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "prow.metrics.WebhookMetricsMiddleware",
    # Before anything asks for the host: a refused Host gets the setting
    # to change instead of a bare 400.
    "hook.refusals.DisallowedHostHint",
    # Webhooks skip what follows: it is all for people, not GitHub.
    "hook.views.WebhookShortcut",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "deck.github_access.GitHubLoginRecheckMiddleware",
    "deck.privacy.PrivateDeckMiddleware",
]

ROOT_URLCONF = "prow.urls"
WSGI_APPLICATION = "prow.wsgi.application"

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
                "deck.context_processors.deck_nav",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{DATA_DIR / 'prow.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one SQLite file in the embedded setup; WAL and
    # a generous busy timeout keep them from failing on each other's writes.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# The image collects static files outside the data folder, which is a volume.
STATIC_ROOT = Path(env("PROW_STATIC_ROOT", str(DATA_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = DATA_DIR / "media"
# Job logs and artifacts go to Django's default storage: files under the data
# folder, or an S3-compatible bucket when PROW_S3_BUCKET is set (credentials
# from the usual AWS_* variables or files, never from settings).
PROW_S3_BUCKET = env("PROW_S3_BUCKET")
if PROW_S3_BUCKET:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": PROW_S3_BUCKET,
            "endpoint_url": env("PROW_S3_ENDPOINT_URL") or None,
            "region_name": env("PROW_S3_REGION") or None,
            "location": env("PROW_S3_PREFIX"),
            "file_overwrite": True,
        },
    }
# Serve static files from the apps directly when collectstatic has not run, so
# the zero-setup command needs no build step.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Logging in: Django accounts (made by an admin), and GitHub OAuth when an
# OAuth app is configured. Nobody signs up locally; a GitHub login makes its
# account on first use. Deck's write actions then check
# deck.rerun_auth_configs against the GitHub login.
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
ACCOUNT_ADAPTER = "deck.accounts.NoLocalSignupAdapter"
SOCIALACCOUNT_ADAPTER = "deck.accounts.GitHubSignupAdapter"
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_ON_GET = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_QUERY_EMAIL = False
SOCIALACCOUNT_STORE_TOKENS = False
PROW_GITHUB_OAUTH_CLIENT_ID = env("PROW_GITHUB_OAUTH_CLIENT_ID")
PROW_GITHUB_OAUTH_CLIENT_SECRET_FILE = env("PROW_GITHUB_OAUTH_CLIENT_SECRET_FILE")
SOCIALACCOUNT_PROVIDERS = {"github": {"SCOPE": ["read:org"]}}
if PROW_GITHUB_OAUTH_CLIENT_ID and PROW_GITHUB_OAUTH_CLIENT_SECRET_FILE:
    SOCIALACCOUNT_PROVIDERS["github"]["APPS"] = [
        {
            "client_id": PROW_GITHUB_OAUTH_CLIENT_ID,
            "secret": Path(PROW_GITHUB_OAUTH_CLIENT_SECRET_FILE).read_text().strip(),
            "key": "",
        }
    ]
# Who may log in with GitHub (deck/github_access.py): named users, members
# of orgs, members of teams ("org/slug"), or, opted in, anyone. None named:
# nobody. Membership is asked again once a session's last check is older
# than the bound.
PROW_GITHUB_LOGIN_USERS = env_list("PROW_GITHUB_LOGIN_USERS", "")
PROW_GITHUB_LOGIN_ORGS = env_list("PROW_GITHUB_LOGIN_ORGS", "")
PROW_GITHUB_LOGIN_TEAMS = env_list("PROW_GITHUB_LOGIN_TEAMS", "")
PROW_GITHUB_LOGIN_ANYONE = env_bool("PROW_GITHUB_LOGIN_ANYONE", False)
PROW_GITHUB_LOGIN_RECHECK_SECONDS = env_int("PROW_GITHUB_LOGIN_RECHECK_SECONDS", 3600)
# GitHub Enterprise: the web address the OAuth pages live on.
PROW_GITHUB_WEB_URL = env("PROW_GITHUB_WEB_URL")
if PROW_GITHUB_WEB_URL:
    SOCIALACCOUNT_PROVIDERS["github"]["GITHUB_URL"] = PROW_GITHUB_WEB_URL
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

# The REST API: public reads, writes with a token (or a logged-in session
# with its CSRF token), cursor pages, an OpenAPI schema.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticatedOrReadOnly",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "EXCEPTION_HANDLER": "rest_framework.views.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Prow API",
    "DESCRIPTION": "ProwJobs, periodic runs, config versions and webhook deliveries.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_GENERATE_CHOICE_DESCRIPTION": False,
}

# Celery. Without CELERY_BROKER_URL the broker is kombu's filesystem
# transport under the data folder: web, worker and beat on one machine share
# it with no server to run.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = DATA_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # An unacknowledged task (worker killed mid-task) comes back after
        # this long; short enough that a lost webhook is handled within minutes.
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 300),
    }
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND") or None

# The shared cache (GitHub ETags, trust answers, counters): Redis when the
# broker is Redis or PROW_CACHE_URL says so, else files under the data folder
# so the processes of the embedded setup still share it.
PROW_CACHE_URL = env("PROW_CACHE_URL") or (
    CELERY_BROKER_URL if CELERY_BROKER_URL.startswith(("redis://", "rediss://")) else ""
)
if PROW_CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": PROW_CACHE_URL,
            "KEY_PREFIX": "prow",
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
            "OPTIONS": {"MAX_ENTRIES": 50_000},
        }
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 120)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 150)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TIMEZONE = "UTC"

# Prow configuration sources and their polling.
PROW_CONFIG_PATH = env("PROW_CONFIG_PATH", str(BASE_DIR / "examples" / "config.yaml"))
PROW_PLUGIN_CONFIG_PATH = env(
    "PROW_PLUGIN_CONFIG_PATH", str(BASE_DIR / "examples" / "plugins.yaml")
)
# How often beat looks at the files for changes (ConfigMap updates included).
PROW_CONFIG_WATCH_SECONDS = env_float("PROW_CONFIG_WATCH_SECONDS", 5.0)
# How long a process trusts its cached config before asking the database
# whether a newer version exists: the bound on how stale any reader can be.
PROW_CONFIG_CACHE_SECONDS = env_float("PROW_CONFIG_CACHE_SECONDS", 2.0)

# Webhook handling. A delivery not handled this long after it arrived (the
# broker was down) is enqueued again by the sweeper; one whose worker has been
# silent this long (killed) is taken over. The second must exceed the hook
# tasks' hard time limit, so a live worker is never taken over.
PROW_HOOK_SWEEP_SECONDS = env_float("PROW_HOOK_SWEEP_SECONDS", 30.0)
PROW_HOOK_SWEEP_AFTER_SECONDS = env_float("PROW_HOOK_SWEEP_AFTER_SECONDS", 60.0)
PROW_HOOK_STALE_SECONDS = env_float("PROW_HOOK_STALE_SECONDS", 180.0)
PROW_HOOK_TASK_TIME_LIMIT = env_int("PROW_HOOK_TASK_TIME_LIMIT", 120)
CELERY_TASK_ANNOTATIONS = {
    task: {
        "time_limit": PROW_HOOK_TASK_TIME_LIMIT,
        "soft_time_limit": PROW_HOOK_TASK_TIME_LIMIT - 10,
    }
    for task in ("hook.tasks.handle_delivery", "hook.tasks.handle_deliveries")
}
# New deliveries are sent to the workers by a thread in each web process, up
# to this many per message; while webhooks stream in, each waits at most
# this long for company (a lone one is sent at once).
PROW_HOOK_DISPATCH_BATCH = env_int("PROW_HOOK_DISPATCH_BATCH", 16)
PROW_HOOK_DISPATCH_LINGER_MS = env_float("PROW_HOOK_DISPATCH_LINGER_MS", 50.0)
if PROW_HOOK_STALE_SECONDS <= PROW_HOOK_TASK_TIME_LIMIT:
    raise ImproperlyConfigured(
        "PROW_HOOK_STALE_SECONDS must exceed PROW_HOOK_TASK_TIME_LIMIT, or a live "
        "worker's delivery could be taken over by another"
    )
# Handled webhook deliveries are kept this many days (failed ones twice as
# long) before hook deletes them (hook.retention); 0 keeps them forever.
PROW_DELIVERY_RETENTION_DAYS = env_int("PROW_DELIVERY_RETENTION_DAYS", 14)
# GitHub caps webhook payloads at 25 MB.
PROW_HOOK_MAX_BODY_BYTES = env_int("PROW_HOOK_MAX_BODY_BYTES", 25 * 1024 * 1024)
# config.yaml or plugins.yaml as text sent to the API or the admin: parsing
# YAML is slow (about 0.3 MB/s), and it runs on the threads that also take
# webhooks. Larger configs come from files or merged pull requests.
PROW_CONFIG_TEXT_MAX_BYTES = env_int("PROW_CONFIG_TEXT_MAX_BYTES", 1024 * 1024)
# Config checks without saving, per user (staff are not limited).
PROW_CONFIG_VALIDATE_RATE = env("PROW_CONFIG_VALIDATE_RATE", "10/minute")

# Secrets come from files only; their contents are never logged.
PROW_HMAC_SECRET_FILE = env("PROW_HMAC_SECRET_FILE")
PROW_GITHUB_TOKEN_PATH = env("PROW_GITHUB_TOKEN_PATH")
PROW_GITHUB_ENDPOINT = env("PROW_GITHUB_ENDPOINT", "https://api.github.com").rstrip("/")


def _graphql_endpoint(rest: str) -> str:
    explicit = env("PROW_GITHUB_GRAPHQL_ENDPOINT")
    if explicit:
        return explicit
    parsed = urlparse(rest)
    # GitHub Enterprise serves REST at /api/v3 and GraphQL at /api/graphql.
    if parsed.path.rstrip("/").endswith("/api/v3"):
        return f"{parsed.scheme}://{parsed.netloc}/api/graphql"
    return f"{rest}/graphql"


PROW_GITHUB_GRAPHQL_ENDPOINT = _graphql_endpoint(PROW_GITHUB_ENDPOINT)
# A GitHub App instead of a token: its id and private key file; the
# installation for each org is looked up and its tokens refreshed.
PROW_GITHUB_APP_ID = env("PROW_GITHUB_APP_ID")
PROW_GITHUB_APP_PRIVATE_KEY_PATH = env("PROW_GITHUB_APP_PRIVATE_KEY_PATH")
# The bot's login when no credentials are set (dry mode), so its own comments
# are still recognised.
PROW_GITHUB_BOT_LOGIN = env("PROW_GITHUB_BOT_LOGIN")
# A rate-limited call waits in process at most this long (else its task is
# retried later); writes with one token are spaced at least this far apart,
# as GitHub asks of content-creating requests.
PROW_GITHUB_MAX_RATE_LIMIT_WAIT_SECONDS = env_float(
    "PROW_GITHUB_MAX_RATE_LIMIT_WAIT_SECONDS", 60.0
)
PROW_GITHUB_WRITE_SPACING_SECONDS = env_float("PROW_GITHUB_WRITE_SPACING_SECONDS", 1.0)
KUBECONFIG = env("KUBECONFIG")
# Where the system can be reached from outside: job links on GitHub point
# at its job pages.
PROW_EXTERNAL_URL = env("PROW_EXTERNAL_URL", "http://127.0.0.1:8000").rstrip("/")
# Served over https (judged from PROW_EXTERNAL_URL): cookies are never sent
# in clear, browsers are told to insist on https, and the TLS-terminating
# proxy's header says which requests arrived over https.
_SERVED_OVER_HTTPS = PROW_EXTERNAL_URL.lower().startswith("https://")
SESSION_COOKIE_SECURE = env_bool("PROW_SESSION_COOKIE_SECURE", _SERVED_OVER_HTTPS)
CSRF_COOKIE_SECURE = env_bool("PROW_CSRF_COOKIE_SECURE", _SERVED_OVER_HTTPS)
SECURE_HSTS_SECONDS = env_int(
    "PROW_HSTS_SECONDS", 365 * 24 * 3600 if _SERVED_OVER_HTTPS else 0
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("PROW_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("PROW_HSTS_PRELOAD", False)


def _proxy_ssl_header(name: str) -> tuple[str, str] | None:
    if name.lower() in ("", "off", "none", "false"):
        return None
    return "HTTP_" + name.upper().replace("-", "_"), "https"


# Only trust it behind a proxy that sets it on every request ("off" when
# clients reach gunicorn directly).
SECURE_PROXY_SSL_HEADER = _proxy_ssl_header(
    env(
        "PROW_SECURE_PROXY_SSL_HEADER",
        "X-Forwarded-Proto" if _SERVED_OVER_HTTPS else "off",
    )
)
# The git image of the init container that clones the code of decorated jobs.
PROW_CLONE_IMAGE = env("PROW_CLONE_IMAGE")
# With no cluster, jobs run as local processes; pull request code is refused
# unless this is set, since nothing isolates it.
PROW_LOCAL_EXECUTOR_ALLOW_PULL_REQUESTS = env_bool(
    "PROW_LOCAL_EXECUTOR_ALLOW_PULL_REQUESTS", False
)
# Likewise for jobs a repository defines in its own .prow.yaml: anyone who
# can push there (or, with the setting above, open a pull request) would run
# commands on this machine as the service.
PROW_LOCAL_EXECUTOR_ALLOW_IN_REPO_JOBS = env_bool(
    "PROW_LOCAL_EXECUTOR_ALLOW_IN_REPO_JOBS", False
)
# Logs kept per container; longer logs keep their beginning and say so.
PROW_LOG_MAX_BYTES = env_int("PROW_LOG_MAX_BYTES", 10 * 1024 * 1024)
# A job's $ARTIFACTS kept after it ends: at most this many files and bytes
# in all (what is left out is named in the job's log).
PROW_ARTIFACTS_MAX_FILES = env_int("PROW_ARTIFACTS_MAX_FILES", 1000)
PROW_ARTIFACTS_MAX_BYTES = env_int("PROW_ARTIFACTS_MAX_BYTES", 10 * 1024 * 1024)
# How often Deck's open pages ask for what changed (the job list, a running
# job's page).
PROW_DECK_POLL_SECONDS = env_int("PROW_DECK_POLL_SECONDS", 5)
# Deck, its JSON and the API can be read by anyone; off, reading needs a
# login (or an API token) too.
PROW_DECK_PUBLIC = env_bool("PROW_DECK_PUBLIC", True)
# A filtered job list that takes longer than this is refused with advice.
PROW_DECK_QUERY_MS = env_int("PROW_DECK_QUERY_MS", 2000)
# How often a running job's log is copied while it runs.
PROW_LOG_SNAPSHOT_SECONDS = env_float("PROW_LOG_SNAPSHOT_SECONDS", 30.0)
# How often beat makes plank look at every unfinished job.
PROW_PLANK_RESYNC_SECONDS = env_float("PROW_PLANK_RESYNC_SECONDS", 30.0)
# How often horologium looks for periodics that are due; its decisions allow
# for ticks about this far apart (horologium.tick_interval in the config).
PROW_HOROLOGIUM_TICK_SECONDS = env_float("PROW_HOROLOGIUM_TICK_SECONDS", 60.0)

# Tide: how often beat asks whether a sync is due (tide.sync_period in the
# config decides whether it is), how often the whole scope is read again
# (between, only what GitHub says changed is read), and how long a pool's
# event-driven sync waits for more events before it runs.
PROW_TIDE_TICK_SECONDS = env_float("PROW_TIDE_TICK_SECONDS", 10.0)
PROW_TIDE_FULL_SYNC_SECONDS = env_float("PROW_TIDE_FULL_SYNC_SECONDS", 600.0)
PROW_TIDE_DEBOUNCE_SECONDS = env_float("PROW_TIDE_DEBOUNCE_SECONDS", 1.0)
# A merge GitHub refuses because the base branch just moved is asked again
# after this, doubling; pull requests of a batch are merged this far apart
# so GitHub can settle the previous merge.
PROW_TIDE_MERGE_RETRY_SECONDS = env_float("PROW_TIDE_MERGE_RETRY_SECONDS", 4.0)
PROW_TIDE_BATCH_MERGE_PAUSE_SECONDS = env_float(
    "PROW_TIDE_BATCH_MERGE_PAUSE_SECONDS", 1.0
)
# `tide` statuses one sync may write; the rest follow in the next syncs.
# GitHub writes are spaced (PROW_GITHUB_WRITE_SPACING_SECONDS), so this
# bounds how long a sync takes on a first run over many pull requests.
PROW_TIDE_STATUS_WRITES_PER_SYNC = env_int("PROW_TIDE_STATUS_WRITES_PER_SYNC", 60)
# A sync may merge many pull requests, each a spaced GitHub write.
PROW_TIDE_TASK_TIME_LIMIT = env_int("PROW_TIDE_TASK_TIME_LIMIT", 900)

# A worker answers Prometheus on this port (0: not at all); web answers at
# /metrics.
PROW_METRICS_PORT = env_int("PROW_METRICS_PORT", 0)

PROW_CAT_API_URL = env("PROW_CAT_API_URL", "https://api.thecatapi.com/v1/images/search")
PROW_DOG_API_URL = env("PROW_DOG_API_URL", "https://random.dog/woof.json")
PROW_PONY_API_URL = env(
    "PROW_PONY_API_URL", "https://theponyapi.com/api/v1/pony/random"
)
PROW_JOKE_API_URL = env("PROW_JOKE_API_URL", "https://icanhazdadjoke.com")

# One line per event, "plain" or "json"; while a task runs each line names
# its delivery or ProwJob (prow.logs).
PROW_LOG_FORMAT = env("PROW_LOG_FORMAT", "plain")
if PROW_LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(
        f"PROW_LOG_FORMAT must be plain or json, not {PROW_LOG_FORMAT!r}"
    )
# Where the routine lines prow/logquiet.py demotes come from.
LOGQUIET_LOGGERS = (
    "kombu.connection",
    "celery.beat",
    "celery.worker.strategy",
    "celery.app.trace",
)
# Celery's own log setup would replace these handlers in the worker.
CELERY_WORKER_HIJACK_ROOT_LOGGER = PROW_LOG_FORMAT != "json"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s%(work)s"},
        "json": {"()": "prow.logs.JsonFormatter"},
    },
    "filters": {
        "work": {"()": "prow.logs.WorkFilter"},
        "routine": {"()": "prow.logquiet.DemoteRoutine"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": PROW_LOG_FORMAT,
            "filters": ["work"],
        },
    },
    "root": {"handlers": ["console"], "level": env("PROW_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Routine lines every few seconds, at DEBUG (prow/logquiet.py).
        **{name: {"filters": ["routine"]} for name in LOGQUIET_LOGGERS},
    },
}
