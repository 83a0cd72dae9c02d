"""Loads the demo cast into the database through the repositories (never raw SQL)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.demo import data
from storage import catalog, communities, merchants, owners, staff
from storage.db import unit_of_work
from storage.owners import BindingStatus

log = logging.getLogger(__name__)
SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass
class SeedReport:
    """What the seeder added (empty when the database already held the demo)."""

    added: dict[str, int] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)

    @property
    def fresh(self) -> bool:
        """True when this run loaded the data (not a restart on an existing demo file)."""
        return bool(self.added)


async def seed(
    sessions: async_sessionmaker[AsyncSession], *, today: date, tz: ZoneInfo = SHANGHAI
) -> SeedReport:
    """Load the demo data once; a second call on the same database changes nothing."""
    report = SeedReport()
    async with unit_of_work(sessions) as session:
        if await communities.get_by_name(session=session, name=data.COMMUNITIES[0].name):
            return report
        by_name = {}
        for c in data.COMMUNITIES:
            by_name[c.name] = await communities.create(
                session=session,
                name=c.name,
                property_fee_monthly_fen=c.property_fee_monthly_yuan * 100,
                households=c.households,
            )
        report.added["communities"] = len(by_name)
        report.added["owners"] = await _owners(session, by_name)
        report.added["merchants"] = await _merchants(session, by_name, today)
        for s in data.STAFF:
            await staff.create(
                session=session,
                name=s.name,
                role=staff.StaffRole(s.role),
                openid=s.openid,
                telegram_id=s.telegram_id,
                communities=[by_name[n] for n in s.communities],
            )
        report.added["staff"] = len(data.STAFF)
    await _feature_data(sessions, today, tz, report)
    log.info("demo data loaded: %s (not yet available: %s)", report.added, report.skipped or "none")
    return report


async def _owners(session: AsyncSession, by_name: dict[str, communities.Community]) -> int:
    for o in data.OWNERS:
        owner = await owners.get_or_create(session=session, openid=o.openid)
        owner.nickname = o.name
        for tag in o.tags:
            await owners.add_tag(session=session, owner=owner, tag=tag)
        if o.bound:
            owner.name, owner.phone, owner.phone_valid = o.name, o.phone, True
            owner.community_id = by_name[o.community].id
            owner.building, owner.unit, owner.room = o.building, o.unit, o.room
            owner.binding_status = BindingStatus.VERIFIED
    return len(data.OWNERS)


async def _merchants(
    session: AsyncSession, by_name: dict[str, communities.Community], today: date
) -> int:
    for m in data.MERCHANTS:
        services = await catalog.get_services_by_names(session=session, names=list(m.services))
        expires = today - timedelta(days=20) if m.expired else today + timedelta(days=300)
        row = await merchants.create(
            session=session,
            name=m.name,
            telegram_id=m.telegram_id,
            services=services,
            communities=[by_name[n] for n in m.communities],
            qualification_expires=expires,
        )
        row.credit_level = m.credit_level
    return len(data.MERCHANTS)


async def _feature_data(
    sessions: async_sessionmaker[AsyncSession], today: date, tz: ZoneInfo, report: SeedReport
) -> None:
    """Roster, survey and activities come from other features' loaders, when installed."""
    from bot.demo import seed_features

    for name, loader in seed_features.LOADERS:
        try:
            async with unit_of_work(sessions) as session:
                count = await loader(session, today, tz)
        except seed_features.NotAvailable as exc:
            report.skipped.append(f"{name} ({exc})")
            continue
        except Exception as exc:  # another feature's loader changed under us: start anyway, say so
            log.exception("demo %s data could not be loaded", name)
            report.skipped.append(f"{name} ({type(exc).__name__}: {exc})")
            continue
        report.added[name] = count


async def put_merchants_on(sessions: async_sessionmaker[AsyncSession], channel: str) -> None:
    """The demo merchants on Telegram (the default) or on the WeCom app only (`--merchants wecom`).

    A demo database kept from a run with the other channel is switched over, so the flag always
    means what it says; rows already on the wanted channel are left alone.
    """
    async with unit_of_work(sessions) as session:
        for m in data.MERCHANTS:
            row = await session.scalar(select(merchants.Merchant).where(merchants.Merchant.name == m.name))
            if row is None:
                continue
            wanted = (None, m.wecom_userid) if channel == "wecom" else (m.telegram_id, None)
            if (row.telegram_id, row.wecom_userid) != wanted:
                row.telegram_id, row.wecom_userid = wanted
