"""Demo data owned by other features (roster, survey, activities), loaded with their own loaders.

Each loader raises NotAvailable while its feature is not installed, so the demo still starts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession


class NotAvailable(Exception):
    """The feature this data belongs to is not installed."""


Loader = Callable[[AsyncSession, date], Awaitable[int]]


async def load_roster(session: AsyncSession, today: date) -> int:
    """Every demo household goes into the roster, so unbound owners can bind by chatting."""
    raise NotAvailable("storage.roster not installed")


async def load_survey(session: AsyncSession, today: date) -> int:
    """The owner needs survey (surveys/ YAML) through the survey loader."""
    raise NotAvailable("survey loader not installed")


async def load_activities(session: AsyncSession, today: date) -> int:
    """Two upcoming community activities."""
    raise NotAvailable("storage.activities not installed")


LOADERS: tuple[tuple[str, Loader], ...] = (
    ("roster", load_roster),
    ("survey", load_survey),
    ("activities", load_activities),
)
