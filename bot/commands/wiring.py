"""Builds the broadcast sender and the scheduled jobs' context (bot/composition.py holds them)."""

from __future__ import annotations

from datetime import time, timedelta
from decimal import Decimal

from bot.commands.delivery import WeChatGateway
from bot.commands.service import policy_from
from bot.outbox_relay import OutboxRelay
from bot.report_chart import render_chart
from bot.runtime import Runtime
from bot.sla import sla_policy
from bot.wording import report
from bot.wording.broadcast import sender_report
from bot.wording.merchant import supplier_notice
from bot.wording.staff import REPOST_WORDING, amount_unconfirmed
from scheduler.context import JobContext, JobWording, SchedulerConfig
from storage.broadcast_delivery import BroadcastSender, SendConfig
from storage.supplier import EvaluationPolicy


def build_sender(runtime: Runtime, relay: OutboxRelay) -> BroadcastSender:
    """The broadcast sender over the real WeChat client, rate-limited per settings."""
    s = runtime.settings
    gateway = WeChatGateway(runtime.wechat, template_id=s.wechat_template_notice or s.wechat_template_order,
                            fields=s.wechat_template_fields, tz=s.tz)
    config = SendConfig(
        rate_per_second=s.broadcast_rate_per_second, mass_batch_size=s.broadcast_mass_batch,
        lease_seconds=s.broadcast_lease_seconds, rate_limit_pause_seconds=s.broadcast_rate_limit_pause_seconds,
    )
    return BroadcastSender(runtime.sessions, gateway, policy_from(runtime), config, on_outbox=relay.kick,
                           say=sender_report)


def scheduler_config(runtime: Runtime) -> SchedulerConfig:
    """Job timings from settings."""
    s = runtime.settings
    hour, _, minute = s.report_time.partition(":")
    return SchedulerConfig(
        tick_seconds=s.scheduler_tick_seconds,
        broadcast_tick_seconds=s.broadcast_tick_seconds,
        followup_delay=timedelta(hours=s.followup_delay_hours),
        survey_reminder_after=timedelta(hours=s.survey_reminder_hours),
        report_time=time(int(hour), int(minute or 0)),
        report_dir=s.report_dir,
        accept_timeout=timedelta(minutes=s.dispatch_accept_timeout_minutes),
        dialog_ttl_seconds=s.dialog_ttl_seconds,
        handoff_idle_seconds=s.handoff_idle_seconds,
        jobs=tuple(j.strip() for j in s.scheduler_jobs.split(",") if j.strip()),
        evaluation=EvaluationPolicy(
            bar=Decimal(str(s.evaluation_bar)), high_bar=Decimal(str(s.evaluation_high_bar)),
            rectification_days=s.rectification_days, warn_days=s.qualification_warn_days,
            max_complaints=s.max_complaints_per_quarter,
        ),
        sla=sla_policy(s), outbox_retention=timedelta(days=s.outbox_retention_days),
        outbox_max_attempts=s.outbox_max_attempts,
        binding_escalate_working_days=s.binding_escalate_working_days,
        amount_confirm_working_days=s.amount_confirm_escalate_working_days,
    )


def job_context(runtime: Runtime, relay: OutboxRelay, sender: BroadcastSender) -> JobContext:
    """The context every job of this process shares (Services.job_context passes its own sender)."""
    return JobContext(
        sessions=runtime.sessions, kv=runtime.kv, tz=runtime.tz, config=scheduler_config(runtime),
        broadcasts=sender, on_outbox=relay.kick, wording=job_wording(),
    )


def job_wording() -> JobWording:
    """The merchant and staff tables the scheduled jobs word their notices with."""
    return JobWording(supplier=supplier_notice, report_text=report.render_text, report_chart=render_chart,
                      amount_unconfirmed=amount_unconfirmed, reposted=REPOST_WORDING)

