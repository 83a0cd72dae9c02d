"""Memory benchmark: RSS of one `butler serve` worker sampled across 10,000 safe-mode messages."""

from __future__ import annotations

from typing import Any

from bench.common import free_port, hub_env, rss_mb, scratch_database, serve_hub
from bench.webhook import build_requests, load
from bot.devtools.fake_telegram import FakeTelegramAPI
from bot.devtools.fake_wechat import FakeWeChatAPI

TOTAL = 10_000
STEP = 1_000


async def run(*, quick: bool = False, channels: str = "") -> dict[str, Any]:
    """Send TOTAL messages in STEP batches at concurrency 16 and read VmRSS after each batch.

    `channels` ("wechat"): the worker is started with `--channels wechat` (issue 18).
    """
    total = 3_000 if quick else TOTAL
    fake, fake_tg = FakeWeChatAPI(), FakeTelegramAPI()
    api_base = await fake.start()
    await fake_tg.start()
    # The production configuration: Telegram wired too (aiogram and its routers are loaded).
    telegram = {"BUTLER_TELEGRAM_TOKEN": fake_tg.token, "BUTLER_TELEGRAM_API_BASE": fake_tg.base_url,
                "BUTLER_TELEGRAM_WEBHOOK_SECRET": "bench", "BUTLER_MERCHANT_CHAT_ID": "-100900",
                "BUTLER_STAFF_CHAT_ID": "-100901"}
    samples: list[dict[str, float]] = []
    try:
        async with scratch_database("memory") as db_url:
            port = free_port()
            # Many owners, like a real city: per-owner state must not pile up in the worker.
            hub = await serve_hub("memory-serve", hub_env(database_url=db_url, port=port, wechat_api_base=api_base, **telegram), port,
                                  extra=("--channels", channels) if channels else ())
            try:
                samples.append({"messages": 0, "rss_mb": rss_mb(hub.pid)})
                sent = 0
                while sent < total:
                    r = await load(f"http://127.0.0.1:{port}/wechat", build_requests(STEP, owners=5000, seed=sent), 16)
                    sent += STEP
                    samples.append({"messages": sent, "rss_mb": rss_mb(hub.pid), "ok": r["ok"]})
                    print(f"  memory: {sent} messages, RSS {samples[-1]['rss_mb']} MB", flush=True)
            finally:
                await hub.stop()
    finally:
        await fake.close()
        await fake_tg.close()
    # "Flat": after the first 2,000 messages have filled caches and pools, RSS stops growing.
    settled = next(s for s in samples if s["messages"] >= min(2_000, total))
    final = samples[-1]
    growth = round(final["rss_mb"] - settled["rss_mb"], 1)
    per_1k = round(growth / max(1, (final["messages"] - settled["messages"]) / 1000), 2)
    return {
        "messages": final["messages"],
        "samples": samples,
        "rss_start_mb": samples[0]["rss_mb"],
        "rss_final_mb": final["rss_mb"],
        "growth_after_2k_mb": growth,
        "growth_per_1k_mb": per_1k,
        "targets": {"rss_lt_200mb": final["rss_mb"] < 200, "flat": per_1k < 1.0},
    }
