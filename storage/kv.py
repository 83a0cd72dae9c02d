"""The small key-value interface over Redis: a real server when configured, in-process otherwise."""

from __future__ import annotations

import asyncio
import contextlib
import json
import weakref
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.lock import Lock
from redis.commands.core import AsyncScript
from redis.exceptions import LockError, RedisError

_DOWN = (RedisError, OSError)


class CommandCounter:
    """Redis commands this process's own clients sent (issue 18), not the shared server's INFO."""

    count = 0


class _CountingConnection(aioredis.Connection):
    """Every command, alone or in a pipeline, is packed once: count it there."""

    def pack_command(self, *args: Any) -> list[bytes]:
        CommandCounter.count += 1
        return super().pack_command(*args)


# SET NX PX, then (only when taken) GET each further key. A nil inside a Lua table would cut the
# reply short, so an absent key comes back as false, which Redis turns into a nil bulk reply.
_ACQUIRE_AND_READ = """
if not redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {0}
end
local out = {1}
for i = 2, #KEYS do
  out[i] = redis.call('get', KEYS[i]) or false
end
return out
"""


_SCRIPTS: weakref.WeakKeyDictionary[Any, AsyncScript] = weakref.WeakKeyDictionary()


class PrefetchingLock(Lock):
    """redis-py's Lua lock whose acquiring round trip also reads `prefetch` keys (full key names).

    Only `do_acquire` changes, the extension point redis-py gives its subclasses: waiting,
    renewing (`reacquire`) and releasing are the library's own.
    """

    prefetch: tuple[str, ...] = ()
    # What the keys held at the moment the lock was taken (full key name → value or None).
    seen: dict[str, str | None]

    async def do_acquire(self, token: str | bytes) -> bool:
        px = int(self.timeout * 1000) if self.timeout else 0
        if not self.prefetch or not px:  # nothing to read, or no expiry: the library's own SET NX
            self.seen = {}
            return bool(await super().do_acquire(token))
        script = _SCRIPTS.get(self.redis)
        if script is None:  # EVALSHA from then on, as for the flood bucket
            script = _SCRIPTS[self.redis] = self.redis.register_script(_ACQUIRE_AND_READ)
        result = await script(keys=[self.name, *self.prefetch], args=[token, px])
        if not result or not int(result[0]):
            return False
        values = [v.decode() if isinstance(v, bytes) else v for v in result[1:]]
        self.seen = dict(zip(self.prefetch, values, strict=True))
        return True


class StoreUnavailable(RuntimeError):
    """Redis could not be reached; callers degrade instead of failing the owner."""


class KeyValueStore:
    """Namespaced access to Redis: claims (SET NX), JSON values, counters and locks."""

    def __init__(self, client: aioredis.Redis, *, prefix: str = "butler:") -> None:
        self.client = client
        self.prefix = prefix

    def key(self, name: str) -> str:
        """Full key for a logical name."""
        return f"{self.prefix}{name}"

    async def claim(self, name: str, *, ttl_seconds: int, value: str = "1") -> bool:
        """SET NX with a TTL: True for the first caller only, across every process."""
        return bool(await self.client.set(self.key(name), value, nx=True, ex=ttl_seconds))

    async def claim_and_get(self, name: str, other: str, *, ttl_seconds: int) -> tuple[bool, str | None]:
        """`claim(name)` and `get(other)` in one round trip."""
        pipe = self.client.pipeline(transaction=False)
        pipe.set(self.key(name), "1", nx=True, ex=ttl_seconds)
        pipe.get(self.key(other))
        claimed, value = await pipe.execute()
        return bool(claimed), value.decode() if isinstance(value, bytes) else value

    async def claims_and_gets(
        self, claims: list[tuple[str, str, int]], gets: list[str]
    ) -> tuple[list[bool], list[str | None]]:
        """Several (name, value, ttl) claims (SET NX), then several GETs, in one round trip, in order."""
        pipe = self.client.pipeline(transaction=False)
        for name, value, ttl in claims:
            pipe.set(self.key(name), value, nx=True, ex=ttl)
        for name in gets:
            pipe.get(self.key(name))
        results = await pipe.execute()
        claimed = [bool(r) for r in results[: len(claims)]]
        return claimed, [v.decode() if isinstance(v, bytes) else v for v in results[len(claims):]]

    async def get(self, name: str) -> str | None:
        """The string value, or None."""
        value = await self.client.get(self.key(name))
        return value.decode() if isinstance(value, bytes) else value

    async def get_many(self, *names: str) -> list[str | None]:
        """Several string values in one round trip (MGET)."""
        values = await self.client.mget([self.key(n) for n in names])
        return [v.decode() if isinstance(v, bytes) else v for v in values]

    async def set(self, name: str, value: str, *, ttl_seconds: int | None = None) -> None:
        """Store a string, optionally expiring."""
        await self.client.set(self.key(name), value, ex=ttl_seconds)

    async def get_json(self, name: str) -> Any:
        """Decode a JSON value, or None when absent."""
        raw = await self.get(name)
        return None if raw is None else json.loads(raw)

    async def set_json(self, name: str, value: Any, *, ttl_seconds: int | None = None) -> None:
        """Store a JSON value (Chinese kept readable)."""
        await self.set(name, json.dumps(value, ensure_ascii=False), ttl_seconds=ttl_seconds)

    async def delete(self, *names: str) -> None:
        """Remove keys."""
        if names:
            await self.client.delete(*(self.key(n) for n in names))

    async def set_many(self, items: list[tuple[str, str, bool]], *, ttl_seconds: int) -> None:
        """Several (name, value, only_if_absent) SETs in one round trip, in order; not atomic together."""
        pipe = self.client.pipeline(transaction=False)
        for name, value, only_if_absent in items:
            pipe.set(self.key(name), value, ex=ttl_seconds, nx=only_if_absent)
        await pipe.execute()

    async def delete_if_equals(self, name: str, expected: str) -> bool:
        """Compare-and-delete, atomically (so a stale writer can't remove a fresh value)."""
        script = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"
        return bool(await self.client.eval(script, 1, self.key(name), expected))

    async def incr(self, name: str, *, ttl_seconds: int | None = None) -> int:
        """Increment a counter; the TTL is set when the counter is created."""
        pipe = self.client.pipeline()
        pipe.incr(self.key(name))
        if ttl_seconds:
            pipe.expire(self.key(name), ttl_seconds, nx=True)
        result = await pipe.execute()
        return int(result[0])

    @asynccontextmanager
    async def lock(
        self, name: str, *, timeout: float = 30, wait: float = 10, renew: bool = False,
        prefetch: Sequence[str] = (),
    ) -> AsyncIterator[dict[str, str | None]]:
        """A distributed lock (redis-py's Lua lock): held by one process at a time.

        With `renew`, the lock's TTL is reset every timeout/3 while it is held, so a short timeout
        frees the lock soon after a holder dies (kill -9) without expiring under a slow live one.
        Yields the values the `prefetch` names held when the lock was taken, read in the same
        round trip (PrefetchingLock).
        """
        lock = PrefetchingLock(self.client, self.key(f"lock:{name}"), timeout=timeout, blocking_timeout=wait)
        lock.prefetch = tuple(self.key(n) for n in prefetch)
        acquired = await lock.acquire()
        if not acquired:
            raise TimeoutError(f"lock {name} not acquired within {wait}s")
        renewer = asyncio.create_task(self._keep(lock, timeout / 3)) if renew else None
        try:
            yield {n: lock.seen[self.key(n)] for n in prefetch if self.key(n) in lock.seen}
        finally:
            if renewer is not None:
                renewer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await renewer
            with contextlib.suppress(LockError, *_DOWN):  # expired while held; the TTL already freed it
                await lock.release()

    @staticmethod
    async def _keep(lock: Lock, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            try:
                await lock.reacquire()
            except (LockError, *_DOWN):  # lost it, or Redis is down: the TTL decides from here
                return

    async def ping(self) -> None:
        """Raise StoreUnavailable when the server does not answer."""
        try:
            await self.client.ping()
        except Exception as exc:  # redis raises several unrelated types for "down"
            raise StoreUnavailable(str(exc)) from exc

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self.client.aclose()


def create_store(url: str, *, prefix: str = "butler:") -> KeyValueStore:
    """Real Redis for a URL; otherwise fakeredis's async client, which runs the same calls in-process."""
    if url:
        options: dict[str, Any] = {"socket_timeout": 2, "socket_connect_timeout": 2, "health_check_interval": 10}
        if url.startswith("redis://"):  # TLS and unix-socket URLs keep their own connection classes
            options["connection_class"] = _CountingConnection
        client = aioredis.Redis.from_url(url, **options)
    else:
        import fakeredis

        client = fakeredis.FakeAsyncRedis()
    return KeyValueStore(client, prefix=prefix)
