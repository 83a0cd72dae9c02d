"""Issue 18: the owner lock reads the turn's keys in its own round trip, and the turn's view of
Redis answers from that read, on real Redis and in-process (fakeredis runs the same Lua)."""

from __future__ import annotations

import asyncio
import uuid

from storage.kv import create_store
from storage.turn_store import TurnStore
from tests.conftest import Backend


async def test_the_lock_reads_its_keys_when_it_is_taken_not_before_it_waits(backend: Backend) -> None:
    kv = create_store(backend.redis_url, prefix=f"test:{uuid.uuid4().hex}:")
    await kv.set("dialog", '{"flow": "order"}')
    first_inside = asyncio.Event()

    async def first() -> None:
        async with kv.lock("owner:a", timeout=5, wait=5, prefetch=["dialog", "menu"]) as seen:
            assert seen == {"dialog": '{"flow": "order"}', "menu": None}
            first_inside.set()
            await asyncio.sleep(0.3)
            await kv.set("menu", '{"level": "lines"}')  # written while the second one waits

    async def second() -> dict[str, str | None]:
        await first_inside.wait()
        async with kv.lock("owner:a", timeout=5, wait=5, prefetch=["dialog", "menu"]) as seen:
            return seen

    _, seen_by_second = await asyncio.gather(first(), second())
    assert seen_by_second == {"dialog": '{"flow": "order"}', "menu": '{"level": "lines"}'}
    # Without prefetch the lock is redis-py's own and yields nothing.
    async with kv.lock("owner:b", timeout=5, wait=1) as nothing:
        assert nothing == {}
    await kv.aclose()


async def test_a_prefetching_lock_is_still_exclusive_renewed_and_released(backend: Backend) -> None:
    kv = create_store(backend.redis_url, prefix=f"test:{uuid.uuid4().hex}:")
    async with kv.lock("owner:a", timeout=0.6, wait=0.1, renew=True, prefetch=["x"]):
        await asyncio.sleep(1.0)  # past the timeout: renewed, still ours
        try:
            async with kv.lock("owner:a", timeout=0.6, wait=0.1, prefetch=["x"]):
                raise AssertionError("a held lock was taken by someone else")
        except TimeoutError:
            pass
    async with kv.lock("owner:a", timeout=0.6, wait=0.1, prefetch=["x"]) as seen:
        assert seen == {"x": None}  # released on exit: taken again at once
    await kv.aclose()


async def test_the_turn_view_answers_first_reads_and_skips_only_owned_deletes_seen_absent(backend: Backend) -> None:
    kv = create_store(backend.redis_url, prefix=f"test:{uuid.uuid4().hex}:")
    turn = TurnStore(kv, seen={"dialog": None, "menu": None, "streak": "1"}, owned=("menu", "streak"))
    # Another process fills the dialog cache after the lock's read: the turn works on what the lock saw.
    await kv.set("dialog", "filled-by-someone")
    assert await turn.get("dialog") is None
    assert await turn.get_many("menu", "streak") == [None, "1"]
    # A delete of a name that is not the owner's own always reaches Redis.
    await turn.delete("dialog")
    assert await kv.get("dialog") is None
    # The owner's own name, seen absent: no round trip (proved by a value only this test could put there).
    await kv.set("menu", "planted")
    await turn.delete("menu")
    assert await kv.get("menu") == "planted"
    # Once the turn writes a name, reads and deletes of it go to Redis again.
    await turn.set_json("menu", {"level": "lines"}, ttl_seconds=60)
    assert await turn.get_json("menu") == {"level": "lines"}
    await turn.delete("menu")
    assert await kv.get("menu") is None
    # A counter seen present is deleted for real, and counts from Redis after it is incremented.
    assert await turn.incr("streak", ttl_seconds=60) == 1  # Redis had none: the lock's "1" was the turn's view
    await turn.delete("streak")
    assert await kv.get("streak") is None
    await kv.aclose()
