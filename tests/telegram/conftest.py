"""Fixtures for the Telegram dispatch tests: a fake Bot API server and hubs wired to it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from aiohttp import ClientResponse

from bot.devtools.fake_telegram import FakeTelegramAPI, callback_update, message_update
from bot.devtools.fake_wechat import FakeWeChatAPI
from bot.settings import Settings
from bot.telegram.setup import TELEGRAM, Telegram
from storage import catalog, communities, merchants, orders, staff
from storage.base import utcnow
from storage.db import unit_of_work
from storage.owners import BindingStatus, Owner
from tests.conftest import UNHURRIED_REPLY_SECONDS, Backend, Hub, make_settings, start_hub

SECRET = "tg-secret-for-tests"
MERCHANT_CHAT = -100111222333
STAFF_CHAT = -100444555666


def unique_int() -> int:
    """A Telegram-user-like id no other test uses (the databases are shared by the session)."""
    return int(uuid.uuid4().int % 10**9) + 10**9


@pytest.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegramAPI]:
    """A running fake Bot API server."""
    fake = FakeTelegramAPI()
    await fake.start()
    yield fake
    await fake.close()


def telegram_settings(
    backend: Backend, fake_wechat: FakeWeChatAPI, fake_telegram: FakeTelegramAPI, **overrides: Any
) -> Settings:
    """Hub settings with Telegram pointed at the fake server."""
    values: dict[str, Any] = {
        "telegram_token": fake_telegram.token,
        "telegram_api_base": fake_telegram.base_url,
        "telegram_webhook_secret": SECRET,
        "merchant_chat_id": str(MERCHANT_CHAT),
        "staff_chat_id": str(STAFF_CHAT),
        "telegram_max_retry_wait_seconds": 3,
        # Off by default here: the shared test database holds other tests' high-credit merchants;
        # tests/telegram/test_high_credit.py switches it on with merchants of its own.
        "dispatch_high_credit_head_start_seconds": 0,
    }
    values.update(overrides)
    return make_settings(backend, fake_wechat, **values)


@dataclass
class TgHub:
    """A running hub plus helpers to talk to it the way Telegram does."""

    hub: Hub
    fake: FakeTelegramAPI

    @property
    def telegram(self) -> Telegram:
        return self.hub.client.app[TELEGRAM]  # type: ignore[index]

    async def post(self, update: dict[str, Any], *, secret: str | None = SECRET) -> ClientResponse:
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        resp = await self.hub.client.post("/telegram", json=update, headers=headers)
        await resp.read()
        return resp

    async def press(self, user_id: int, data: str, *, message_id: int = 1, chat_id: int = MERCHANT_CHAT,
                    inaccessible: bool = False) -> str:
        """Press an inline button; returns the callback query id (see answer_for)."""
        update = callback_update(
            user_id=user_id, data=data, chat_id=chat_id, message_id=message_id, inaccessible=inaccessible
        )
        resp = await self.post(update)
        assert resp.status == 200, resp.status
        return str(update["callback_query"]["id"])

    async def say(self, user_id: int, text: str, *, chat_id: int | None = None,
                  reply_to: dict[str, Any] | None = None) -> ClientResponse:
        """A text message from a user (private chat unless chat_id is given)."""
        return await self.post(
            message_update(chat_id=chat_id or user_id, user_id=user_id, text=text, reply_to=reply_to)
        )

    def answer_for(self, query_id: str) -> dict[str, Any]:
        """The answerCallbackQuery parameters for one press (exactly one answer expected)."""
        found = [c.params for c in self.fake.calls_to("answerCallbackQuery") if c.params.get("callback_query_id") == query_id]
        assert len(found) == 1, found
        return found[0]


async def start_tg_hub(settings: Settings, fake_wechat: FakeWeChatAPI, fake_telegram: FakeTelegramAPI) -> TgHub:
    """create_app with Telegram on a real local port."""
    return TgHub(hub=await start_hub(settings, fake_wechat), fake=fake_telegram)


@pytest.fixture
async def tg_hub(backend: Backend, fake_wechat: FakeWeChatAPI, fake_telegram: FakeTelegramAPI) -> AsyncIterator[TgHub]:
    """The hub on the parametrised backend with Telegram wired to the fake server."""
    settings = telegram_settings(backend, fake_wechat, fake_telegram, reply_deadline_seconds=UNHURRIED_REPLY_SECONDS)
    running = await start_tg_hub(settings, fake_wechat, fake_telegram)
    yield running
    await running.hub.client.close()


@dataclass
class World:
    """One test's community, owner, service and merchants."""

    community_id: int
    owner_id: int
    owner_openid: str
    service_id: int
    service_name: str
    merchants: dict[str, int]  # name -> telegram id
    merchant_ids: dict[str, int]  # name -> merchant id
    staff_telegram_id: int
    staff_id: int


_DIGITS_AS_LETTERS = str.maketrans("0123456789", "ghijklmnop")


async def make_world(
    hub: Hub,
    *,
    service: str = "钟点工",
    merchants_spec: dict[str, dict[str, Any]] | None = None,
) -> World:
    """Seed a community, a bound owner, and merchants (name -> {expires, status, services})."""
    # letters only: the tag is in the community's name on job cards, and a digit run there (翠苑5023d10a)
    # would fail tests that check no room number or phone digit reaches the merchant group
    tag = uuid.uuid4().hex[:8].translate(_DIGITS_AS_LETTERS)
    spec = merchants_spec or {"张师傅": {}}
    async with unit_of_work(hub.runtime.sessions) as session:
        community = await communities.create(session=session, name=f"翠苑{tag}")
        svc = await catalog.get_service_by_name(session=session, name=service)
        assert svc is not None
        owner = Owner(
            openid=f"o-{tag}", name="王女士", community_id=community.id, building="3", unit="2", room="301",
            phone="13800138000", phone_valid=True, binding_status=BindingStatus.VERIFIED, tags=[],
        )
        session.add(owner)
        tg_ids: dict[str, int] = {}
        ids: dict[str, int] = {}
        for name, options in spec.items():
            services = await catalog.get_services_by_names(session=session, names=options.get("services", [service]))
            row = await merchants.create(
                session=session, name=name, telegram_id=unique_int(), services=services,
                communities=[community] if options.get("scoped", True) else [],
                qualification_expires=options.get("expires", date.today() + timedelta(days=365)),
            )
            if "status" in options:
                row.status = options["status"]
            if "credit" in options:
                row.credit_level = options["credit"]
            tg_ids[name], ids[name] = row.telegram_id, row.id
        member = await staff.create(session=session, name=f"客服{tag}", telegram_id=unique_int(), communities=[community])
        await session.flush()
        return World(
            community_id=community.id, owner_id=owner.id, owner_openid=owner.openid, service_id=svc.id,
            service_name=svc.name, merchants=tg_ids, merchant_ids=ids, staff_telegram_id=member.telegram_id or 0,
            staff_id=member.id,
        )


async def create_order(hub: Hub, world: World, *, notes: str = "打扫卫生，电话13912345678，301室",
                       scheduled_at: datetime | None = None) -> tuple[int, str]:
    """An order through the repository (emits order.created); returns (id, code)."""
    async with unit_of_work(hub.runtime.sessions) as session:
        owner = await session.get(Owner, world.owner_id)
        svc = await session.get(catalog.Service, world.service_id)
        assert owner is not None and svc is not None
        order = await orders.create(
            session=session, owner=owner, service=svc,
            scheduled_at=scheduled_at or utcnow() + timedelta(days=1),
            address="3号楼2单元301室", contact_phone="13800138000", notes=notes,
        )
        return order.id, order.code


async def load_order(hub: Hub, order_id: int) -> orders.Order:
    async with unit_of_work(hub.runtime.sessions) as session:
        order = await orders.get(session=session, order_id=order_id)
        assert order is not None
        await session.refresh(order)
        return order


# The databases are shared by the whole session, so a relay may also deliver other tests' leftover
# events to this test's fakes: assertions look only at what concerns this test's own rows.
CS_PATH = "/cgi-bin/message/custom/send"


def wechat_to(fake_wechat: FakeWeChatAPI, openid: str) -> list[str]:
    """Customer-service texts delivered to one owner (a menu message as its text plus its options)."""
    return [_cs_text(c.body) for c in fake_wechat.calls_to(CS_PATH) if c.body.get("touser") == openid]


def _cs_text(body: dict[str, Any]) -> str:
    if "msgmenu" in body:
        menu = body["msgmenu"]
        return "\n".join([menu["head_content"], *(f"[{o['content']}]" for o in menu["list"])])
    return str(body["text"]["content"])


def sends_mentioning(fake: FakeTelegramAPI, chat_id: int, needle: str) -> list[Any]:
    """Messages/photos sent to a chat whose text contains needle."""
    return [c for c in fake.sent_to(chat_id) if needle in c.text]


def job_button(order_id: int) -> str:
    """The signed 接单 callback data the hub puts on an order's card (issue 14).

    Test hubs use the fake server's bot token and no BUTLER_CALLBACK_SECRET, so the key is the
    one derived from that token, exactly as the hub derives it.
    """
    from bot.telegram.cards import job_data

    return job_data(order_id, Settings(_env_file=None, telegram_token=FakeTelegramAPI.token).callback_key)  # type: ignore[call-arg]
