"""Helpers for the owner-database and 立项 tests: the real CLI, surveys, roster rows, owners."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from dialogs.survey_spec import parse_spec, spec_to_json
from storage import roster, surveys
from storage.db import unit_of_work
from storage.owners import BindingStatus, Owner
from storage.service_lines import ServiceDemand
from tests import subproc
from tests.broadcasts.kit import Place, uid
from tests.conftest import Hub

BUTLER = str(Path(sys.executable).with_name("butler"))


def butler(hub: Hub, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real `butler` CLI against the hub's database."""
    env = {**os.environ, "BUTLER_DATABASE_URL": hub.settings.database_url}
    return subprocess.run([BUTLER, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120)


async def abutler(hub: Hub, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real `butler` CLI against the hub's database."""
    env = {**os.environ, "BUTLER_DATABASE_URL": hub.settings.database_url}
    return await subproc.run([BUTLER, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120)


def today(hub: Hub) -> str:
    """The business day now, as /report takes it."""
    return datetime.now(ZoneInfo(hub.settings.tz)).date().isoformat()


async def close_survey(hub: Hub, key: str) -> None:
    """Close a test's survey, so later tests that count open surveys are not disturbed."""
    from sqlalchemy import update

    async with unit_of_work(hub.runtime.sessions) as session:
        await session.execute(update(surveys.Survey).where(surveys.Survey.key == key).values(is_open=False))


async def add_survey(hub: Hub) -> tuple[str, str]:
    """A small door-visit survey with tag rules; returns (key, title). Close it with close_survey."""
    key, title = f"visit_{uid()}", f"入户走访{uid()}"
    spec = parse_spec({
        "key": key, "title": title, "intro": "聊聊您家的情况。",
        "questions": [
            {"key": "has_car", "type": "yesno", "text": "您家有私家车吗？", "labels": ["有", "没有"]},
            {"key": "has_elderly", "type": "yesno", "text": "家里有老人吗？", "labels": ["有", "没有"]},
        ],
        "tags": [{"when": {"has_car": "有"}, "tag": "有车"}, {"when": {"has_elderly": "有"}, "tag": "有老人"}],
    })
    async with unit_of_work(hub.runtime.sessions) as session:
        await surveys.upsert_survey(session=session, key=key, title=title, definition=spec_to_json(spec),
                                    allow_repeat=False)
    return key, title


async def add_roster(hub: Hub, place: Place, building: str, unit: str, room: str, phone: str, name: str) -> None:
    """One roster line in the place's community."""
    async with unit_of_work(hub.runtime.sessions) as session:
        await roster.upsert(session=session, row=roster.RosterRow(place.community_id, building, unit, room, name, phone))


async def owner_at(
    hub: Hub, place: Place, building: str, unit: str, room: str, *, status: str = BindingStatus.VERIFIED,
    phone: str = "", tags: tuple[str, ...] = (),
) -> str:
    """A WeChat follower bound (or claiming) an address; returns the openid."""
    from datetime import timedelta

    from storage.base import utcnow
    from storage.owners import OwnerTag

    openid = f"o-{uid()}"
    async with unit_of_work(hub.runtime.sessions) as session:
        session.add(Owner(
            openid=openid, name="业主", community_id=place.community_id, building=building, unit=unit, room=room,
            phone=phone, phone_valid=bool(phone), binding_status=status, following=True,
            last_message_at=utcnow() - timedelta(hours=1), tags=[OwnerTag(tag=t) for t in tags],
        ))
    return openid


async def demand_rows(hub: Hub, community_id: int) -> int:
    """Asked-but-not-offered rows recorded for a community."""
    async with hub.runtime.sessions() as session:
        return int(await session.scalar(
            select(func.count()).select_from(ServiceDemand).where(ServiceDemand.community_id == community_id)) or 0)
