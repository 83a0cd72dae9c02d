"""`butler demo`: the real server on embedded defaults, the fake platforms, demo data and /sim."""

from __future__ import annotations

import contextlib
import logging
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.accesslog import RedactingAccessLogger
from bot.app import RUNTIME, create_app
from bot.demo import data, sim
from bot.demo.seed import SeedReport, put_merchants_on, seed
from bot.demo.wecom_side import WeComSide
from bot.devtools.fake_wechat import FakeWeChatAPI
from bot.devtools.fake_wecom import FakeWeComAPI, WeComSender
from bot.settings import Settings
from dialogs.hub import WECHAT_MENU
from storage.migrate import upgrade

log = logging.getLogger(__name__)

DEFAULT_DB = Path("butler-demo.db")

# Time-based steps compressed so a visitor sees them in the two-minute story (knobs that a
# feature has not added yet are ignored by Settings).
DEMO_TUNING: dict[str, Any] = {
    "followup_delay_hours": 10 / 3600,  # 回访 ten seconds after completion instead of a day
    "scheduler_tick_seconds": 3.0,
    "broadcast_tick_seconds": 2.0,
    "report_dir": str(Path(tempfile.gettempdir()) / "butler-demo-reports"),
}


def _fake_telegram() -> Any | None:
    """The fake Bot API, when the Telegram feature's dev tools are installed."""
    try:
        from bot.demo.fakes import DemoTelegramAPI
    except ImportError:
        log.warning("bot.devtools.fake_telegram is not available: the merchant and staff panes stay empty")
        return None
    return DemoTelegramAPI(token=data.TELEGRAM_TOKEN)


def demo_settings(
    *, database_url: str, wechat_api_base: str, telegram_api_base: str, host: str, port: int, **overrides: Any
) -> Settings:
    """Settings with the demo's fake credentials; nothing from the environment can point it at production."""
    return Settings(  # type: ignore[call-arg]  # _env_file is pydantic-settings' init-only option
        _env_file=None,
        database_url=database_url,
        redis_url="",
        host=host,
        port=port,
        nlu="embedded",
        wechat_app_id=data.WECHAT_APP_ID,
        wechat_app_secret=data.WECHAT_APP_SECRET,
        wechat_token=data.WECHAT_TOKEN,
        wechat_aes_key=data.WECHAT_AES_KEY,
        wechat_api_base=wechat_api_base,
        wechat_template_order=data.WECHAT_TEMPLATE_ORDER,
        telegram_token=data.TELEGRAM_TOKEN,
        telegram_api_base=telegram_api_base,
        telegram_webhook_secret=data.TELEGRAM_WEBHOOK_SECRET,
        merchant_chat_id=str(data.MERCHANT_CHAT_ID),
        staff_chat_id=str(data.STAFF_CHAT_ID),
        redis_prefix="demo:",
        **(DEMO_TUNING | overrides),
    )


@dataclass
class DemoServer:
    """A running demo: the hub, both fake platforms and the simulator."""

    app: web.Application
    runner: web.AppRunner
    simulator: sim.Simulator
    fake_wechat: FakeWeChatAPI
    fake_telegram: Any | None
    settings: Settings
    seeded: SeedReport
    base_url: str
    fake_wecom: FakeWeComAPI | None = None  # `--merchants wecom`

    async def close(self) -> None:
        """Stop the server, then the fakes."""
        await self.runner.cleanup()
        await self.fake_wechat.close()
        if self.fake_telegram is not None:
            await self.fake_telegram.close()
        if self.fake_wecom is not None:
            await self.fake_wecom.close()


def reset_database(path: Path) -> None:
    """Delete the demo SQLite file and its WAL companions."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            Path(f"{path}{suffix}").unlink()


def wecom_overrides(api_base: str) -> dict[str, Any]:
    """Settings for the demo's WeCom app on the fake WeCom API (`butler demo --merchants wecom`)."""
    return {
        "wecom_corp_id": data.WECOM_CORP_ID, "wecom_secret": data.WECOM_SECRET,
        "wecom_agent_id": str(data.WECOM_AGENT_ID), "wecom_api_base": api_base,
        "wecom_token": data.WECOM_TOKEN, "wecom_aes_key": data.WECHAT_AES_KEY,
    }


async def start_demo(
    *, db_path: Path = DEFAULT_DB, host: str = "127.0.0.1", port: int = 8080, reset: bool = False,
    run_scheduler: bool = True, merchants: str = "telegram", **overrides: Any,
) -> DemoServer:
    """Migrate and seed the demo database, start the fakes, then serve the hub and /sim on host:port.

    `merchants="wecom"`: the demo merchants use the WeCom app (a fake WeCom API) instead of
    Telegram, and the merchant pane shows their chat with the app; owners and staff are unchanged.
    """
    if merchants not in ("telegram", "wecom"):
        raise ValueError(f"merchants must be telegram or wecom, not {merchants!r}")
    if reset:
        reset_database(db_path)
    database_url = f"sqlite+aiosqlite:///{db_path.resolve()}"
    await upgrade(database_url)

    fake_wechat = FakeWeChatAPI()
    wechat_base = await fake_wechat.start()
    fake_telegram = _fake_telegram()
    telegram_base = await fake_telegram.start() if fake_telegram is not None else "http://127.0.0.1:9"

    fake_wecom = FakeWeComAPI(corp_id=data.WECOM_CORP_ID, secret=data.WECOM_SECRET, agent_id=data.WECOM_AGENT_ID) \
        if merchants == "wecom" else None
    if fake_wecom is not None:
        overrides = wecom_overrides(await fake_wecom.start()) | overrides

    settings = demo_settings(
        database_url=database_url, wechat_api_base=wechat_base, telegram_api_base=telegram_base, host=host, port=port,
        **overrides,
    )
    app = create_app(settings, run_scheduler=run_scheduler)
    simulator = sim.Simulator(tz=ZoneInfo(settings.tz))
    if fake_wecom is not None:
        sender = WeComSender(data.WECOM_TOKEN, data.WECHAT_AES_KEY, data.WECOM_CORP_ID, data.WECOM_AGENT_ID)
        simulator.wecom = WeComSide(simulator.bus, lambda: simulator.base_url, fake_wecom, sender)
        fake_wecom.listeners.append(simulator.wecom.on_api_call)
    sim.install(app, simulator)
    fake_wechat.listeners.append(simulator.wechat.on_api_call)
    if fake_telegram is not None:
        fake_telegram.listeners.append(simulator.telegram.on_api_call)
        fake_telegram.sent_listeners.append(simulator.telegram.on_sent)

    runtime = app[RUNTIME]
    report = await seed(runtime.sessions, today=datetime.now(runtime.tz).date(), tz=runtime.tz)
    await put_merchants_on(runtime.sessions, merchants)

    runner = web.AppRunner(app, shutdown_timeout=2.0, access_log_class=RedactingAccessLogger)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError:
        await runner.cleanup()
        await fake_wechat.close()
        if fake_telegram is not None:
            await fake_telegram.close()
        if fake_wecom is not None:
            await fake_wecom.close()
        raise
    # Install the account's menu as `butler content wechat-menu` does; the fake records the call
    # and the owner pane draws the menu from it.
    await runtime.wechat.create_menu(WECHAT_MENU)
    bound = runner.addresses[0]
    simulator.base_url = f"http://{bound[0]}:{bound[1]}" if ":" not in bound[0] else f"http://[{bound[0]}]:{bound[1]}"
    return DemoServer(
        app=app,
        runner=runner,
        simulator=simulator,
        fake_wechat=fake_wechat,
        fake_telegram=fake_telegram,
        settings=settings,
        seeded=report,
        base_url=simulator.base_url,
        fake_wecom=fake_wecom,
    )
