"""Settings shared by every environment; each value comes from the environment."""

from __future__ import annotations

from pathlib import Path

from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

from .env import database_from_url, env_bool, env_days_by_name, env_int, env_list, env_str, env_trusted_proxies

PACKAGE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("VANGNET_DATA_DIR", str(Path.cwd() / "var")))

SECRET_KEY = env_str("VANGNET_SECRET_KEY")
DEBUG = env_bool("VANGNET_DEBUG", False)
ALLOWED_HOSTS = env_list("VANGNET_ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("VANGNET_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "formtools",
    "axes",
    "django_tasks_db",
    "crontask",
    "vangnet.common",
    "vangnet.audit",
    "vangnet.accounts",
    "vangnet.taxonomy",
    "vangnet.directory",
    "vangnet.cases",
    "vangnet.intake",
    "vangnet.hashing",
    "vangnet.evidence",
    "vangnet.notices",
    "vangnet.moderation",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "vangnet.common.middleware.NoStoreMiddleware",
    "axes.middleware.AxesMiddleware",
    "django_ratelimit.middleware.RatelimitMiddleware",
    # Refuses a request larger than VANGNET_UPLOAD_MAX_BYTES before its body is read (before the CSRF check).
    "vangnet.common.uploads.UploadLimitMiddleware",
]

ROOT_URLCONF = "vangnet.config.urls"
WSGI_APPLICATION = "vangnet.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "vangnet.common.context_processors.safety",
            ],
        },
    }
]

_DATABASE_URL = env_str("VANGNET_DATABASE_URL", "")
if not _DATABASE_URL:  # the zero-set-up default: SQLite in the data folder
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    _DATABASE_URL = f"sqlite:///{DATA_DIR / 'vangnet.sqlite3'}"
DATABASES = {"default": database_from_url(_DATABASE_URL)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    # A database cache is shared by every server process, so rate limits hold across workers.
    "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "vangnet_cache"},
}

TASKS = {
    "default": {"BACKEND": "django_tasks_db.DatabaseBackend"},
}

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "cases:queue"
LOGOUT_REDIRECT_URL = "accounts:login"

# Staff login throttling (django-axes, see vangnet.accounts.throttle): lock a username+address
# pair after 5 failures, and an address for every username after 20 failures across usernames
# (password spraying).
AXES_HANDLER = "vangnet.accounts.throttle.LoginThrottleHandler"
AXES_FAILURE_LIMIT = env_int("VANGNET_LOGIN_FAILURE_LIMIT", 5)
VANGNET_LOGIN_ADDRESS_FAILURE_LIMIT = env_int("VANGNET_LOGIN_ADDRESS_FAILURE_LIMIT", 20)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], ["ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False

LANGUAGE_CODE = "nl"
LANGUAGES = [("nl", _("Dutch")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Europe/Amsterdam"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    # Sealed evidence files (vangnet.evidence): written durably; an S3-compatible backend can replace it.
    "evidence": {"BACKEND": "vangnet.evidence.storage.DurableFileSystemStorage",
                 "OPTIONS": {"location": str(DATA_DIR / "evidence")}},
}

# Security headers on every response.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"  # no-referrer makes Chrome send "Origin: null", which CSRF refuses
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_ENGINE = "vangnet.common.sessions"  # encrypted at rest
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 60 * 60 * 4  # a reporter's half-finished report lives four hours at most
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
CSRF_COOKIE_HTTPONLY = True
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

# Request sizes, set deliberately. Everything but files (a report, a JSON body) stays small.
DATA_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200
# API endpoints whose JSON carries images (base64) take larger bodies than DATA_UPLOAD_MAX_MEMORY_SIZE:
# path prefix -> bytes. The moderation check takes up to 64 items, each with an image of at most 4 MiB.
VANGNET_MODERATION_MAX_BODY_BYTES = env_int("VANGNET_MODERATION_MAX_BODY_BYTES", 16 * 1024 * 1024)
# The shared hash bank that removed intimate images of adults join (hashes only), for platforms to match.
VANGNET_NCII_BANK = env_str("VANGNET_NCII_BANK", "ncii")
# Moderation retention (moderation.retention): content of decided items, notices and appeals; item rows.
VANGNET_MODERATION_CONTENT_DAYS = env_int("VANGNET_MODERATION_CONTENT_DAYS", 200)
VANGNET_MODERATION_HISTORY_DAYS = env_int("VANGNET_MODERATION_HISTORY_DAYS", 365)
# The most requests per minute a platform key may be given (a policy manager sets each key's own rate).
VANGNET_MODERATION_MAX_KEY_RATE = env_int("VANGNET_MODERATION_MAX_KEY_RATE", 6000)
VANGNET_LARGE_JSON_BODIES = {"/api/v1/moderation/": VANGNET_MODERATION_MAX_BODY_BYTES}
# Evidence uploads: one request carries at most VANGNET_UPLOAD_MAX_BYTES (checked from Content-Length
# before the body is read: vangnet.common.uploads), each file at most evidence.services.MAX_FILE_BYTES
# (25 MB), at most VANGNET_UPLOAD_MAX_FILES files per form (a friendly error) and never more than
# DATA_UPLOAD_MAX_NUMBER_FILES (Django's hard stop, a plain 400). Uploaded files stay in memory, never in
# a temporary file: the vault seals them before they reach a disk, and sexual images of a minor must
# never be written anywhere. The per-request limit bounds that memory.
VANGNET_UPLOAD_MAX_BYTES = env_int("VANGNET_UPLOAD_MAX_BYTES", 64 * 1024 * 1024)
VANGNET_UPLOAD_MAX_FILES = 10
DATA_UPLOAD_MAX_NUMBER_FILES = 50
FILE_UPLOAD_MAX_MEMORY_SIZE = VANGNET_UPLOAD_MAX_BYTES
FILE_UPLOAD_HANDLERS = ["django.core.files.uploadhandler.MemoryFileUploadHandler"]

MAILERS = {
    "default": {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": env_str("VANGNET_EMAIL_HOST", "127.0.0.1"),
            "port": env_int("VANGNET_EMAIL_PORT", 25),
            "username": env_str("VANGNET_EMAIL_USER", "") or None,
            "password": env_str("VANGNET_EMAIL_PASSWORD", "") or None,
            "use_tls": env_bool("VANGNET_EMAIL_USE_TLS", False),
            "timeout": 20,
        },
    },
}
DEFAULT_FROM_EMAIL = env_str("VANGNET_FROM_EMAIL", "vangnet <noreply@vangnet.invalid>")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("VANGNET_LOG_LEVEL", "INFO")},
    # The scheduler logs every run of a job at INFO (every two seconds for the chainer): keep warnings only.
    "loggers": {"django.request": {"level": "ERROR"}, "apscheduler": {"level": "WARNING"}},
}

# Master keys that wrap each evidence file's own key (see vangnet.evidence.vault); derived if empty.
VANGNET_EVIDENCE_KEYS = env_str("VANGNET_EVIDENCE_KEYS", "")
# An RFC 3161 timestamp authority for evidence bundles (optional; see vangnet.evidence.timestamp):
# its URL, and the PEM file of its certificate to check every answer against.
VANGNET_TIMESTAMP_URL = env_str("VANGNET_TIMESTAMP_URL", "")
VANGNET_TIMESTAMP_CERTIFICATE = env_str("VANGNET_TIMESTAMP_CERTIFICATE", "")
# Keys for personal text at rest (see vangnet.common.crypto); derived from SECRET_KEY if empty.
VANGNET_FIELD_ENCRYPTION_KEYS = env_list("VANGNET_FIELD_ENCRYPTION_KEYS", [])
# Keys for the keyed hash of normalised URLs (see vangnet.common.crypto.url_hash_keys); derived
# from SECRET_KEY if empty.
VANGNET_URL_HASH_KEYS = env_list("VANGNET_URL_HASH_KEYS", [])

# Fetching URLs that people chose (vangnet.common.safefetch: evidence capture) never reaches
# loopback, private or other non-public addresses. Only tests switch loopback on, to fetch from
# servers they start themselves; nothing reads this from the environment.
VANGNET_FETCH_ALLOW_LOOPBACK = False

# Domain settings.
VANGNET_SITE_URL = env_str("VANGNET_SITE_URL", "http://127.0.0.1:8000")
VANGNET_QUICK_EXIT_URL = env_str("VANGNET_QUICK_EXIT_URL", "https://www.google.com/search?q=weerbericht")
# Personal data of a closed case is erased this many days after closing (vangnet apply_retention).
VANGNET_RETENTION_DAYS = env_int("VANGNET_RETENTION_DAYS", 365)
# Notices (vangnet.notices): hours after sending until a notice is past its deadline (a reminder, then a
# follow-up); shorter for a trusted flagger's notice, which the provider must treat with priority (DSA Art. 22).
VANGNET_NOTICE_DEADLINE_HOURS = env_int("VANGNET_NOTICE_DEADLINE_HOURS", 72)
VANGNET_NOTICE_TRUSTED_DEADLINE_HOURS = env_int("VANGNET_NOTICE_TRUSTED_DEADLINE_HOURS", 24)
# The mailbox providers reply to (vangnet.notices.mailbox): the worker polls it every two minutes over IMAP
# and matches each reply to its notice. Off while VANGNET_IMAP_HOST is empty. TLS from the first byte
# (USE_SSL, port 993) or STARTTLS; a password is never sent in the clear except to a loopback address.
# CA_FILE: certificates to trust instead of the system's (a helpline's own mail server). Taken-in messages
# move to PROCESSED_FOLDER (created if missing); empty leaves them in FOLDER, marked as read.
VANGNET_IMAP_HOST = env_str("VANGNET_IMAP_HOST", "")
VANGNET_IMAP_PORT = env_int("VANGNET_IMAP_PORT", 993)
VANGNET_IMAP_USER = env_str("VANGNET_IMAP_USER", "")
VANGNET_IMAP_PASSWORD = env_str("VANGNET_IMAP_PASSWORD", "")
VANGNET_IMAP_USE_SSL = env_bool("VANGNET_IMAP_USE_SSL", True)
VANGNET_IMAP_USE_STARTTLS = env_bool("VANGNET_IMAP_USE_STARTTLS", False)
VANGNET_IMAP_CA_FILE = env_str("VANGNET_IMAP_CA_FILE", "")
VANGNET_IMAP_FOLDER = env_str("VANGNET_IMAP_FOLDER", "INBOX")
VANGNET_IMAP_PROCESSED_FOLDER = env_str("VANGNET_IMAP_PROCESSED_FOLDER", "vangnet-processed")
VANGNET_IMAP_TIMEOUT = env_int("VANGNET_IMAP_TIMEOUT", 30)
# Where the last steps of the escalation ladder point the handler (the Dutch data-protection authority, the police).
VANGNET_DPA_COMPLAINT_URL = env_str("VANGNET_DPA_COMPLAINT_URL", "https://autoriteitpersoonsgegevens.nl")
VANGNET_POLICE_REPORT_URL = env_str("VANGNET_POLICE_REPORT_URL", "https://www.politie.nl")
# Evidence files (vangnet.evidence), per kind: this many days after the case closed, the daily
# housekeeping deletes the stored bytes and the file's name and source URL. The item's row stays
# with its hashes, size, type and times, and its custody events: a hash cannot show the picture,
# but it recognises the same picture when it is posted again, and the custody chain stays whole.
# Captures of a URL (made by staff, whatever their kind) use "capture". A case on legal hold keeps
# everything. Override some: VANGNET_EVIDENCE_RETENTION_DAYS="image=90,capture=730". Defaults:
# - image, video: 180 days. Often intimate images of her, the most harmful data the system holds if
#   it leaks, and a screenshot cannot be told from a photograph, so every image gets the strict
#   period. The kept hashes do the re-upload recognition without them; half a year after closing
#   leaves time to make the export for police (longer: a legal hold).
# - document, text, archive: as long as her personal data (VANGNET_RETENTION_DAYS): chats and PDFs
#   are her account of what happened, erased together with the case's texts.
# - capture: as long as the case file too. A capture proves what a provider hosted and when, which
#   a notice's follow-up and an escalation lean on; it may show the same pictures, so not longer.
VANGNET_EVIDENCE_RETENTION_DAYS = env_days_by_name("VANGNET_EVIDENCE_RETENTION_DAYS", {
    "image": 180, "video": 180, "document": VANGNET_RETENTION_DAYS, "text": VANGNET_RETENTION_DAYS,
    "archive": VANGNET_RETENTION_DAYS, "capture": VANGNET_RETENTION_DAYS})
VANGNET_MAX_DESCRIPTION_CHARS = 8000
VANGNET_MAX_URLS = 20
VANGNET_MAX_URL_CHARS = 2000
# Rate limits for the public, unauthenticated entry points (django-ratelimit syntax).
VANGNET_REPORT_RATE = env_str("VANGNET_REPORT_RATE", "20/h")
VANGNET_API_REPORTS_PER_MINUTE = env_int("VANGNET_API_REPORTS_PER_MINUTE", 600)  # per partner token
VANGNET_API_EVIDENCE_PER_MINUTE = env_int("VANGNET_API_EVIDENCE_PER_MINUTE", 120)  # evidence uploads per token
VANGNET_FOLLOWUP_IP_RATE = env_str("VANGNET_FOLLOWUP_IP_RATE", "30/h")
# Uploads of evidence from the public pages (report step, follow-up page), per client address.
VANGNET_UPLOAD_RATE = env_str("VANGNET_UPLOAD_RATE", "60/h")
VANGNET_FOLLOWUP_CODE_FAILURES = env_int("VANGNET_FOLLOWUP_CODE_FAILURES", 5)
VANGNET_FOLLOWUP_LOCKOUT_SECONDS = env_int("VANGNET_FOLLOWUP_LOCKOUT_SECONDS", 15 * 60)
RATELIMIT_VIEW = "vangnet.common.views.rate_limited"
# The client address behind reverse proxies (see vangnet.common.clientip): 0 = no proxy (the
# default; X-Forwarded-For is ignored), a number of proxies, or the proxies' networks. The rate
# limits and the staff log-in throttle both use the one function.
VANGNET_TRUSTED_PROXIES = env_trusted_proxies("VANGNET_TRUSTED_PROXIES")
RATELIMIT_IP_META_KEY = "vangnet.common.clientip.client_ip"
AXES_CLIENT_IP_CALLABLE = "vangnet.common.clientip.client_ip"
