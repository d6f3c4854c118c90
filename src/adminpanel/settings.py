"""The one settings module, read from ADMINPANEL_* environment variables (SPEC §9)."""

import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from adminpanel import keyfiles

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("ADMINPANEL_DATA_DIR", "var")).resolve()

SECRET_KEY = keyfiles.secret_key(DATA_DIR)
ENCRYPTION_KEYS = keyfiles.encryption_keys(DATA_DIR)
# DKIM private keys have keys of their own: the mail host's signer must decrypt them, and must
# not hold what decrypts every TOTP key (mail.dkim, mailserver.dkim).
DKIM_ENCRYPTION_KEYS = keyfiles.encryption_keys(DATA_DIR, "dkim_encryption_keys")
# Keys the digests of app passwords (mail.app_passwords) and goes into Dovecot's passdb file.
APP_PASSWORD_PEPPER = keyfiles.app_password_pepper(DATA_DIR)
TOTP_ISSUER = os.environ.get("ADMINPANEL_TOTP_ISSUER", "Admin Panel")
# WebAuthn relying party (SPEC §11). Unset: the host name and origin the panel is reached by.
WEBAUTHN_RP_ID = os.environ.get("ADMINPANEL_WEBAUTHN_RP_ID", "").strip().lower()
WEBAUTHN_ORIGINS = [
    o.strip().rstrip("/")
    for o in os.environ.get("ADMINPANEL_WEBAUTHN_ORIGINS", "").split(",")
    if o.strip()
]

DEBUG = os.environ.get("ADMINPANEL_DEBUG") == "1"
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("ADMINPANEL_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",")
    if h.strip()
]
# Proxies (addresses or CIDR ranges) whose X-Forwarded-For we believe.
TRUSTED_PROXIES = [
    p.strip() for p in os.environ.get("ADMINPANEL_TRUSTED_PROXIES", "").split(",") if p.strip()
]
# Besides loopback, who may read /metrics (addresses or CIDR ranges).
METRICS_ALLOWED_IPS = [
    p.strip() for p in os.environ.get("ADMINPANEL_METRICS_ALLOWED_IPS", "").split(",") if p.strip()
]
# Over HTTPS (`serve --certfile`, or X-Forwarded-Proto from a trusted proxy) browsers are told
# to come back only over HTTPS for a year; 0 turns the header off.
SECURE_HSTS_SECONDS = int(os.environ.get("ADMINPANEL_HSTS_SECONDS", str(365 * 24 * 3600)))

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "adminpanel.people",
    "adminpanel.accounts",
    "adminpanel.twofactor",
    "adminpanel.login",
    "adminpanel.security",
    "adminpanel.subadmins",
    "adminpanel.audit",
    "adminpanel.logs",
    "adminpanel.mail",
    "adminpanel.mailserver",
    "adminpanel.owners",
    "adminpanel.api",
    "adminpanel.notices",
    "adminpanel.ops",
    "ninja",  # its bundled Swagger UI assets: the API docs are served locally, no CDN
]

MIDDLEWARE = [
    "adminpanel.ops.middleware.RequestLogMiddleware",
    "adminpanel.middleware.ForwardedProtoMiddleware",
    "adminpanel.middleware.DatabaseUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "adminpanel.middleware.SecurityHeadersMiddleware",
    # Mail clients' autoconfiguration, under any autoconfig./autodiscover. name (mail.autoconfig).
    "adminpanel.mail.autoconfig.AutoconfigMiddleware",
    "adminpanel.middleware.HostPrefixCookiesMiddleware",
    "adminpanel.api.middleware.ApiMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "adminpanel.middleware.FormTooLargeMiddleware",
    "adminpanel.login.middleware.SessionLifetimeMiddleware",
    "adminpanel.login.middleware.PolicyGateMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "adminpanel.urls"
WSGI_APPLICATION = "adminpanel.wsgi.application"

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
                "adminpanel.menu.menu",
                "adminpanel.owners.menu.owner_menu",
                "adminpanel.twofactor.context.security_keys",
            ],
        },
    }
]


def _database(url: str | None) -> dict:
    if url:
        db = dj_database_url.parse(url, conn_max_age=600, conn_health_checks=True)
        if db["ENGINE"] == "django.db.backends.postgresql":
            db["ENGINE"] = "adminpanel.postgresql"  # Django's, with a cheaper health check
            # Parameters bound by the server and statements prepared after 5 uses: about 40%
            # less database CPU per login (benchmarks/code.py). `?server_side_binding=false`
            # in the URL turns both off, e.g. behind a PgBouncer that cannot prepare.
            options = db.setdefault("OPTIONS", {})
            options.setdefault("server_side_binding", True)
            if options["server_side_binding"]:
                options.setdefault("prepare_threshold", 5)
        return db
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": keyfiles.private_file(DATA_DIR / "adminpanel.sqlite3"),
        # Opening the file and running the PRAGMAs on every request would cost more than the
        # request itself; a worker keeps its connection.
        "CONN_MAX_AGE": 600,
        # A file, not memory, so tests can hit it from many threads at once.
        "TEST": {"NAME": str(DATA_DIR / "test.sqlite3")},
        "OPTIONS": {
            # Every write transaction takes the database lock at BEGIN, so check-then-update
            # of security state is serialized exactly like SELECT ... FOR UPDATE on PostgreSQL.
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }


DATABASES = {"default": _database(os.environ.get("ADMINPANEL_DATABASE_URL"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.Account"
# The kinds of person who sign in (people.kinds): Person.kind -> what follows a change of its
# second factor. A new kind of person adds its line here (README "A new kind of person").
PERSON_KINDS = {
    "account": "adminpanel.accounts.person.AccountKind",
    "mailbox": "adminpanel.owners.owner.MailboxKind",
}
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
LOGIN_URL = "/login"
LOGIN_REDIRECT_URL = "/"

PASSWORD_HASHERS = ["adminpanel.accounts.hashers.Argon2idHasher"]
# OWASP's floor for Argon2id; Django's default of 100 MiB per hash turns a burst of logins
# into a memory hazard.
# The mail host's name, as mail clients and DNS records name it (SPEC §15).
MAIL_HOST = os.environ.get("ADMINPANEL_MAIL_HOST", "").strip().rstrip(".").lower() or "localhost"
# The RSA size of a new domain's DKIM key: RFC 8301's recommendation (1024 is its floor).
DKIM_KEY_BITS = 2048
# A deleted mailbox's mail is kept this many days before the purge (SPEC §16).
MAIL_RETENTION_DAYS = int(os.environ.get("ADMINPANEL_MAIL_RETENTION_DAYS", "30"))

ARGON2_MEMORY_KIB = int(os.environ.get("ADMINPANEL_ARGON2_MEMORY_KIB", "19456"))
ARGON2_TIME_COST = int(os.environ.get("ADMINPANEL_ARGON2_TIME_COST", "2"))
ARGON2_PARALLELISM = int(os.environ.get("ADMINPANEL_ARGON2_PARALLELISM", "1"))

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Sessions live in the database so any instance serves any request. They end after 1 hour
# idle (the cookie/row age, refreshed by SessionLifetimeMiddleware) and 24 hours after login.
SESSION_ENGINE = "adminpanel.sessions"  # Django's database sessions, fewer writes
SESSION_COOKIE_AGE = 3600 + 60  # the idle limit plus the granularity of its refresh
SESSION_IDLE_SECONDS = 3600
SESSION_ABSOLUTE_SECONDS = 24 * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_NAME = "adminpanel_session"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "adminpanel.views.csrf_failure"

# The password step of a 2FA login is pending this long; a setup QR code lives this long.
PENDING_LOGIN_SECONDS = 5 * 60
PENDING_SETUP_SECONDS = 10 * 60
# A WebAuthn challenge (security key or passkey) is accepted this long, once.
WEBAUTHN_CHALLENGE_SECONDS = 5 * 60

X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

# Request bodies: 1 MiB (forms and the API, refused before anything reads them), except a
# mailbox CSV import (SPEC §16: 10,000 lines of password hashes are about 1.6 MB). Django's own
# guard is set to the larger limit; adminpanel.middleware.body_limit applies the right one.
BODY_LIMIT = 1024 * 1024
IMPORT_BODY_LIMIT = 4 * 1024 * 1024
IMPORT_PATHS = ("/users/import", "/api/v1/users/import")
DATA_UPLOAD_MAX_MEMORY_SIZE = IMPORT_BODY_LIMIT
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200


def _smtp(url: str) -> dict:
    """Django's e-mail settings from ADMINPANEL_SMTP_URL: smtp://user:pass@host:587 (STARTTLS
    whenever the server offers it) or smtps://user:pass@host:465 (TLS from the first byte)."""
    if not url:
        return {}
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname or port == -1:
        raise ImproperlyConfigured(
            "ADMINPANEL_SMTP_URL must look like smtp://user:password@host:587 "
            "or smtps://user:password@host:465."
        )
    return {
        "EMAIL_HOST": parts.hostname,
        "EMAIL_PORT": port or (465 if parts.scheme == "smtps" else 25),
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_SSL": parts.scheme == "smtps",
    }


# Notices by e-mail (SPEC §12): off until the operator names an SMTP server.
_mail = _smtp(os.environ.get("ADMINPANEL_SMTP_URL", "").strip())
NOTICES_ENABLED = bool(_mail)
EMAIL_BACKEND = "adminpanel.notices.mailer.SmtpBackend"
EMAIL_HOST = _mail.get("EMAIL_HOST", "localhost")
EMAIL_PORT = _mail.get("EMAIL_PORT", 25)
EMAIL_HOST_USER = _mail.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _mail.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_SSL = _mail.get("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = 20
DEFAULT_FROM_EMAIL = os.environ.get("ADMINPANEL_MAIL_FROM", "").strip() or (
    "Admin Panel <adminpanel@localhost>"
)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise scans it; assets come from finders
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = False

# One line per request and per audit event on standard output (adminpanel/ops/logs.py);
# ADMINPANEL_LOG_FORMAT=json makes every line, warnings included, a JSON object.
LOG_FORMAT = os.environ.get("ADMINPANEL_LOG_FORMAT", "text")
_FORMATTER = "json" if LOG_FORMAT == "json" else "text"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "text": {"()": "adminpanel.ops.logs.TextFormatter", "format": "%(message)s"},
        "json": {"()": "adminpanel.ops.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": _FORMATTER},
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": _FORMATTER,
        },
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    # Request bodies (passwords, codes) are never logged: Django logs only paths and statuses.
    "loggers": {
        "adminpanel.requests": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
        "adminpanel.events": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
        "tornado.access": {"level": "CRITICAL"},  # the request lines above say it all
        "django.security": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        # 403/404 are answers, not incidents: the audit log records what matters.
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
    },
}
