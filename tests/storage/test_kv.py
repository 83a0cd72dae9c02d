"""The key-value interface behaves the same on real Redis and in-process."""

from __future__ import annotations

import asyncio
import uuid

from storage.kv import create_store
from tests.conftest import Backend


async def test_claim_is_first_caller_only(backend: Backend) -> None:
    kv = create_store(backend.redis_url, prefix=f"test:{uuid.uuid4().hex}:")
    results = await asyncio.gather(*(kv.claim("job:1", ttl_seconds=60) for _ in range(10)))
    assert results.count(True) == 1
    await kv.aclose()


async def test_compare_and_delete_and_counters(backend: Backend) -> None:
    kv = create_store(backend.redis_url, prefix=f"test:{uuid.uuid4().hex}:")
    await kv.set("token", "A")
    assert await kv.delete_if_equals("token", "B") is False
    assert await kv.get("token") == "A"
    assert await kv.delete_if_equals("token", "A") is True
    assert await kv.get("token") is None
    assert [await kv.incr("n", ttl_seconds=60) for _ in range(3)] == [1, 2, 3]
    await kv.set_json("state", {"step": "问题2", "answers": [1, 2]})
    assert await kv.get_json("state") == {"step": "问题2", "answers": [1, 2]}
    await kv.aclose()


async def test_lock_serialises_critical_sections(backend: Backend) -> None:
    kv = create_store(backend.redis_url, prefix=f"test:{uuid.uuid4().hex}:")
    inside, peak = 0, 0

    async def critical() -> None:
        nonlocal inside, peak
        async with kv.lock("section", timeout=5, wait=5):
            inside += 1
            peak = max(peak, inside)
            await asyncio.sleep(0.02)
            inside -= 1

    await asyncio.gather(*(critical() for _ in range(5)))
    assert peak == 1
    await kv.aclose()


async def test_a_renewed_lock_outlives_its_timeout_and_a_dead_holders_lapses(backend: Backend) -> None:
    """Issue 15: owner locks are short (a killed worker frees the owner soon) but renewed while held."""
    kv = create_store(backend.redis_url, prefix=f"test:{uuid.uuid4().hex}:")
    async with kv.lock("owner:a", timeout=0.6, wait=0.1, renew=True):
        await asyncio.sleep(1.5)  # well past the timeout: still ours
        try:
            async with kv.lock("owner:a", timeout=0.6, wait=0.1):
                raise AssertionError("a renewed lock was taken by someone else")
        except TimeoutError:
            pass
    # A holder that stops renewing (as if killed): the lock lapses on its own.
    held = kv.client.lock(kv.key("lock:owner:b"), timeout=0.6)
    assert await held.acquire()
    await asyncio.sleep(0.8)
    async with kv.lock("owner:b", timeout=0.6, wait=0.1):
        pass
    claimed, other = await kv.claim_and_get("c", "d", ttl_seconds=5)
    assert (claimed, other) == (True, None)
    await kv.set("d", "x")
    assert await kv.claim_and_get("c", "d", ttl_seconds=5) == (False, "x")
    assert await kv.get_many("c", "d", "e") == ["1", "x", None]
    await kv.aclose()
