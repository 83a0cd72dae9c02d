"""The scheduled jobs: thin, idempotent, and safe to run in several processes at once.

Each job opens its own unit of work and claims what it does (job_claims rows or row locks with
SKIP LOCKED) in that same transaction, so a tick that runs twice, or in two processes, does the
work once. Anything outbound leaves through the outbox.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import String, and_, cast, select

from dialogs import texts, verification, workflow_texts
from scheduler.context import JobContext
from storage import amounts, outbox, reports, supplier
from storage import jobs as claims
from storage.db import unit_of_work
from storage.events import OwnerNotice, StaffAlert
from storage.jobs import JobClaim
from storage.orders import Order, OrderStatus

log = logging.getLogger(__name__)

Job = Callable[[JobContext], Awaitable[Any]]


def _kick(ctx: JobContext) -> None:
    if ctx.on_outbox is not None:
        ctx.on_outbox()


async def send_broadcasts(ctx: JobContext) -> int:
    """Deliver confirmed broadcasts that are due (scheduled ones included, after a restart too)."""
    if ctx.broadcasts is None:
        return 0
    return await ctx.broadcasts.run_once()


async def followups(ctx: JobContext, *, batch: int = 100) -> int:
    """回访: start the rating dialog once per order, `followup_delay` after completion (not during a hand-off)."""
    from dialogs.followup import FOLLOWUP_JOB, Start, start_followup

    now = ctx.now()
    key = cast(Order.id, String)
    async with unit_of_work(ctx.sessions) as session:
        due = list(await session.scalars(
            select(key)
            .outerjoin(JobClaim, and_(JobClaim.job == FOLLOWUP_JOB, JobClaim.key == key))
            .where(Order.status == OrderStatus.COMPLETED, JobClaim.id.is_(None),
                   Order.completed_at <= now - ctx.config.followup_delay,
                   Order.completed_at >= now - ctx.config.followup_max_age)
            .order_by(Order.id)
            .limit(batch)
        ))
        started = 0
        for order_key in await claims.claim_many(session=session, job=FOLLOWUP_JOB, keys=due):
            try:
                async with session.begin_nested():
                    outcome = await start_followup(
                        session=session, kv=ctx.kv, order_id=int(order_key),
                        ttl_seconds=ctx.config.dialog_ttl_seconds, handoff_idle_seconds=ctx.config.handoff_idle_seconds,
                    )
            except Exception:
                log.exception("follow-up for order %s failed; retried next tick", order_key)
                await claims.release(session=session, job=FOLLOWUP_JOB, key=order_key)
                continue
            if outcome == Start.ASKED:
                started += 1
            elif outcome == Start.POSTPONED:  # staff are talking to the owner: ask after the hand-off
                await claims.release(session=session, job=FOLLOWUP_JOB, key=order_key)
    if started:
        _kick(ctx)
    return started


async def survey_reminders(ctx: JobContext, *, batch: int = 200) -> int:
    """Remind an owner once about a half-finished survey; never after the survey closed."""
    from storage.owners import Owner
    from storage.surveys import ResponseStatus, Survey, SurveyChannel, SurveyResponse

    now = ctx.now()
    key = cast(SurveyResponse.id, String)
    async with unit_of_work(ctx.sessions) as session:
        rows = (await session.execute(
            select(key, Owner.openid, Survey.title)
            .join(Survey, Survey.id == SurveyResponse.survey_id)
            .join(Owner, Owner.id == SurveyResponse.owner_id)
            .outerjoin(JobClaim, and_(JobClaim.job == "survey_reminder", JobClaim.key == key))
            .where(SurveyResponse.status == ResponseStatus.IN_PROGRESS, Survey.is_open.is_(True),
                   SurveyResponse.channel == SurveyChannel.WECHAT_SELF, Owner.following.is_(True),
                   SurveyResponse.updated_at <= now - ctx.config.survey_reminder_after,
                   SurveyResponse.updated_at >= now - ctx.config.survey_reminder_max_age,
                   JobClaim.id.is_(None))
            .order_by(SurveyResponse.id)
            .limit(batch)
        )).all()
        info = {k: (openid, title) for k, openid, title in rows}
        won = await claims.claim_many(session=session, job="survey_reminder", keys=list(info))
        for response_key in won:
            openid, title = info[response_key]
            outbox.emit(session, OwnerNotice(openid=openid, text=texts.SURVEY_REMINDER.format(title=title)))
    if won:
        _kick(ctx)
    return len(won)


async def qualification_expiry(ctx: JobContext) -> dict[str, int]:
    """Blacklist expired merchants (told at once) and warn 30 days ahead."""
    async with unit_of_work(ctx.sessions) as session:
        done = await supplier.expire_qualifications(
            session=session, today=ctx.local_now().date(), policy=ctx.config.evaluation,
            say=ctx.wording.supplier,
        )
    if any(done.values()):
        _kick(ctx)
    return done


async def quarterly_evaluation(ctx: JobContext) -> dict[str, int]:
    """Evaluate the quarter just ended (once per merchant) and enforce rectification deadlines."""
    today = ctx.local_now().date()
    year, q = supplier.previous_quarter(*supplier.quarter_of(today))
    async with unit_of_work(ctx.sessions) as session:
        tally = await supplier.evaluate_quarter(
            session=session, year=year, q=q, today=today, tz=ctx.tz, policy=ctx.config.evaluation,
            say=ctx.wording.supplier,
        )
        tally |= await supplier.check_rectification_deadlines(
            session=session, today=today, tz=ctx.tz, policy=ctx.config.evaluation,
            say=ctx.wording.supplier,
        )
    if any(v for k, v in tally.items() if k != "no_data"):
        _kick(ctx)
    return tally


async def daily_report(ctx: JobContext) -> bool:
    """After `report_time` each day, post yesterday's report (text + chart) to the staff chat once."""
    local = ctx.local_now()
    if local.time() < ctx.config.report_time:
        return False
    day = local.date() - timedelta(days=1)
    async with unit_of_work(ctx.sessions) as session:
        if not await claims.claim(session=session, job="daily_report", key=day.isoformat()):
            return False
        built = await reports.build(session=session, day=day, tz=ctx.tz, sla=ctx.config.sla)
        path = Path(ctx.config.report_dir) / f"daily-{day:%Y%m%d}.png"
        await asyncio.to_thread(ctx.wording.report_chart, built, path)
        text = ctx.wording.report_text(built)
        overdue = await verification.overdue_summary(
            session=session, tz=ctx.tz, working_days=ctx.config.binding_escalate_working_days, now=ctx.now()
        )
        outbox.emit(session, StaffAlert(text=f"{text}\n\n{overdue}" if overdue else text,
                    photo_path=str(path.resolve())))
    _kick(ctx)
    return True


async def escalate_claims(ctx: JobContext) -> int:
    """Household claims waiting past their working day go to the staff chat (once each)."""
    async with unit_of_work(ctx.sessions) as session:
        escalated = await verification.escalate_overdue(
            session=session, tz=ctx.tz, working_days=ctx.config.binding_escalate_working_days, now=ctx.now()
        )
    if escalated:
        _kick(ctx)
    return len(escalated)


async def escalate_unaccepted(ctx: JobContext) -> int:
    """Re-post job cards nobody accepted in time and alert staff (dispatch's own rule)."""
    from storage import dispatch

    async with unit_of_work(ctx.sessions) as session:
        escalated = await dispatch.escalate_unaccepted(
            session=session, now=ctx.now(), timeout=ctx.config.accept_timeout, tz=ctx.tz,
            say=ctx.wording.reposted,
        )
    if escalated:
        _kick(ctx)
    return len(escalated)


async def workflow_sla(ctx: JobContext) -> dict[str, int]:
    """Re-alert overdue work orders (urgent ones until acknowledged) and escalate overdue complaints."""
    from storage import complaints, workorders

    async with unit_of_work(ctx.sessions) as session:
        tally = await workorders.realert_overdue(session=session, now=ctx.now(), sla=ctx.config.sla,
                                                 say=workflow_texts.workorder_notice)
        tally |= {f"complaint_{k}": v for k, v in (
            await complaints.realert_overdue(session=session, now=ctx.now(), sla=ctx.config.sla,
                                             say=workflow_texts.complaint_notice)).items()}
    if any(tally.values()):
        _kick(ctx)
    return {k: v for k, v in tally.items() if v}


async def outbox_maintenance(ctx: JobContext) -> dict[str, int]:
    """Park rows that failed too often and delete delivered rows past the retention period."""
    async with unit_of_work(ctx.sessions) as session:
        parked = await outbox.park_stuck(session=session, max_attempts=ctx.config.outbox_max_attempts)
        purged = await outbox.purge_delivered(session=session, before=ctx.now() - ctx.config.outbox_retention)
    return {k: v for k, v in (("parked", parked), ("purged", purged)) if v}
async def escalate_amounts(ctx: JobContext) -> int:
    """Amounts waiting for the owner's 确认金额 past their working day go to the staff chat."""
    async with unit_of_work(ctx.sessions) as session:
        alerted = await amounts.alert_unconfirmed(
            session=session, now=ctx.now(), tz=ctx.tz, working_days=ctx.config.amount_confirm_working_days,
            say=ctx.wording.amount_unconfirmed,
        )
    if alerted:
        _kick(ctx)
    return alerted


JOBS: dict[str, Job] = {
    "broadcasts": send_broadcasts,
    "followups": followups,
    "survey_reminders": survey_reminders,
    "qualification_expiry": qualification_expiry,
    "quarterly_evaluation": quarterly_evaluation,
    "daily_report": daily_report,
    "escalate_unaccepted": escalate_unaccepted,
    "workflow_sla": workflow_sla,
    "outbox_maintenance": outbox_maintenance,
    "escalate_claims": escalate_claims,
    "escalate_amounts": escalate_amounts,
}


_ticked: set[str] = set()


async def run_job(name: str, ctx: JobContext) -> Any:
    """Run one job by name, logging (not raising) failures so the next tick retries."""
    if name not in _ticked:
        _ticked.add(name)
        log.info("job %s: first tick in this process", name)
    started = datetime.now()
    try:
        result = await JOBS[name](ctx)
    except Exception:
        log.exception("job %s failed", name)
        return None
    if result:
        log.info("job %s: %s (%.2fs)", name, result, (datetime.now() - started).total_seconds())
    return result
