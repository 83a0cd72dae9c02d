"""Is the worker's RSS growth a leak? `python -m bench.leakcheck [--messages 3000]`.

Runs the app in this process (PostgreSQL + Redis, safe mode), warms it with 1,500 messages, then
compares tracemalloc snapshots around N more messages, counting only allocations whose traceback
never passes through the HTTP client side of this script. A leak shows as growth proportional to N.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import secrets
import tracemalloc
import uuid

import aiohttp
from aiohttp.test_utils import TestServer

from bench.common import AES_KEY, APP_ID, REDIS_URL, TOKEN, scratch_database
from bench.webhook import TEXTS
from bot.app import create_app
from bot.devtools.fake_wechat import FakeWeChatAPI
from bot.devtools.wechat_sender import WeChatSender, text_xml
from bot.settings import Settings

_CLIENT_SIDE = ("client", "test_utils.py", "yarl", "leakcheck.py")


async def check(messages: int) -> None:
    """Print server-side heap growth over `messages` messages and the top growing tracebacks."""
    fake = FakeWeChatAPI()
    api_base = await fake.start()
    async with scratch_database("leak") as db_url:
        settings = Settings(_env_file=None, database_url=db_url, redis_url=REDIS_URL,  # type: ignore[call-arg]
                            redis_prefix=f"leak:{uuid.uuid4().hex[:8]}:", wechat_token=TOKEN,
                            wechat_aes_key=AES_KEY, wechat_app_id=APP_ID, wechat_app_secret="s",
                            wechat_api_base=api_base)
        server = TestServer(create_app(settings), host="127.0.0.1")
        await server.start_server()
        sender = WeChatSender(token=TOKEN, aes_key=AES_KEY, app_id=APP_ID)
        rng = random.Random(1)
        url = str(server.make_url("/wechat"))
        async with aiohttp.ClientSession() as http:

            async def send(n: int) -> None:
                for _ in range(n):
                    xml = text_xml(f"o_leak_{rng.randrange(3000)}", rng.choice(TEXTS), msg_id=secrets.randbits(62))
                    query, body = sender.request(xml)
                    async with http.post(f"{url}?{query}", data=body) as resp:
                        await resp.read()

            await send(1500)
            gc.collect()
            tracemalloc.start(15)
            before = tracemalloc.take_snapshot()
            await send(messages)
            gc.collect()
            after = tracemalloc.take_snapshot()
        await server.close()
    await fake.close()
    stats = [s for s in after.compare_to(before, "traceback")
             if not any(k in f.filename for f in s.traceback for k in _CLIENT_SIDE)]
    print(f"server-side Python heap growth over {messages} messages: {sum(s.size_diff for s in stats) / 1024:.0f} KiB")
    for s in stats[:5]:
        print(f"  {s.size_diff / 1024:7.1f} KiB  {s.traceback[-1].filename}:{s.traceback[-1].lineno}")


def main() -> None:
    """CLI entry."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--messages", type=int, default=3000)
    asyncio.run(check(ap.parse_args().messages))


if __name__ == "__main__":
    main()
