"""Settings, all from the environment (the README lists every variable)."""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from abonnement.core.colours import accent_color

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("ABONNEMENT_DATA_DIR", Path.cwd() / "data")).resolve()


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int, *, minimum: int) -> int:
    """A whole-number setting; a typo or an out-of-range value stops the start with a clear
    message instead of a traceback or a service that silently does nothing."""
    text = os.environ.get(name, str(default)).strip()
    try:
        value = int(text)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {text!r}.") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be {minimum} or more, not {value}.")
    return value


def _secret_key() -> str:
    key = os.environ.get("ABONNEMENT_SECRET_KEY")
    if key:
        return key
    # The demo keeps a generated key in the data folder so sessions survive restarts.
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = _env_bool("ABONNEMENT_DEBUG", False)
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("ABONNEMENT_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")
    if h.strip()
]
# Where people reach this installation: links in e-mails (invitations, password resets) and
# the portal-session links the API hands out start with it.
PUBLIC_URL = os.environ.get("ABONNEMENT_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("ABONNEMENT_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]
# A refused form (typically one left open across a new sign-in) is a page in the portal's or
# the back office's layout that leads back to the form, never Django's technical page.
CSRF_FAILURE_VIEW = "abonnement.core.csrf.csrf_failure"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    # Serves the API docs' Swagger UI assets from the package (no CDN).
    "ninja",
    "django_htmx",
    # Staff's second factor: TOTP authenticators and their one-time recovery codes.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "abonnement.core",
    "abonnement.history",
    "abonnement.catalog",
    "abonnement.organizations",
    "abonnement.accounts",
    "abonnement.subscriptions",
    "abonnement.features",
    "abonnement.billing",
    "abonnement.orders",
    "abonnement.invoicing",
    "abonnement.feedback",
    "abonnement.idempotency",
    "abonnement.notifications",
    "abonnement.backoffice",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # Before anything reads the database: a NUL can't reach PostgreSQL (core/nul.py).
    "abonnement.core.nul.RefuseNulBytes",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "abonnement.accounts.middleware.UserLanguageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Inside the two above, so they read what it decides: which pages may be framed.
    "abonnement.core.embedding.FramingMiddleware",
    "abonnement.core.middleware.DomainErrorPage",
]

ROOT_URLCONF = "abonnement.config.urls"
WSGI_APPLICATION = "abonnement.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "abonnement.core.embedding.branding",
            ],
        },
    },
]

# Every SQLite database, the embedded default or a DATABASE_URL=sqlite:///…: WAL lets
# readers run beside the single writer; IMMEDIATE takes the write lock at BEGIN so
# check-then-write services never deadlock on upgrade; a writer waits up to 20 s for the
# lock instead of failing with "database is locked".
SQLITE_OPTIONS: dict[str, Any] = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
}


def _databases(url: str, data_dir: Path) -> dict[str, dict[str, Any]]:
    """DATABASE_URL (PostgreSQL or SQLite); empty: the embedded SQLite file in the data
    folder. SQLite gets the same options (SQLITE_OPTIONS) however it is named."""
    if url:
        database: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=60))
        if database["ENGINE"] == "django.db.backends.postgresql":
            database.setdefault("TEST", {})
    else:
        data_dir.mkdir(parents=True, exist_ok=True)
        database = {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(data_dir / "abonnement.sqlite3"),
        }
    if database["ENGINE"] == "django.db.backends.sqlite3":
        database["OPTIONS"] = {**SQLITE_OPTIONS, **database.get("OPTIONS", {})}
    return {"default": database}


DATABASE_URL = os.environ.get("DATABASE_URL", "")
DATABASES = _databases(DATABASE_URL, DATA_DIR)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("nl", "Nederlands"), ("fi", "Suomi")]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"
# Periods, deadlines and "today" are read in the vendor's business time zone.
BUSINESS_TIME_ZONE = os.environ.get("ABONNEMENT_TIME_ZONE", "Europe/Helsinki")

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns when it is missing
# Serve the apps' static files (portal CSS, the htmx bundled in django-htmx) without a
# collectstatic step, so `abonnement demo` and `serve` work from a fresh install.
WHITENOISE_USE_FINDERS = True

LOCALE_PATHS = [BASE_DIR / "locale"]

# The customer portal (config/portal_urls.py).
LOGIN_URL = "portal:sign_in"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "portal:sign_in"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]


# The longest-lived password link (an invitation, 7 days); each kind checks its own lifetime
# (accounts/tokens.py: a reset link lasts 1 hour).
PASSWORD_RESET_TIMEOUT = 7 * 24 * 60 * 60


def _caches(url: str) -> dict[str, dict[str, object]]:
    """ABONNEMENT_CACHE_URL: Django's cache, where the API's per-token request counters live
    (failed sign-ins are counted in the database, exactly, whatever the cache).

    The default, ``locmem://``, is each process's own memory: a token's rate limit then
    holds per web process. ``redis://`` is shared by every process and machine, with atomic
    counting.
    """
    scheme = url.partition("://")[0].lower()
    if not url or scheme == "locmem":
        return {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    if scheme in {"redis", "rediss", "unix"}:
        return {
            "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
        }
    raise ImproperlyConfigured(
        f"ABONNEMENT_CACHE_URL: expected redis://host:port/db or locmem://, not {url!r}"
    )


CACHES = _caches(os.environ.get("ABONNEMENT_CACHE_URL", "").strip())
# Sign-in rate limits (failed attempts per window), counted in the database per account and
# per client address (accounts/ratelimit.py). Behind reverse proxies, say how many: the
# client's address is then read from X-Forwarded-For instead of the proxy's own.
TRUSTED_PROXIES = _env_int("ABONNEMENT_TRUSTED_PROXIES", 0, minimum=0)
SIGN_IN_LIMIT_PER_ACCOUNT = _env_int("ABONNEMENT_SIGN_IN_LIMIT_PER_ACCOUNT", 5, minimum=1)
SIGN_IN_LIMIT_PER_ADDRESS = _env_int("ABONNEMENT_SIGN_IN_LIMIT_PER_ADDRESS", 20, minimum=1)
SIGN_IN_LIMIT_WINDOW_SECONDS = _env_int("ABONNEMENT_SIGN_IN_LIMIT_WINDOW", 900, minimum=1)

# Staff (the back office and /admin/) sign in with a password and a TOTP code; the first
# sign-in enrols the authenticator. Off only for the demo (`abonnement demo` turns it off).
# Read strictly: a typo must not switch the second factor off.
_STAFF_MFA = os.environ.get("ABONNEMENT_STAFF_MFA", "on").strip().lower()
if _STAFF_MFA not in {"1", "true", "yes", "on", "0", "false", "no", "off"}:
    raise ImproperlyConfigured(f"ABONNEMENT_STAFF_MFA must be on or off, not {_STAFF_MFA!r}.")
STAFF_MFA = _STAFF_MFA in {"1", "true", "yes", "on"}
OTP_TOTP_ISSUER = "Abonnement"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 12


def _frame_ancestors(text: str) -> list[str]:
    """ABONNEMENT_FRAME_ANCESTORS: who may show the portal in a frame, as CSP sources
    separated by spaces or commas (``https://app.vendor.example``, ``https://*.vendor.example``,
    ``'self'``), or ``'none'``: nobody."""
    sources = []
    for item in text.replace(",", " ").split():
        source = f"'{item.lower()}'" if item.lower() in {"none", "self"} else item
        if source.lower() in {"'none'", "'self'"}:
            sources.append(source.lower())
        elif re.fullmatch(r"(https?://)?(\*\.)?[A-Za-z0-9.-]+(:([0-9]+|\*))?/?|https?:", source):
            sources.append(source.rstrip("/"))
        else:
            raise ImproperlyConfigured(
                f"ABONNEMENT_FRAME_ANCESTORS: {item!r} is not a source such as "
                "https://app.example.com, https://*.example.com, 'self' or 'none'."
            )
    if not sources:
        return ["'none'"]
    if "'none'" in sources and len(sources) > 1:
        raise ImproperlyConfigured("ABONNEMENT_FRAME_ANCESTORS: 'none' cannot be combined.")
    return sources


def _embedding(frame_ancestors: str, *, secure_cookies: bool) -> dict[str, Any]:
    """The Content-Security-Policy of every page and the cookies' SameSite, from who may
    frame the portal (ABONNEMENT_FRAME_ANCESTORS).

    The policy allows only the installation's own scripts, styles and images (no inline
    code), forms posting to itself and, as ``frame-ancestors``, the setting. When someone
    may frame the portal, its cookies must reach it inside a third-party frame:
    SameSite=None, which browsers accept only with Secure (so the portal must be served
    over HTTPS); otherwise (nobody, or only the portal's own pages: ``'self'``) Lax.
    ``core/embedding.py`` keeps the back office and the admin unframeable either way.
    """
    ancestors = _frame_ancestors(frame_ancestors)
    framed = any(source not in ("'none'", "'self'") for source in ancestors)
    same_site = "None" if framed else "Lax"
    return {
        "FRAME_ANCESTORS": ancestors,
        "CONTENT_SECURITY_POLICY": {
            "DIRECTIVES": {
                "default-src": ["'self'"],
                "script-src": ["'self'"],
                "style-src": ["'self'"],
                "img-src": ["'self'", "data:"],
                "font-src": ["'self'"],
                "connect-src": ["'self'"],
                "form-action": ["'self'"],
                "base-uri": ["'self'"],
                "object-src": ["'none'"],
                "frame-ancestors": ancestors,
            }
        },
        "SESSION_COOKIE_SAMESITE": same_site,
        "CSRF_COOKIE_SAMESITE": same_site,
        "SESSION_COOKIE_SECURE": framed or secure_cookies,
        "CSRF_COOKIE_SECURE": framed or secure_cookies,
    }


def _transport_security(
    *, trusted_proxies: int, secure_cookies: bool, hsts_seconds: int
) -> dict[str, Any]:
    """HTTPS behind the settings that say it is there (SecurityMiddleware reads these).

    - Behind reverse proxies (ABONNEMENT_TRUSTED_PROXIES > 0) a request is secure when the
      proxy says so in ``X-Forwarded-Proto: https``; the proxy must set (or overwrite) it.
    - With secure cookies (ABONNEMENT_SECURE_COOKIES: the installation is served over
      HTTPS), HTTPS pages send ``Strict-Transport-Security`` for ABONNEMENT_HSTS_SECONDS
      (one year; 0 turns it off), subdomains of the portal's host included; never
      ``preload``, a listing in the browsers' source that is slow to undo.
    - Plain-HTTP requests are redirected to HTTPS only behind trusted proxies: only there
      can the application tell an HTTPS request from a plain one. Without proxies the
      server itself speaks plain HTTP, so whatever terminates TLS in front of it would get
      a redirect back to HTTPS for every request: a loop.
    """
    behind_proxies = trusted_proxies > 0
    return {
        "SECURE_PROXY_SSL_HEADER": (
            ("HTTP_X_FORWARDED_PROTO", "https") if behind_proxies else None
        ),
        "SECURE_HSTS_SECONDS": hsts_seconds if secure_cookies else 0,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": secure_cookies and hsts_seconds > 0,
        "SECURE_SSL_REDIRECT": secure_cookies and behind_proxies,
    }


_SECURE_COOKIES = _env_bool("ABONNEMENT_SECURE_COOKIES", False)
_EMBEDDING = _embedding(
    os.environ.get("ABONNEMENT_FRAME_ANCESTORS", "'none'"), secure_cookies=_SECURE_COOKIES
)
FRAME_ANCESTORS: list[str] = _EMBEDDING["FRAME_ANCESTORS"]
CONTENT_SECURITY_POLICY = _EMBEDDING["CONTENT_SECURITY_POLICY"]
SESSION_COOKIE_SAMESITE = _EMBEDDING["SESSION_COOKIE_SAMESITE"]
SESSION_COOKIE_SECURE = _EMBEDDING["SESSION_COOKIE_SECURE"]
CSRF_COOKIE_SAMESITE = _EMBEDDING["CSRF_COOKIE_SAMESITE"]
CSRF_COOKIE_SECURE = _EMBEDDING["CSRF_COOKIE_SECURE"]
_TRANSPORT = _transport_security(
    trusted_proxies=TRUSTED_PROXIES,
    secure_cookies=_SECURE_COOKIES,
    hsts_seconds=_env_int("ABONNEMENT_HSTS_SECONDS", 365 * 24 * 60 * 60, minimum=0),
)
SECURE_PROXY_SSL_HEADER: tuple[str, str] | None = _TRANSPORT["SECURE_PROXY_SSL_HEADER"]
SECURE_HSTS_SECONDS: int = _TRANSPORT["SECURE_HSTS_SECONDS"]
SECURE_HSTS_INCLUDE_SUBDOMAINS: bool = _TRANSPORT["SECURE_HSTS_INCLUDE_SUBDOMAINS"]
SECURE_SSL_REDIRECT: bool = _TRANSPORT["SECURE_SSL_REDIRECT"]
# security.W021 asks for SECURE_HSTS_PRELOAD: a submission to the browsers' preload list is
# the vendor's decision (and slow to undo), not a default (see _transport_security).
SILENCED_SYSTEM_CHECKS = ["security.W021"]

# Portal sessions (accounts/portal_sessions.py): how long a link the API makes works, the
# hosts its ``return_url`` may lead to (as ALLOWED_HOSTS: ``.vendor.example`` takes the
# subdomains too; empty refuses every return_url), and the product that "Back to …" names.
PORTAL_SESSION_SECONDS = _env_int("ABONNEMENT_PORTAL_SESSION_SECONDS", 300, minimum=1)
RETURN_URL_HOSTS = [
    h.strip().lower()
    for h in os.environ.get("ABONNEMENT_RETURN_URL_HOSTS", "").split(",")
    if h.strip()
]
# Branding of the portal's chrome: the product's name (top bar, page titles, "Back to …")
# and an accent colour (#rrggbb, dark enough for text on white) served as /branding.css.
PRODUCT_NAME = os.environ.get("ABONNEMENT_PRODUCT_NAME", "").strip() or "Abonnement"
try:
    ACCENT_COLOR = accent_color(os.environ.get("ABONNEMENT_ACCENT_COLOR", ""))
except ValueError as _error:
    raise ImproperlyConfigured(f"ABONNEMENT_ACCENT_COLOR: {_error}.") from None

SIMULATED_CLOCK = _env_bool("ABONNEMENT_SIMULATED_CLOCK", False)

# Single sign-on with OpenID Connect (accounts/sso.py), on when the issuer, client id and
# secret are all set. The provider's discovery document is read at the first sign-in, not
# here. The issuer must be https (plain http only on this machine, for trying it out).
OIDC_ISSUER = os.environ.get("ABONNEMENT_OIDC_ISSUER", "").strip()
OIDC_CLIENT_ID = os.environ.get("ABONNEMENT_OIDC_CLIENT_ID", "").strip()
OIDC_CLIENT_SECRET = os.environ.get("ABONNEMENT_OIDC_CLIENT_SECRET", "").strip()
# The button says "Sign in with <name>"; empty: a translated "single sign-on".
OIDC_NAME = os.environ.get("ABONNEMENT_OIDC_NAME", "").strip()
OIDC_ENABLED = bool(OIDC_ISSUER and OIDC_CLIENT_ID and OIDC_CLIENT_SECRET)
if OIDC_ISSUER and not OIDC_ISSUER.startswith(
    ("https://", "http://localhost:", "http://127.0.0.1:", "http://[::1]:")
):
    raise ImproperlyConfigured(
        f"ABONNEMENT_OIDC_ISSUER must be an https:// address, not {OIDC_ISSUER!r}."
    )

# Without an SMTP server (the demo), each e-mail is written as a file under data/mail/.
EMAIL_BACKEND = os.environ.get(
    "ABONNEMENT_EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if os.environ.get("ABONNEMENT_EMAIL_HOST")
    else "django.core.mail.backends.filebased.EmailBackend",
)
EMAIL_FILE_PATH = DATA_DIR / "mail"
EMAIL_HOST = os.environ.get("ABONNEMENT_EMAIL_HOST", "localhost")
EMAIL_PORT = _env_int("ABONNEMENT_EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = os.environ.get("ABONNEMENT_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("ABONNEMENT_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = _env_bool("ABONNEMENT_EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("ABONNEMENT_EMAIL_FROM", "billing@abonnement.example")

# The vendor that sells and invoices.
SELLER = {
    "name": os.environ.get("ABONNEMENT_SELLER_NAME", "Abonnement Demo Oy"),
    "vat_number": os.environ.get("ABONNEMENT_SELLER_VAT_NUMBER", "FI23456780"),
    "street": os.environ.get("ABONNEMENT_SELLER_STREET", "Mannerheimintie 1"),
    "postal_code": os.environ.get("ABONNEMENT_SELLER_POSTAL_CODE", "00100"),
    "city": os.environ.get("ABONNEMENT_SELLER_CITY", "Helsinki"),
    "country": os.environ.get("ABONNEMENT_SELLER_COUNTRY", "FI"),
    "iban": os.environ.get("ABONNEMENT_SELLER_IBAN", "FI2112345600000785"),
    "bic": os.environ.get("ABONNEMENT_SELLER_BIC", "NDEAFIHH"),
}

TASKS = {
    "default": {
        "BACKEND": os.environ.get("ABONNEMENT_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

# REST API. Requests per token: "N/s", "N/min", "N/hour" or "N/day"; "off" disables it.
API_RATE_LIMIT = os.environ.get("ABONNEMENT_API_RATE_LIMIT", "1200/min")
# A VAT-number transfer carries a PDF of up to 10 MB, base64-encoded in the JSON body.
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024

# Webhooks: exponential backoff from WEBHOOK_RETRY_BASE_SECONDS, doubling per attempt.
WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("ABONNEMENT_WEBHOOK_TIMEOUT", "10"))
WEBHOOK_MAX_ATTEMPTS = _env_int("ABONNEMENT_WEBHOOK_MAX_ATTEMPTS", 10, minimum=1)
WEBHOOK_RETRY_BASE_SECONDS = float(os.environ.get("ABONNEMENT_WEBHOOK_RETRY_BASE", "60"))
WEBHOOK_RETRY_MAX_SECONDS = float(os.environ.get("ABONNEMENT_WEBHOOK_RETRY_MAX", "21600"))
WEBHOOK_DISABLE_AFTER_FAILURES = 10

ROLLOVER_BATCH_SIZE = _env_int("ABONNEMENT_ROLLOVER_BATCH_SIZE", 5000, minimum=1)
# Sweeps that `abonnement rollover` runs side by side on PostgreSQL (SQLite always uses one).
ROLLOVER_WORKERS = _env_int("ABONNEMENT_ROLLOVER_WORKERS", min(4, os.cpu_count() or 1), minimum=1)
MAX_LICENSES = 100_000
# Endpoints must resolve to public addresses (checked at registration and at each delivery);
# on: any address, e.g. a receiver on this machine or the local network (development).
WEBHOOK_ALLOW_PRIVATE = _env_bool("ABONNEMENT_WEBHOOK_ALLOW_PRIVATE")
# How often a running `abonnement worker` runs the due rollovers and reminders (seconds;
# 0 switches the timetable off, for installations that run them from cron instead).
SCHEDULE_SECONDS = _env_int("ABONNEMENT_SCHEDULE_SECONDS", 300, minimum=0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("ABONNEMENT_LOG_LEVEL", "WARNING")},
}

# Documents (invoicing app): the official e-invoice rules (XSD + CEN + Peppol schematron),
# the folder the built-in operator adapter writes to, payment terms and reminders.
EINVOICE_RULES_DIR = Path(
    os.environ.get(
        "ABONNEMENT_EINVOICE_RULES_DIR",
        BASE_DIR.parent.parent.parent / "shared" / "einvoice-rules",
    )
)
ABONNEMENT_OUTBOX_DIR = Path(os.environ.get("ABONNEMENT_OUTBOX_DIR", DATA_DIR / "outbox"))
PAYMENT_TERMS_DAYS = _env_int("ABONNEMENT_PAYMENT_TERMS_DAYS", 14, minimum=0)
REMINDER_DAYS = _env_int("ABONNEMENT_REMINDER_DAYS", 14, minimum=0)
# Delivery adapters per channel (dotted paths); "einvoice" gets the UBL and its routing.
DELIVERY_ADAPTERS = {
    "email": os.environ.get(
        "ABONNEMENT_EMAIL_ADAPTER", "abonnement.invoicing.delivery.EmailAdapter"
    ),
    "einvoice": os.environ.get(
        "ABONNEMENT_EINVOICE_ADAPTER", "abonnement.invoicing.delivery.OutboxAdapter"
    ),
}
DELIVERY_MAX_ATTEMPTS = _env_int("ABONNEMENT_DELIVERY_MAX_ATTEMPTS", 8, minimum=1)
DELIVERY_RETRY_BASE_SECONDS = float(os.environ.get("ABONNEMENT_DELIVERY_RETRY_BASE", "60"))
