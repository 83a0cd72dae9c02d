"""Demo data owned by other features (roster, survey, activities), loaded with their own code.

Each loader raises NotAvailable when its feature is missing, so the demo still starts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.demo import data
from storage import communities

SURVEYS = Path(__file__).resolve().parents[2] / "surveys"


class NotAvailable(Exception):
    """The feature this data belongs to is not installed."""


Loader = Callable[[AsyncSession, date, ZoneInfo], Awaitable[int]]


async def _community_ids(session: AsyncSession) -> dict[str, int]:
    return {c.name: c.id for c in await communities.list_all(session=session)}


async def load_roster(session: AsyncSession, today: date, tz: ZoneInfo) -> int:
    """Every demo household goes into the roster, so unbound owners can bind by chatting."""
    try:
        from storage import roster
    except ImportError as exc:
        raise NotAvailable("storage.roster is not installed") from exc
    ids = await _community_ids(session)
    for o in data.OWNERS:
        await roster.upsert(
            session=session,
            row=roster.RosterRow(
                community_id=ids[o.community], building=o.building, unit=o.unit, room=o.room, name=o.name, phone=o.phone
            ),
        )
    return len(data.OWNERS)


def survey_file() -> Path:
    """The owner needs survey shipped under surveys/."""
    candidates = sorted(SURVEYS.glob("*.yaml")) + sorted(SURVEYS.glob("*.yml"))
    for path in candidates:
        if "need" in path.name:
            return path
    if not candidates:
        raise NotAvailable(f"no survey YAML under {SURVEYS}")
    return candidates[0]


async def load_survey(session: AsyncSession, today: date, tz: ZoneInfo) -> int:
    """The owner needs survey, parsed and stored by the survey feature's own functions."""
    try:
        import yaml

        from dialogs.survey_spec import parse_spec, spec_to_json
        from storage import surveys
    except ImportError as exc:
        raise NotAvailable("the survey feature is not installed") from exc
    spec = parse_spec(yaml.safe_load(survey_file().read_text(encoding="utf-8")))
    await surveys.upsert_survey(
        session=session, key=spec.key, title=spec.title, definition=spec_to_json(spec), allow_repeat=spec.allow_repeat
    )
    return 1


async def load_activities(session: AsyncSession, today: date, tz: ZoneInfo) -> int:
    """Two upcoming community activities."""
    try:
        from storage import activities
    except ImportError as exc:
        raise NotAvailable("storage.activities is not installed") from exc
    ids = await _community_ids(session)
    for title, community, days, place, description in data.ACTIVITIES:
        # Stored in UTC like every timestamp (SQLite keeps no offset).
        starts = datetime.combine(today + timedelta(days=days), time(9, 30), tzinfo=tz).astimezone(UTC)
        await activities.add(
            session=session, title=title, starts_at=starts, community_id=ids[community], place=place,
            description=description,
        )
    return len(data.ACTIVITIES)


LOADERS: tuple[tuple[str, Loader], ...] = (
    ("roster", load_roster),
    ("survey", load_survey),
    ("activities", load_activities),
)
