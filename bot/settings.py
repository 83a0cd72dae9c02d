"""Configuration read once from the environment (and a `.env` file), then passed down."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./butler.db"


class Settings(BaseSettings):
    """The contract's BUTLER_* variables plus a few tunables with safe defaults."""

    model_config = SettingsConfigDict(env_prefix="BUTLER_", env_file=".env", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8080
    tz: str = "Asia/Shanghai"

    wechat_app_id: str = ""
    wechat_app_secret: str = ""
    wechat_token: str = ""
    wechat_aes_key: str = ""
    wechat_api_base: str = "https://api.weixin.qq.com"
    # Template id for service notices (order accepted, job done); empty -> customer-service text.
    wechat_template_order: str = ""

    telegram_token: str = ""
    telegram_api_base: str = "https://api.telegram.org"
    telegram_webhook_secret: str = ""
    merchant_chat_id: str = ""
    staff_chat_id: str = ""
    # Dispatch (issue 5): no taker within this many minutes -> re-post the card once, alert staff.
    dispatch_accept_timeout_minutes: float = 15.0
    # For this long after a card is posted only high-credit merchants (level 5) may take it,
    # when one who could take it exists (PRODUCT.md rule 5: high credit gets preference). 0 = off.
    dispatch_high_credit_head_start_seconds: float = 60.0
    # Bot API 429s: retry at most this many times, and only if retry_after is this short.
    telegram_max_retries: int = 3
    telegram_max_retry_wait_seconds: float = 10.0
    # How long a webhook request waits for the outbox deliveries it caused (owner notice etc.).
    telegram_deliver_wait_seconds: float = 8.0

    nlu: Literal["embedded", "rasa"] = "embedded"
    rasa_url: str = "http://127.0.0.1:5005"

    # Internal-only phrases that must never reach an owner (PRODUCT.md rule 2).
    guard_terms: list[str] = Field(default_factory=lambda: ["零物业费"])
    # WeChat waits 5 s; answer by 4 s or fall back to the customer-service API.
    reply_deadline_seconds: float = 4.0
    max_body_bytes: int = 64 * 1024
    timestamp_tolerance_seconds: int = 300
    dedupe_ttl_seconds: int = 300
    outbound_timeout_seconds: float = 5.0
    # Key prefix in Redis, so tests and several deployments can share one server.
    redis_prefix: str = "butler:"
    # Per-owner flood limit (token bucket): a burst of this many messages, then this many per second.
    flood_burst: int = 20
    flood_per_second: float = 1.0
    # Staff commands, broadcasts and the scheduler (issue 6).
    # Template id for broadcast notices; empty -> the order template, or customer-service text.
    wechat_template_notice: str = ""
    marketing_daily_cap: int = 1  # marketing pushes per owner per day (PRODUCT.md rule 1)
    cs_max_per_window: int = 5  # customer-service messages per 48-hour window (WeChat)
    mass_monthly_quota: int = 4  # mass sends per owner per month (WeChat)
    broadcast_rate_per_second: float = 20.0
    broadcast_mass_batch: int = 5000
    broadcast_lease_seconds: float = 60.0
    scheduler_tick_seconds: float = 30.0
    scheduler_jobs: str = ""  # comma-separated job names this process runs; empty = all
    broadcast_tick_seconds: float = 5.0
    followup_delay_hours: float = 24.0
    survey_reminder_hours: float = 24.0
    report_time: str = "08:00"  # local time the daily report goes to the staff chat
    report_dir: str = "./reports"
    evaluation_bar: float = 3.5  # quarterly average rating below this -> rectification
    evaluation_high_bar: float = 4.5  # two quarters at or above this -> credit level 5
    rectification_days: int = 30
    qualification_warn_days: int = 30
    # Owner dialogs (issue 4): an unfinished dialog waits this long; a silent hand-off ends after this.
    dialog_ttl_seconds: int = 24 * 3600
    handoff_idle_seconds: int = 30 * 60
    # /healthz calls the database or the store down when a trivial ping takes longer than this.
    # The clock runs on the event loop, so a busy process adds its own delay: 5 s is WeChat's reply
    # window (a dependency slower than that fails owners too), not a measure of a loaded loop.
    health_timeout_seconds: float = 5.0
    # Issue 13 (dialogs): a "please confirm" question before an opt-out, complaint, work order,
    # cancellation or rating lapses after this many seconds.
    confirm_ttl_seconds: int = 10 * 60

    @property
    def is_sqlite(self) -> bool:
        """True when the database is the embedded SQLite default or another SQLite file."""
        return self.database_url.startswith("sqlite")


def describe_invalid(exc: ValidationError) -> str:
    """One line naming each bad BUTLER_* variable, for the CLI's one-line errors."""
    parts = [
        f"BUTLER_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']} (got {err.get('input')!r})"
        for err in exc.errors()
    ]
    return "invalid configuration: " + "; ".join(parts)
