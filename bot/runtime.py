"""The long-lived services one process holds, built once from Settings by create_app."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.settings import Settings
from bot.sla import sla_policy
from bot.wechat.client import WeChatClient
from bot.wording.merchant import AMOUNT_NOTES
from dialogs.context import HubContext
from dialogs.guard import ContentGuard
from nlu import Parser, create_parser
from storage.db import create_engine, create_session_factory
from storage.kv import KeyValueStore, create_store

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    """Engine, store, NLU and outbound clients (the services built on them: bot/composition.py)."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    kv: KeyValueStore
    guard: ContentGuard
    tz: ZoneInfo
    wechat: WeChatClient
    nlu: Parser | None = None

    def context(self, session: AsyncSession) -> HubContext:
        """The dialog context for one unit of work."""
        return HubContext(
            session=session, kv=self.kv, guard=self.guard, tz=self.tz, nlu=self.nlu,
            dialog_ttl_seconds=self.settings.dialog_ttl_seconds,
            handoff_idle_seconds=self.settings.handoff_idle_seconds,
            sla=sla_policy(self.settings), hotline=self.settings.hotline,  # issue 16 / 13: workflows, urgent
            limits=self.settings.owner_limits(),
            confirm_ttl_seconds=self.settings.confirm_ttl_seconds, amount_notes=AMOUNT_NOTES,
        )

    async def aclose(self) -> None:
        """Release connections."""
        await self.wechat.aclose()
        if self.nlu is not None:
            await self.nlu.aclose()
        await self.kv.aclose()
        await self.engine.dispose()


def build_nlu(settings: Settings) -> Parser:
    """The configured NLU backend (embedded, or Rasa with the embedded parser as fallback)."""
    return create_parser(settings.nlu, rasa_url=settings.rasa_url, tz=settings.tz)


def build_runtime(settings: Settings) -> Runtime:
    """Create (but do not yet use) every connection; nothing here does network I/O."""
    kv = create_store(settings.redis_url, prefix=settings.redis_prefix)
    guard = ContentGuard(settings.guard_terms)
    engine = create_engine(settings.database_url)
    return Runtime(
        settings=settings,
        engine=engine,
        sessions=create_session_factory(engine),
        kv=kv,
        guard=guard,
        tz=ZoneInfo(settings.tz),
        wechat=WeChatClient(
            app_id=settings.wechat_app_id,
            app_secret=settings.wechat_app_secret,
            api_base=settings.wechat_api_base,
            kv=kv,
            guard=guard,
            timeout_seconds=settings.outbound_timeout_seconds,
            pause_seconds=settings.wechat_token_pause_seconds,
            pause_max_seconds=settings.wechat_token_pause_max_seconds,
        ),
        nlu=build_nlu(settings),
    )
