"""Configuration layers: these defaults, then instance/config.py, then TRAINER_* variables."""

from datetime import timedelta

DEFAULT_SECRET_KEY = "dev-only-insecure-key"  # noqa: S105 (refused in production)


class Defaults:
    SECRET_KEY = DEFAULT_SECRET_KEY
    PRODUCTION = False
    # Filled in by create_app when not set: SQLite in the instance folder.
    DATABASE_URL = None
    SQL_ECHO = False

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = False
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    WTF_CSRF_TIME_LIMIT = None
    MAX_CONTENT_LENGTH = 8 * 1024 * 1024

    # Insights: the org level whose units the dashboard compares (team, site or region).
    INSIGHTS_LEVEL = "team"
    # Where a web request works out an analysis nothing has stored yet: "process" runs it in a
    # short-lived process of its own, so web workers never load numpy, pandas, scipy and
    # statsmodels (about 150 MB each); "inline" runs it in the web worker (the tests' choice).
    INSIGHTS_COMPUTE = "process"

    # Sign-in
    LOGIN_MAX_FAILURES = 5
    LOGIN_LOCK_MINUTES = 15
    INVITE_MAX_AGE_HOURS = 72
    RESET_MAX_AGE_MINUTES = 60
    # Single sign-on with OpenID Connect (trainer.auth.sso): on when OIDC_ISSUER is set.
    OIDC_ISSUER = None  # e.g. https://login.example.com/realms/staff (discovery: .well-known)
    OIDC_CLIENT_ID = None
    OIDC_CLIENT_SECRET = None
    OIDC_NAME = None  # the button reads "Sign in with <OIDC_NAME>" ("your company account")
    OIDC_SCOPE = "openid email profile"
    # Passwords off for everyone but BREAK_GLASS_EMAILS (emergency admin accounts).
    SSO_ONLY = False
    BREAK_GLASS_EMAILS = ()
    # Sign-in cards and kiosk mode (trainer.kiosk): a card lasts until the survey it was printed
    # for closes, at most this many days; a kiosk session ends after this long without input;
    # wrong codes from one address are limited like passwords, to this many per lock period.
    CARD_VALID_DAYS = 30
    KIOSK_IDLE_SECONDS = 120
    KIOSK_MAX_FAILURES = 20

    # Email: with no MAIL_SERVER, messages wait in the outbox, shown on /dev/mail (development).
    MAIL_SERVER = None
    MAIL_PORT = 25
    MAIL_USERNAME = None
    MAIL_PASSWORD = None
    MAIL_USE_TLS = False
    MAIL_SENDER = "trainer@localhost"
    # The outbox (trainer.mail): the scheduler drains it unless a `flask mail-sender` process
    # does; a message claimed by a sender that died is sent again after the claim expires.
    OUTBOX_IN_SCHEDULER = True
    OUTBOX_POLL_SECONDS = 10
    OUTBOX_CLAIM_SECONDS = 120

    # The single scheduler: its lease (SQLite) expires this long after its last renewal.
    SCHEDULER_LEASE_SECONDS = 15
    LOG_LEVEL = "INFO"
    # The address people open trainer at, for links in emails. Unset, it is built from HOST and
    # PORT, where the development server listens (`make run HOST=... PORT=...` sets both);
    # production refuses to start without it.
    BASE_URL = None
    HOST = "127.0.0.1"
    PORT = 5000

    # Anonymity floors may be raised here, never lowered (see trainer.anonymity).
    MIN_GROUP_SCORES = 5
    MIN_GROUP_COMMENTS = 10

    # Sealed pool (trainer.seal): the web process reads only the public key; the private key
    # is read by the scheduler alone. Both default to files in the instance folder.
    SEAL_PUBLIC_KEY = None  # the public key itself (base64), instead of the file
    SEAL_PUBLIC_KEY_FILE = None
    SEAL_PRIVATE_KEY_FILE = None

    COURSES_DIR = None  # defaults to the library shipped in the package, trainer/courses
    # The most people the import and SCIM may deactivate within 24 hours, as a share of those
    # active a day ago (more is refused; SCIM refusals email HR).
    PEOPLE_IMPORT_MAX_DEACTIVATE_SHARE = 0.2
    # Uploads with more rows than this are imported by the scheduler, with a progress page;
    # uploads over PEOPLE_IMPORT_MAX_ROWS are refused (the CLI has no limit).
    PEOPLE_IMPORT_BACKGROUND_ROWS = 2_000
    PEOPLE_IMPORT_MAX_ROWS = 50_000

    # Privacy: erasing a person keeps their certificates (with their name) only if True.
    ERASE_KEEP_CERTIFICATES = False
    # Retention schedule, in days (trainer.privacy); None keeps that data for ever.
    RETENTION_INVITATIONS_DAYS = 90  # survey invitations, after the cycle closes
    RETENTION_PARTICIPATION_DAYS = 7  # who took part, after the cycle's window ends
    RETENTION_LOGIN_THROTTLE_DAYS = 30  # failed sign-in counts, after the last failure
    RETENTION_OUTBOX_DAYS = 30  # sent and failed emails
    RETENTION_AUDIT_DAYS = 730  # audit log entries
    RETENTION_INACTIVE_PEOPLE_DAYS = 365  # inactive accounts are erased after this


def development_base_url(host: str, port: int | str) -> str:
    """The address of the development server listening on host:port, for emailed links."""
    if host in ("", "0.0.0.0", "::"):  # noqa: S104 (listening everywhere: link to this machine)
        host = "127.0.0.1"
    elif ":" in host:  # an IPv6 address
        host = f"[{host}]"
    return f"http://{host}:{port}"


class Production(Defaults):
    PRODUCTION = True
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
