"""Configuration read once from the environment (and a `.env` file), then passed down."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from storage.limits import AmountPolicy, OwnerLimits

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

    # WeCom (企业微信) self-built app (issue 17): a second merchant/staff channel beside Telegram.
    # Off unless corp id, secret and agent id are all set; the callback /wecom needs token + AES key.
    wecom_corp_id: str = ""
    wecom_agent_id: str = ""
    wecom_secret: str = ""
    wecom_token: str = ""
    wecom_aes_key: str = ""
    wecom_api_base: str = "https://qyapi.weixin.qq.com"

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
    # Issue 16 (work orders, complaints, outbox) and issue 13 item 6 (urgent reports).
    # Company-wide 24-hour phone for owners whose community has no --hotline (CONTRACT.md).
    hotline: str = ""
    workorder_ack_minutes: float = 30.0  # a common-area work order is acknowledged within this
    workorder_done_hours: float = 24.0  # … and fixed within this
    urgent_ack_minutes: float = 5.0  # an urgent one (people trapped, gas, fire …) is acknowledged within this
    urgent_repeat_minutes: float = 5.0  # … and re-alerted this often until someone does
    urgent_done_hours: float = 4.0
    complaint_ack_minutes: float = 30.0
    complaint_resolve_hours: float = 24.0
    max_complaints_per_quarter: int = 3  # more against a merchant fails its quarterly evaluation
    outbox_retention_days: float = 7.0  # delivered outbox rows are deleted after this
    outbox_max_attempts: int = 5  # a row failing this often is parked (counted in /metrics and the report)
    # Issue 14: household trust, money and volume limits.
    # A household claim waiting longer than this many working days (Mon-Fri) is escalated.
    binding_escalate_working_days: float = 1.0
    owner_max_open_orders: int = 3  # open orders per owner; more are refused politely
    owner_duplicate_order_minutes: float = 10.0  # the same service and time again within this is a repeat
    owner_max_reports_per_hour: int = 3  # property reports (报修) per owner per hour
    # An amount above the ceiling needs the owner's confirmation: per service in yuan (JSON,
    # {"钟点工": 800}), else this multiple of the first price in the service's price note, else the default.
    amount_ceilings_yuan: dict[str, float] = Field(default_factory=dict)
    amount_ceiling_multiple: float = 10.0
    amount_ceiling_default_yuan: float = 5000.0
    # ... or this many times the median of the service's recent completed orders.
    amount_usual_factor: float = 5.0
    # An amount left unconfirmed by the owner this many working days goes to the staff chat.
    amount_confirm_escalate_working_days: float = 1.0

    def owner_limits(self) -> OwnerLimits:
        """The per-owner volume limits (issue 14)."""
        return OwnerLimits(
            max_open_orders=self.owner_max_open_orders,
            duplicate_window=timedelta(minutes=self.owner_duplicate_order_minutes),
            max_reports_per_hour=self.owner_max_reports_per_hour,
        )

    def amount_policy(self) -> AmountPolicy:
        """When a reported amount needs the owner's confirmation (issue 14)."""
        return AmountPolicy(
            ceiling_multiple=self.amount_ceiling_multiple, default_ceiling_yuan=self.amount_ceiling_default_yuan,
            ceilings_yuan=dict(self.amount_ceilings_yuan), usual_factor=self.amount_usual_factor,
        )
    # Issue 12 (real WeChat traffic): which keyword of the granted template holds which part of a
    # notice (service, code, time, status, worker=师傅), as JSON. WeChat shows no first/remark and
    # at most 20 characters per keyword since 2023-05-04.
    wechat_template_fields: dict[str, str] = Field(default_factory=lambda: {
        "service": "thing1", "code": "character_string2", "time": "time3", "status": "phrase4", "worker": "thing5",
    })
    # Issue 14 (staff authority and the edges).
    # Key that signs Telegram button data (接单 cards); empty -> derived from BUTLER_TELEGRAM_TOKEN,
    # which is already the secret that lets anyone act as the bot.
    callback_secret: str = ""
    # Bearer token /metrics requires (and that unlocks /healthz details); empty -> localhost only.
    metrics_token: str = ""

    @property
    def callback_key(self) -> bytes:
        """The HMAC key for callback data (issue 14)."""
        import hashlib

        return hashlib.sha256(b"butler-callback:" + (self.callback_secret or self.telegram_token).encode()).digest()
    # Issue 15: nothing lost, nothing sent twice.
    # A token rejected again right after a refresh pauses all WeChat sending this long, doubling
    # on each further rejection up to the cap (the daily token quota is small).
    wechat_token_pause_seconds: float = 30.0
    wechat_token_pause_max_seconds: float = 1800.0
    # The late-reply sweeper leaves a lapsed lease this long for WeChat's own retries to take over.
    late_reply_grace_seconds: float = 12.0
    # A message whose worker died before committing, and that WeChat did not retry (its retries
    # end ~15 s after the first try), is handled by the sweeper this long after it arrived.
    late_reply_replay_seconds: float = 30.0
    # 45009 / a rate limit pauses a broadcast until the quota window resets (next local midnight
    # for the daily quota) or, for rate limits, this long.
    broadcast_rate_limit_pause_seconds: float = 60.0
    # Issue 13 (dialogs): a "please confirm" question before an opt-out, complaint, work order,
    # cancellation or rating lapses after this many seconds.
    confirm_ttl_seconds: int = 10 * 60

    @property
    def wecom_enabled(self) -> bool:
        """WeCom is used only when corp id, secret and agent id are all configured."""
        return bool(self.wecom_corp_id and self.wecom_secret and self.wecom_agent_id)

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
