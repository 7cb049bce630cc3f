"""Settings, read once from the environment (and ``.env`` through python-dotenv). Secrets come only
from here and are never logged: ``repr(settings)`` masks them."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain.durations import parse_duration
from bot.domain.errors import DomainError
from bot.domain.fields import parse_optional_minutes, parse_overage_policy, parse_overdraft, parse_price
from bot.domain.thresholds import DEFAULT_THRESHOLDS, format_thresholds, parse_thresholds
from bot.domain.worktypes import parse_work_type

DEFAULT_DATABASE_URL = "sqlite:///blocktime.db"
SLACK_API_URL = "https://slack.com/api/"
AUTOTASK_ZONE_URL = "https://webservices.autotask.net/ATServicesRest/V1.0/zoneInformation"
STRIPE_API_URL = "https://api.stripe.com"
STRIPE_CHECKOUT_ORIGIN = "https://checkout.stripe.com"


class ConfigError(Exception):
    """A setting has a value the bot cannot use; the message names the setting."""


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    slack_bot_token: str | None = field(default=None, repr=False)
    slack_signing_secret: str | None = field(default=None, repr=False)
    slack_app_token: str | None = field(default=None, repr=False)
    slack_api_url: str = SLACK_API_URL
    port: int = 3000
    workers: int = 1
    listener_threads: int = 4
    admins: frozenset[str] = frozenset()
    timezone: str = "UTC"
    rounding_minutes: int = 0
    minimum_minutes: int = 0
    overdraft_minutes: int | None = 0
    overage_policy: str = "carry"
    max_entry_minutes: int = 24 * 60
    max_topup_minutes: int = 1000 * 60
    timer_confirm_hours: int = 10
    fast_writer: bool = True  # the everyday /logtime on a bare unit of work (storage/bare.py); off: all on a full one
    after_hours_type: str | None = None  # the work type for work outside a client's hours
    nudge_time: str = "16:30"
    nudge_days: str = "mon-fri"
    expiry_grace_days: int = 7
    backdate_days: int = 90
    currency: str = "USD"
    thresholds: str = DEFAULT_THRESHOLDS
    overdraft_alert_step_minutes: int = 60
    alert_rearm_hours: int = 24
    alert_channel: str | None = None
    managers_channel: str | None = None
    smtp_url: str | None = field(default=None, repr=False)
    alert_email_to: str | None = None
    alert_email_from: str = "blocktime@localhost"
    alert_webhook_url: str | None = None
    alert_webhook_secret: str | None = field(default=None, repr=False)
    digest_time: str = "09:00"
    digest_days: str = "mon-fri"
    dispatch_seconds: int = 5
    scheduler: bool = True
    hourly_rate: Decimal = Decimal("100")
    flat_fee_margin: Decimal = Decimal("0.15")
    # The MSP's PSA: time logged here is written there (PSA=connectwise|halopsa|autotask); None: no PSA
    psa: str | None = None
    psa_timeout_seconds: float = 15.0
    connectwise_url: str | None = None  # https://na.myconnectwise.net/v4_6_release/apis/3.0
    connectwise_company: str | None = None  # the company id you sign in with
    connectwise_public_key: str | None = field(default=None, repr=False)
    connectwise_private_key: str | None = field(default=None, repr=False)
    connectwise_client_id: str | None = field(default=None, repr=False)
    halopsa_url: str | None = None  # https://acme.halopsa.com (the API at /api, sign-in at /auth)
    halopsa_auth_url: str | None = None  # when the authorisation server is elsewhere
    halopsa_tenant: str | None = None  # hosted Halo instances name their tenant
    halopsa_client_id: str | None = field(default=None, repr=False)
    halopsa_client_secret: str | None = field(default=None, repr=False)
    autotask_url: str | None = None  # https://webservices5.autotask.net/ATServicesRest/V1.0; None: asked of
    autotask_zone_url: str = AUTOTASK_ZONE_URL  # that
    autotask_username: str | None = None  # the API user's user name
    autotask_secret: str | None = field(default=None, repr=False)
    autotask_integration_code: str | None = field(default=None, repr=False)
    # a low balance opens work in the PSA (issue 26, part 5): activity | ticket | off (a client may differ)
    psa_alert: str = "off"
    connectwise_followup_board: str | None = None  # the board of follow-up tickets: its id or name
    autotask_followup_queue: int | None = None  # the queue of follow-up tickets
    home_url: str | None = None  # a link to blocktime's App Home (Slack's app_redirect), where balances are
    # the PSA product a block is sold as (ConnectWise's agreement addition); a client's psa-product wins
    psa_product_id: str | None = None
    # a client's private page (issue 27): the links' default life, and the address the page is reached at
    share_days: int = 180
    public_url: str | None = None
    page_rate: str = "60/minute"  # requests per link to the page, per second|minute|hour (then 429)
    # ``GET /metrics`` (issue 27): off unless set; then scrapers send ``Authorization: Bearer <token>``
    metrics_token: str | None = field(default=None, repr=False)
    # Buy more hours on the page (issue 27): Stripe Checkout; both secrets, or neither
    stripe_secret_key: str | None = field(default=None, repr=False)
    stripe_webhook_secret: str | None = field(default=None, repr=False)
    stripe_api_url: str = STRIPE_API_URL  # tests point Stripe's own library at a local fake
    stripe_checkout_origin: str = STRIPE_CHECKOUT_ORIGIN  # where the buy button's form may lead (CSP form-action)

    @property
    def stripe_configured(self) -> bool:
        return bool(self.stripe_secret_key and self.stripe_webhook_secret)

    @property
    def slack_configured(self) -> bool:
        return bool(self.slack_bot_token and (self.slack_app_token or self.slack_signing_secret))

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, load_dotenv_file: bool = True) -> Settings:
        if env is None:
            if load_dotenv_file:
                from dotenv import load_dotenv

                load_dotenv(override=False)
            env = os.environ
        return cls.from_mapping(env)

    @classmethod
    def from_mapping(cls, env: Mapping[str, str]) -> Settings:
        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        def convert(name: str, parse, default):  # type: ignore[no-untyped-def]
            value = get(name)
            if value is None:
                return default
            try:
                return parse(value)
            except (DomainError, ValueError) as error:
                raise ConfigError(f"{name}={value!r} is not valid: {error}") from None

        timezone = get("BLOCKTIME_TIMEZONE") or "UTC"
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"BLOCKTIME_TIMEZONE={timezone!r} is not a time zone (e.g. Europe/Berlin)") from None
        return cls(
            database_url=get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            slack_bot_token=get("SLACK_BOT_TOKEN"),
            slack_signing_secret=get("SLACK_SIGNING_SECRET"),
            slack_app_token=get("SLACK_APP_TOKEN"),
            slack_api_url=_with_slash(get("SLACK_API_URL") or SLACK_API_URL),
            port=convert("PORT", int, 3000),
            workers=convert("BLOCKTIME_WORKERS", int, 1),
            listener_threads=convert("BLOCKTIME_LISTENER_THREADS", _positive_int, 4),
            admins=frozenset(a.strip() for a in (get("BLOCKTIME_ADMINS") or "").split(",") if a.strip()),
            timezone=timezone,
            rounding_minutes=convert("BLOCKTIME_ROUNDING", parse_optional_minutes, 0),
            minimum_minutes=convert("BLOCKTIME_MINIMUM", parse_optional_minutes, 0),
            overdraft_minutes=convert("BLOCKTIME_OVERDRAFT", parse_overdraft, 0),
            overage_policy=convert("BLOCKTIME_OVERAGE", parse_overage_policy, "carry"),
            max_entry_minutes=convert("BLOCKTIME_MAX_ENTRY", lambda v: parse_duration(v, max_minutes=10**6), 24 * 60),
            max_topup_minutes=convert("BLOCKTIME_MAX_TOPUP", _topup_size, 1000 * 60),
            timer_confirm_hours=convert("BLOCKTIME_TIMER_CONFIRM_HOURS", _positive_int, 10),
            fast_writer=convert("BLOCKTIME_FAST_WRITER", _on_off, True),
            after_hours_type=convert("BLOCKTIME_AFTER_HOURS_TYPE", _work_type_name, None),
            nudge_time=convert("BLOCKTIME_NUDGE_TIME", _clock_time, "16:30"),
            nudge_days=convert("BLOCKTIME_NUDGE_DAYS", _weekdays, "mon-fri"),
            expiry_grace_days=convert("BLOCKTIME_EXPIRY_GRACE_DAYS", _days, 7),
            backdate_days=convert("BLOCKTIME_BACKDATE_DAYS", _days, 90),
            currency=(get("BLOCKTIME_CURRENCY") or "USD").upper(),
            thresholds=convert(
                "BLOCKTIME_THRESHOLDS", lambda v: format_thresholds(parse_thresholds(v)), DEFAULT_THRESHOLDS
            ),
            overdraft_alert_step_minutes=convert("BLOCKTIME_OVERDRAFT_ALERT_STEP", parse_optional_minutes, 60),
            alert_rearm_hours=convert("BLOCKTIME_ALERT_REARM_HOURS", _hours, 24),
            alert_channel=get("BLOCKTIME_ALERT_CHANNEL"),
            managers_channel=get("BLOCKTIME_MANAGERS_CHANNEL"),
            smtp_url=get("SMTP_URL"),
            alert_email_to=get("ALERT_EMAIL_TO"),
            alert_email_from=get("ALERT_EMAIL_FROM") or "blocktime@localhost",
            alert_webhook_url=get("ALERT_WEBHOOK_URL"),
            alert_webhook_secret=get("ALERT_WEBHOOK_SECRET"),
            digest_time=convert("BLOCKTIME_DIGEST_TIME", _clock_time, "09:00"),
            digest_days=convert("BLOCKTIME_DIGEST_DAYS", _weekdays, "mon-fri"),
            dispatch_seconds=convert("BLOCKTIME_DISPATCH_SECONDS", _positive_int, 5),
            scheduler=convert("BLOCKTIME_SCHEDULER", _on_off, True),
            hourly_rate=convert("BLOCKTIME_HOURLY_RATE", _money, Decimal("100")),
            flat_fee_margin=convert("BLOCKTIME_FLAT_FEE_MARGIN", _margin, Decimal("0.15")),
            psa=_psa(get),
            psa_timeout_seconds=convert("PSA_TIMEOUT", _seconds, 15.0),
            connectwise_url=(get("CONNECTWISE_URL") or "").rstrip("/") or None,
            connectwise_company=get("CONNECTWISE_COMPANY"),
            connectwise_public_key=get("CONNECTWISE_PUBLIC_KEY"),
            connectwise_private_key=get("CONNECTWISE_PRIVATE_KEY"),
            connectwise_client_id=get("CONNECTWISE_CLIENT_ID"),
            halopsa_url=(get("HALOPSA_URL") or "").rstrip("/") or None,
            halopsa_auth_url=(get("HALOPSA_AUTH_URL") or "").rstrip("/") or None,
            halopsa_tenant=get("HALOPSA_TENANT"),
            halopsa_client_id=get("HALOPSA_CLIENT_ID"),
            halopsa_client_secret=get("HALOPSA_CLIENT_SECRET"),
            autotask_url=(get("AUTOTASK_URL") or "").rstrip("/") or None,
            autotask_zone_url=get("AUTOTASK_ZONE_URL") or AUTOTASK_ZONE_URL,
            autotask_username=get("AUTOTASK_USERNAME"),
            autotask_secret=get("AUTOTASK_SECRET"),
            autotask_integration_code=get("AUTOTASK_INTEGRATION_CODE"),
            psa_alert=convert("PSA_ALERT", _psa_alert, "off"),
            connectwise_followup_board=get("CONNECTWISE_FOLLOWUP_BOARD"),
            autotask_followup_queue=convert("AUTOTASK_FOLLOWUP_QUEUE", _positive_int, None),
            home_url=get("BLOCKTIME_HOME_URL"),
            psa_product_id=get("PSA_PRODUCT_ID"),
            share_days=convert("BLOCKTIME_SHARE_DAYS", _share_days, 180),
            public_url=convert("BLOCKTIME_PUBLIC_URL", _public_url, None),
            page_rate=convert("BLOCKTIME_PAGE_RATE", _page_rate, "60/minute"),
            **_stripe(get, convert),
            metrics_token=get("BLOCKTIME_METRICS_TOKEN"),
        )


PSAS = {
    "connectwise": (
        "CONNECTWISE_URL",
        "CONNECTWISE_COMPANY",
        "CONNECTWISE_PUBLIC_KEY",
        "CONNECTWISE_PRIVATE_KEY",
        "CONNECTWISE_CLIENT_ID",
    ),
    "halopsa": ("HALOPSA_URL", "HALOPSA_CLIENT_ID", "HALOPSA_CLIENT_SECRET"),
    "autotask": ("AUTOTASK_USERNAME", "AUTOTASK_SECRET", "AUTOTASK_INTEGRATION_CODE"),  # the URL: its zone's
}


def _psa(get) -> str | None:  # type: ignore[no-untyped-def]
    """``PSA=connectwise|halopsa|autotask`` with every one of its settings, or no PSA (unset, ``none``)."""
    name = (get("PSA") or "none").lower()
    if name in ("none", "off"):
        return None
    if name not in PSAS:
        raise ConfigError(
            f"PSA={name!r} is not a PSA blocktime knows; use PSA=connectwise, halopsa or autotask, or leave PSA unset."
        )
    missing = [setting for setting in PSAS[name] if not get(setting)]
    if missing:
        raise ConfigError(f"PSA={name} needs {', '.join(missing)} in the environment (see .env.example).")
    return name


def _psa_alert(text: str) -> str:
    """``activity``, ``ticket`` or ``off`` (``PSA_ALERT``: every client's follow-up unless it sets its own)."""
    from bot.domain.followups import parse_psa_alert

    return parse_psa_alert(text) or "off"


def _stripe(get, convert) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """``STRIPE_SECRET_KEY`` and ``STRIPE_WEBHOOK_SECRET`` together (a block is added only from the
    webhook, so a key without its endpoint secret would take payments that never add hours), or neither."""
    key, secret = get("STRIPE_SECRET_KEY"), get("STRIPE_WEBHOOK_SECRET")
    if bool(key) != bool(secret):
        given, missing = (
            ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET") if key else ("STRIPE_WEBHOOK_SECRET", "STRIPE_SECRET_KEY")
        )
        raise ConfigError(f"{given} needs {missing} as well (see .env.example); set both, or neither.")
    return {
        "stripe_secret_key": key,
        "stripe_webhook_secret": secret,
        "stripe_api_url": convert("STRIPE_API_URL", _public_url, STRIPE_API_URL),
        "stripe_checkout_origin": convert("STRIPE_CHECKOUT_ORIGIN", _origin, STRIPE_CHECKOUT_ORIGIN),
    }


def _origin(text: str) -> str:
    """``https://checkout.stripe.com``: a scheme and a host (and port), nothing after."""
    if not re.fullmatch(r"https?://[^\s/]+/?", text):
        raise ValueError("use an origin, e.g. https://checkout.stripe.com")
    return text.rstrip("/")


def _clock_time(text: str) -> str:
    hours, _, minutes = text.partition(":")
    if not (hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60):
        raise ValueError("use HH:MM, e.g. 09:00")
    return f"{int(hours):02d}:{int(minutes):02d}"


def _work_type_name(text: str) -> str | None:
    if text.strip().lower() in ("", "none", "off"):
        return None
    return parse_work_type(text)


def _weekdays(text: str) -> str:
    """APScheduler's day_of_week syntax: ``mon-fri``, ``mon,wed,fri``, ``*``."""
    from apscheduler.triggers.cron import CronTrigger

    CronTrigger(day_of_week=text)
    return text


def _money(text: str) -> Decimal:
    price, _ = parse_price(text)
    return price


def _margin(text: str) -> Decimal:
    """``15%`` or ``0.15``."""
    try:
        value = Decimal(text.rstrip("%")) / (100 if text.endswith("%") else 1)
    except InvalidOperation:
        raise ValueError("use a percentage (15%) or a fraction (0.15)") from None
    if not 0 <= value < 10:
        raise ValueError("use a percentage (15%) or a fraction (0.15)")
    return value


def _on_off(text: str) -> bool:
    word = text.lower()
    if word not in ("on", "off", "true", "false", "1", "0", "yes", "no"):
        raise ValueError("use on or off")
    return word in ("on", "true", "1", "yes")


def _topup_size(text: str) -> int:
    from bot.domain.fields import parse_hours

    return parse_hours(text)


def _days(text: str) -> int:
    """``7`` or ``7d``: a whole number of days, 0 to 3650."""
    value = text.lower().removesuffix("d").removesuffix("days").strip()
    if not (value.isascii() and value.isdigit()) or int(value) > 3650:
        raise ValueError("use a whole number of days, e.g. 7")
    return int(value)


def _hours(text: str) -> int:
    """``24`` or ``24h``: whole hours, 0 to 8760."""
    value = text.lower().removesuffix("h").strip()
    if not (value.isascii() and value.isdigit()) or int(value) > 8760:
        raise ValueError("use a whole number of hours, e.g. 24")
    return int(value)


def _seconds(text: str) -> float:
    value = float(text.lower().removesuffix("s"))
    if not 0 < value <= 300:
        raise ValueError("use seconds between 0 and 300, e.g. 15")
    return value


def _share_days(text: str) -> int:
    """``180`` or ``180d``: a share link's default life, 1 to 3650 days."""
    value = text.lower().removesuffix("d").strip()
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= 3650:
        raise ValueError("use a whole number of days from 1 to 3650, e.g. 180")
    return int(value)


def _public_url(text: str) -> str:
    """The address clients reach blocktime at (``https://hours.example.com``), without a trailing slash."""
    if not re.fullmatch(r"https?://[^\s/]+(/[^\s]*)?", text):
        raise ValueError("use an http(s) URL, e.g. https://hours.example.com")
    return text.rstrip("/")


RATE_UNITS = {"second": 1, "minute": 60, "hour": 3600}


def parse_rate(text: str) -> tuple[int, int]:
    """``60/minute`` (also ``60 per minute``): how many requests, in how many seconds."""
    count, _, unit = text.lower().replace(" per ", "/").partition("/")
    count, unit = count.strip(), unit.strip().removesuffix("s")
    if not (count.isascii() and count.isdigit() and int(count) > 0) or unit not in RATE_UNITS:
        raise ValueError("use a number of requests per second, minute or hour, e.g. 60/minute")
    return int(count), RATE_UNITS[unit]


def _page_rate(text: str) -> str:
    count, seconds = parse_rate(text)
    unit = next(name for name, length in RATE_UNITS.items() if length == seconds)
    return f"{count}/{unit}"


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise ValueError("must be a positive whole number")
    return value


def _with_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"
