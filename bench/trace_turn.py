"""`python -m bench.trace_turn`: every SQL statement and Redis command of a few owner turns.

Runs the app in-process on a scratch PostgreSQL database and prints what each of the acceptance
workload's five texts costs, a first contact first (issue 18: find the round trips to remove).
"""

from __future__ import annotations

import asyncio
import secrets
import tempfile
import uuid
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import event

from bench.acceptance import TEXTS
from bench.common import AES_KEY, APP_ID, REDIS_URL, TOKEN, scratch_database
from bot.app import RUNTIME, create_app
from bot.devtools.fake_wechat import FakeWeChatAPI
from bot.devtools.wechat_sender import WeChatSender, text_xml
from bot.settings import Settings
from storage import kv as kv_module
from storage.db import STATEMENTS


async def trace() -> None:
    """Send the five texts from one new owner and print each turn's statements and commands."""
    fake = FakeWeChatAPI()
    base = await fake.start()
    log: list[str] = []
    original = kv_module._CountingConnection.pack_command

    def pack(self: Any, *args: Any) -> list[bytes]:
        log.append("redis " + " ".join(str(a)[:40] for a in args[:3]))
        return original(self, *args)

    kv_module._CountingConnection.pack_command = pack  # type: ignore[method-assign]
    try:
        async with scratch_database("trace") as url:
            settings = Settings(  # type: ignore[call-arg]
                _env_file=None, database_url=url, redis_url=REDIS_URL, redis_prefix=f"trace:{uuid.uuid4().hex}:",
                wechat_token=TOKEN, wechat_aes_key=AES_KEY, wechat_app_id=APP_ID, wechat_app_secret="x",
                wechat_api_base=base, nlu="embedded", report_dir=str(Path(tempfile.gettempdir()) / "trace"),
            )
            app = create_app(settings)
            client = TestClient(TestServer(app, host="127.0.0.1"))
            await client.start_server()
            engine = app[RUNTIME].engine

            @event.listens_for(engine.sync_engine, "before_cursor_execute")
            def sql(_c: Any, _cur: Any, statement: str, *_a: Any) -> None:
                log.append("sql   " + " ".join(statement.split())[:150])

            # statements sent straight to asyncpg (storage.driver) pass no engine hook
            STATEMENTS.driver_watchers.append(lambda statement: sql(None, None, statement))

            sender = WeChatSender(token=TOKEN, aes_key=AES_KEY, app_id=APP_ID)
            openid = f"o_trace_{secrets.token_hex(4)}"
            try:
                for text in TEXTS * 2:
                    log.clear()
                    query, body = sender.request(text_xml(openid, text, msg_id=secrets.randbits(62)))
                    resp = await client.post(f"/wechat?{query}", data=body)
                    await resp.read()
                    await asyncio.sleep(0.05)  # after-commit tasks
                    print(f"== {text}: {sum(x.startswith('sql') for x in log)} SQL, "
                          f"{sum(x.startswith('redis') for x in log)} Redis")
                    print("\n".join(log))
            finally:
                await client.close()
    finally:
        await fake.close()


if __name__ == "__main__":
    asyncio.run(trace())
